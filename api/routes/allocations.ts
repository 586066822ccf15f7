/** Allocation events pushed by schedulers' hooks: validated whole, then on the allocations topic, audited. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AllocationEvent, AllocationEventSchema } from '../../allocations/event';
import { validateEvents } from '../../allocations/publish';
import { recordAudit } from '../../core/audit';
import { compressHostlist } from '../../inventory/hostlist';
import { principalOf } from '../auth';
import type { ApiDeps } from '../server';
import { ErrorSchema } from '../schemas/common';

/** The event's nodes as one hostlist, clipped: an audit entry stays small however large the job. */
function nodesOf(e: AllocationEvent): string | null {
  if (e.nodes === undefined) return null;
  const list = typeof e.nodes === 'string' ? e.nodes : compressHostlist(e.nodes);
  return list.length > 1024 ? `${list.slice(0, 1023)}…` : list;
}

export const allocationRoutes: FastifyPluginAsync<ApiDeps> = async (plain, { store, publish }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();

  app.post('/allocations', {
    config: { role: 'admin' },
    schema: {
      tags: ['allocations'], summary: 'Push allocation events',
      description: 'Each event says a job holds nodes (a hostlist or names) or pods from start, until end when given; a later event for the same job supersedes. All are validated before any is published',
      body: z.strictObject({ events: z.array(AllocationEventSchema).min(1).max(1000) }),
      response: { 202: z.object({ published: z.number().int() }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req, reply) => {
    const events = validateEvents(req.body.events);
    await publish('allocations', events.map((e) => ({ key: e.job_id, value: Buffer.from(JSON.stringify(e)) })));
    await recordAudit(store, principalOf(req), events.map((e) => ({
      action: 'allocation.push', target_kind: 'allocation' as const, target: e.job_id,
      changes: {
        nodes: { from: null, to: nodesOf(e) }, pods: { from: null, to: e.pods?.length ?? 0 }, pattern: { from: null, to: e.pattern },
        start: { from: null, to: new Date(e.start).toISOString() }, end: { from: null, to: e.end == null ? null : new Date(e.end).toISOString() },
      },
    })));
    return reply.code(202).send({ published: events.length });
  });
};
