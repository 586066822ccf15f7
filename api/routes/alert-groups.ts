/** Alert groups: related alerts (one detector about one source) as one line of the queue, and a group's members. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAlerts, listGroups, MAX_PAGE } from '../../alerts/query';
import { NotFound } from '../../core/error-text';
import type { Store } from '../../core/clickhouse';
import { AlertPageSchema, filterWith, PageSchema, queryOf } from '../schemas/alerts';
import { ErrorSchema } from '../schemas/common';
import { SEVERITIES } from '../../core/records';

const GroupSchema = z.object({
  group_id: z.string(), detector: z.string(), source: z.string().describe('The node, address or zone the group is about'),
  alerts: z.number().int(), open: z.number().int().describe('Members still open'), severity: z.enum(SEVERITIES),
  first_seen: z.string(), last_seen: z.string(), summary: z.string().describe("The latest member's summary"),
});

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };

export const alertGroupRoutes: FastifyPluginAsync<{ store: Store }> = async (plain, { store }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();

  app.get('/alert-groups', {
    config: { role: 'viewer' },
    schema: {
      tags: ['alerts'], summary: 'Related alerts as groups', description: 'The alert filters apply to the members; groups by latest activity',
      querystring: filterWith({ limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100) }),
      response: { 200: z.object({ groups: z.array(GroupSchema) }), ...errors },
    },
  }, async (req) => {
    const { limit, ...filter } = req.query;
    return { groups: await listGroups(store, queryOf(filter), limit) };
  });

  app.get('/alert-groups/:group', {
    config: { role: 'viewer' },
    schema: {
      tags: ['alerts'], summary: 'A group and its members (paged)', params: z.strictObject({ group: z.string().regex(/^[0-9a-f]{16}$/) }),
      querystring: PageSchema, response: { 200: AlertPageSchema.extend({ group: GroupSchema }), ...errors },
    },
  }, async (req) => {
    const [group] = await listGroups(store, { group: [req.params.group] }, 1);
    if (!group) throw new NotFound(`no alert group ${req.params.group}`);
    const { cursor, ...page } = req.query;
    return { group, ...(await listAlerts(store, { group: [req.params.group] }, { ...page, ...(cursor ? { cursor } : {}) })) };
  });
};
