/** The HTTP server of an eastwatch process: fastify, one plugin per route group. */
import Fastify, { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from '../core/config';
import type { Logger } from '../core/log';
import { HealthCheck, healthRoutes } from './health';

export async function startHttp(cfg: Config, log: Logger, checks: Record<string, HealthCheck>): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: log.child({ stage: 'http' }) as FastifyBaseLogger });
  // Probes and scrapes arrive every few seconds: log their requests only when they fail.
  await app.register(healthRoutes, { checks, logLevel: 'warn' });
  await app.listen({ host: cfg.http.host, port: cfg.http.port });
  return app;
}
