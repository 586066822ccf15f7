/** Suppressions: an analyst holds back a detector's alerts about given entities until an expiry, audited. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createSuppression, getSuppression, listSuppressions, revokeSuppression, viewOf } from '../../alerts/suppression-store';
import { auditOf } from '../../core/audit';
import { principalOf } from '../auth';
import type { ApiDeps } from '../server';
import { AuditViewSchema, ErrorSchema } from '../schemas/common';
import { SuppressionInputSchema, SuppressionViewSchema } from '../schemas/suppressions';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const Params = z.strictObject({ id: z.uuid() });
const Detail = SuppressionViewSchema.extend({ audit: z.array(AuditViewSchema) });

export const suppressionRoutes: FastifyPluginAsync<ApiDeps> = async (plain, { store, publish }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  const detail = async (id: string) => ({ ...viewOf(await getSuppression(store, id), Date.now()), audit: (await auditOf(store, 'suppression', [id])).get(id)! });

  app.get('/suppressions', {
    config: { role: 'viewer' },
    schema: {
      tags: ['suppressions'], summary: 'List suppressions, newest first',
      querystring: z.strictObject({ active: z.enum(['true', 'false']).optional().describe('Only those holding alerts back now, or only the others'), detector: z.string().regex(/^[a-z0-9-]{1,64}$/).optional() }),
      response: { 200: z.object({ suppressions: z.array(SuppressionViewSchema) }), ...errors },
    },
  }, async (req) => {
    const now = Date.now();
    const active = req.query.active === undefined ? undefined : req.query.active === 'true';
    const list = await listSuppressions(store, { ...(active !== undefined ? { active } : {}), ...(req.query.detector ? { detector: req.query.detector } : {}) }, now);
    return { suppressions: list.map((s) => viewOf(s, now)) };
  });

  app.get('/suppressions/:id', {
    config: { role: 'viewer' },
    schema: { tags: ['suppressions'], summary: 'One suppression with its audit trail', params: Params, response: { 200: Detail, ...errors } },
  }, async (req) => detail(req.params.id));

  app.post('/suppressions', {
    config: { role: 'analyst' },
    schema: {
      tags: ['suppressions'], summary: 'Suppress a detector\'s alerts about some entities until an expiry',
      description: 'The detectors hold back new alerts that match (every given field equal) until it expires or is revoked; alerts already raised stay',
      body: SuppressionInputSchema, response: { 201: Detail, ...errors },
    },
  }, async (req, reply) => {
    const { detector, match, reason, expires_at, duration_minutes } = req.body;
    const now = Date.now();
    const s = await createSuppression(store, publish, { detector, match, reason, expires_at: expires_at ?? now + duration_minutes! * 60_000 }, principalOf(req), now);
    return reply.code(201).send(await detail(s.suppression_id));
  });

  app.post('/suppressions/:id/revoke', {
    config: { role: 'analyst' },
    schema: {
      tags: ['suppressions'], summary: 'End a suppression now', params: Params,
      body: z.strictObject({ reason: z.string().min(1).max(4096) }), response: { 200: Detail, ...errors },
    },
  }, async (req) => {
    await revokeSuppression(store, publish, req.params.id, req.body.reason, principalOf(req));
    return detail(req.params.id);
  });
};

