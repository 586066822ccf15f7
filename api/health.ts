/** /healthz and /metrics: one plugin, the probes and scrape target of every eastwatch process. */
import type { FastifyPluginAsync } from 'fastify';
import { registry } from '../core/metrics';

export type HealthCheck = () => Promise<void> | void;

export interface HealthOptions {
  checks: Record<string, HealthCheck>;
}

const healthResponse = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok', 'failing'] },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  app.get('/healthz', {
    schema: { description: 'Liveness and readiness: every stage check passes', response: { 200: healthResponse, 503: healthResponse } },
  }, async (_req, reply) => {
    const checks: Record<string, string> = {};
    let ok = true;
    for (const [name, check] of Object.entries(opts.checks)) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (e) {
        ok = false;
        checks[name] = (e as Error).message;
      }
    }
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'failing', checks });
  });

  app.get('/metrics', {
    schema: { description: 'Prometheus metrics of this process', response: { 200: { type: 'string' } } },
  }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};
