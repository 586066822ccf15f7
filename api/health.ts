/** /healthz and /metrics: one plugin, the probes and scrape target of every eastwatch process. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registry } from '../core/metrics';
import type { HealthReport } from '../core/stage';

export interface HealthOptions {
  /** Every stage of the process, ok or why not. */
  report(): Promise<HealthReport>;
}

const healthResponse = z.object({ status: z.enum(['ok', 'failing']), stages: z.record(z.string(), z.string()) });

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (plain, opts) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  app.get('/healthz', {
    config: { rateLimit: false },
    schema: { tags: ['operations'], description: 'Liveness and readiness: every stage of the process is ready', response: { 200: healthResponse, 503: healthResponse } },
  }, async (_req, reply) => {
    const report = await opts.report();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });

  app.get('/metrics', {
    config: { rateLimit: false },
    schema: { tags: ['operations'], description: 'Prometheus metrics of this process', response: { 200: z.string() } },
  }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};
