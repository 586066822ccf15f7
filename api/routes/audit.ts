/** The audit trail across everything: who changed what, when and why (admins). */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAudit } from '../../core/audit';
import { AUDIT_TARGETS } from '../../core/records';
import type { ApiDeps } from '../server';
import { AuditViewSchema, ErrorSchema, instant, limit, name } from '../schemas/common';

export const auditRoutes: FastifyPluginAsync<ApiDeps> = async (plain, { store }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  app.get('/audit', {
    config: { role: 'admin' },
    schema: {
      tags: ['audit'], summary: 'The audit trail, newest first',
      querystring: z.strictObject({
        target_kind: z.enum(AUDIT_TARGETS).optional(), target: name(253).optional(), actor: name(253).optional(),
        since: instant.optional(), until: instant.optional(), limit: limit(1000, 100),
      }),
      response: { 200: z.object({ entries: z.array(AuditViewSchema.extend({ target_kind: z.string(), target: z.string() })) }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    const { limit: n, ...q } = req.query;
    return { entries: await listAudit(store, q, n) };
  });
};
