/** /healthz and /metrics: one plugin, the probes and scrape target of every eastwatch process. */
import type { FastifyPluginAsync } from 'fastify';
import { registry } from '../core/metrics';
import type { HealthReport } from '../core/stage';

export interface HealthOptions {
  /** Every stage of the process, ok or why not. */
  report(): Promise<HealthReport>;
}

const healthResponse = {
  type: 'object',
  required: ['status', 'stages'],
  properties: {
    status: { type: 'string', enum: ['ok', 'failing'] },
    stages: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  app.get('/healthz', {
    schema: { description: 'Liveness and readiness: every stage of the process is ready', response: { 200: healthResponse, 503: healthResponse } },
  }, async (_req, reply) => {
    const report = await opts.report();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });

  app.get('/metrics', {
    schema: { description: 'Prometheus metrics of this process', response: { 200: { type: 'string' } } },
  }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};
