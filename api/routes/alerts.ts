/** Alerts: the SOC queue (filters, sorting, cursor pages), one alert with its evidence and audit trail, triage. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getAlert, listAlerts, matchingIds } from '../../alerts/query';
import { exportAlert } from '../../alerts/export';
import { addNote, triage } from '../../alerts/triage';
import { auditOf } from '../../core/audit';
import type { Store } from '../../core/clickhouse';
import { principalOf } from '../auth';
import {
  AlertDetailSchema, AlertListQuerySchema, AlertPageSchema, BulkSchema, ExportPageSchema, FormatQuerySchema, IdParamsSchema, queryOf, TriageChangeSchema,
} from '../schemas/alerts';
import { ErrorSchema, limit } from '../schemas/common';
import { alertFlows, MAX_OFFSET } from '../queries/evidence';

export interface AlertRoutesOptions {
  store: Store;
}

/** A bulk change by filter touches at most this many alerts; past it, the filter must be narrowed. */
const BULK_CAP = 10_000;

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };

export const alertRoutes: FastifyPluginAsync<AlertRoutesOptions> = async (plain, { store }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();

  const detail = async (id: string) => ({ ...(await getAlert(store, id)), audit: (await auditOf(store, 'alert', [id])).get(id)! });

  app.get('/alerts', {
    config: { role: 'viewer' },
    schema: {
      tags: ['alerts'], summary: 'List alerts', description: 'Filters combine; a page ends with next_cursor when there is more; format=ocsf or ecs exports the page for a SIEM',
      querystring: AlertListQuerySchema, response: { 200: z.union([AlertPageSchema, ExportPageSchema]), ...errors },
    },
  }, async (req) => {
    const { sort, limit, cursor, format, ...filter } = req.query;
    const page = await listAlerts(store, queryOf(filter), { sort, limit, ...(cursor ? { cursor } : {}) });
    if (format === 'eastwatch') return page;
    return { format, events: page.alerts.map((a) => exportAlert(a, format)), ...(page.next_cursor ? { next_cursor: page.next_cursor } : {}) };
  });

  app.get('/alerts/:id', {
    config: { role: 'viewer' },
    schema: {
      tags: ['alerts'], summary: 'One alert with its evidence and audit trail (or, with format, as a SIEM event)',
      params: IdParamsSchema, querystring: FormatQuerySchema, response: { 200: z.union([AlertDetailSchema, z.record(z.string(), z.unknown())]), ...errors },
    },
  }, async (req) => {
    const { format } = req.query;
    if (format === 'eastwatch') return detail(req.params.id);
    return exportAlert(await getAlert(store, req.params.id), format);
  });

  app.get('/alerts/:id/flows', {
    config: { role: 'viewer' },
    schema: {
      tags: ['alerts'], summary: 'The flows behind an alert, by event time (paged)',
      description: `Flows between its ends (and on its port) within its episode, a minute of slack each side; at most ${MAX_OFFSET} deep`,
      params: IdParamsSchema,
      querystring: z.strictObject({ limit: limit(1000, 100), cursor: z.string().max(16).optional().describe('next_cursor of the previous page') }),
      response: { 200: z.object({ flows: z.array(z.record(z.string(), z.union([z.string(), z.number()]))), next_cursor: z.string().optional() }), ...errors },
    },
  }, async (req) => alertFlows(store, await getAlert(store, req.params.id), req.query.limit, req.query.cursor));

  app.patch('/alerts/:id', {
    config: { role: 'analyst' },
    schema: {
      tags: ['triage'], summary: 'Triage an alert', description: 'Status (closing takes a close_reason; reopening clears it), assignee, tags; audited with the reason',
      params: IdParamsSchema, body: TriageChangeSchema, response: { 200: AlertDetailSchema, ...errors },
    },
  }, async (req) => {
    await triage(store, [req.params.id], req.body, principalOf(req));
    return detail(req.params.id);
  });

  app.post('/alerts/:id/notes', {
    config: { role: 'analyst' },
    schema: {
      tags: ['triage'], summary: 'Add a note to an alert', params: IdParamsSchema, body: z.strictObject({ text: z.string().min(1).max(4096) }),
      response: { 201: AlertDetailSchema, ...errors },
    },
  }, async (req, reply) => {
    await addNote(store, req.params.id, req.body.text, principalOf(req));
    return reply.code(201).send(await detail(req.params.id));
  });

  app.post('/alerts/bulk', {
    config: { role: 'analyst' },
    schema: {
      tags: ['triage'], summary: 'Triage many alerts', description: `By ids, or by a filter: exactly the alerts the list shows for it (at most ${BULK_CAP}); all or none change`,
      body: BulkSchema, response: { 200: z.object({ matched: z.number().int(), changed: z.number().int() }), ...errors },
    },
  }, async (req) => {
    const ids = req.body.ids ?? await matchingIds(store, queryOf(req.body.filter!), BULK_CAP);
    const changed = ids.length === 0 ? [] : await triage(store, ids, req.body.change, principalOf(req));
    return { matched: ids.length, changed: changed.length };
  });
};
