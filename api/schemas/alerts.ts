/**
 * The alert routes' schemas, derived from the record schemas: what a filter accepts, what an alert looks like
 * on the wire, what a triage change may say. Validation, types and the OpenAPI document all come from these.
 */
import { z } from 'zod';
import { ALERT_SORTS, type AlertQuery, MAX_PAGE } from '../../alerts/query';
import { EXPORT_FORMATS } from '../../alerts/export';
import { AlertViewSchema } from '../../alerts/view';
import { address, AuditViewSchema, instant, name } from './common';
import { ALERT_STATES, ALERT_STATUSES, CLOSE_REASONS, SEVERITIES, tag } from '../../core/records';

/** One value, repeated parameters or a comma-separated list; at most 100 values. */
const list = <T extends z.ZodType<string, string>>(item: T, what: string) => z.union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(item).max(100))
  .optional()
  .describe(`${what}: one value, the parameter repeated, or a comma-separated list (any of them matches)`);

const filterShape = {
  detector: list(z.string().regex(/^[a-z0-9-]{1,64}$/, 'a detector name: lowercase letters, digits, -'), 'Detectors'),
  severity: list(z.enum(SEVERITIES), 'Severities'),
  state: list(z.enum(ALERT_STATES), "The detector's states: firing, ended"),
  status: list(z.enum(ALERT_STATUSES), 'Triage statuses'),
  zone: list(name(64), 'Zones, on either side'),
  job: list(name(128), 'Jobs, on either side'),
  node: list(name(253), 'Nodes, on either side'),
  address: list(address, 'Addresses, on either side'),
  group: list(z.string().regex(/^[0-9a-f]{16}$/, 'a group id: 16 hex digits'), 'Alert groups'),
  tag: list(tag(), 'Tags an alert must all bear'),
  assignee: name(253).optional().describe('Assigned to'),
  since: instant.optional().describe('Raised (by the traffic\'s event time) at or after: ISO 8601 or ms'),
  until: instant.optional().describe('Raised at or before: ISO 8601 or ms'),
  q: z.string().min(1).max(200).optional().describe('Text the summary contains, case-insensitive'),
};

const ordered = (f: { since?: unknown; until?: unknown }) => f.since === undefined || f.until === undefined || Number(f.since) <= Number(f.until);
const SINCE_AFTER_UNTIL = { message: 'since is after until', path: ['since'] };

/** The filters of the alert list; a bulk change by filter takes the same object and touches exactly what it lists. */
export const AlertFilterSchema = z.strictObject(filterShape).refine(ordered, SINCE_AFTER_UNTIL);

/** The filters with more parameters beside them (paging, a limit). */
export const filterWith = <S extends z.ZodRawShape>(extra: S) => z.strictObject({ ...filterShape, ...extra }).refine(ordered, SINCE_AFTER_UNTIL);

export type AlertFilter = z.infer<typeof AlertFilterSchema>;

/** The domain query of a validated filter (lists left out when empty). */
export function queryOf(f: AlertFilter): AlertQuery {
  const q: AlertQuery = {};
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    (q as Record<string, unknown>)[k] = v;
  }
  return q;
}

export const PageSchema = z.strictObject({
  sort: z.enum(ALERT_SORTS).default('-time').describe('Sort key; - for descending'),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100).describe(`Alerts per page, at most ${MAX_PAGE}`),
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, 'a cursor from next_cursor').optional().describe('next_cursor of the previous page'),
});

/** ocsf: OCSF Detection Finding events; ecs: Elastic Common Schema documents; eastwatch (default): its own view. */
const format = z.enum(EXPORT_FORMATS).default('eastwatch').describe('eastwatch (this API\'s view), ocsf (OCSF 1.8 Detection Finding, class 2004) or ecs (Elastic Common Schema, event.kind alert)');

export const AlertListQuerySchema = filterWith({ ...PageSchema.shape, format });

export const FormatQuerySchema = z.strictObject({ format });

/** A page of alerts exported in a SIEM's format. */
export const ExportPageSchema = z.object({
  format: z.enum(['ocsf', 'ecs']), events: z.array(z.record(z.string(), z.unknown())), next_cursor: z.string().optional().describe('Absent on the last page'),
});

export const AlertDetailSchema = AlertViewSchema.extend({ audit: z.array(AuditViewSchema).describe('Every triage change and note, oldest first') });

export const AlertPageSchema = z.object({ alerts: z.array(AlertViewSchema), next_cursor: z.string().optional().describe('Absent on the last page') });

export const TriageChangeSchema = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional(),
  close_reason: z.enum(CLOSE_REASONS).optional().describe('Required when closing'),
  assignee: name(253).nullable().optional().describe('null unassigns'),
  add_tags: z.array(tag()).max(32).optional(),
  remove_tags: z.array(tag()).max(32).optional(),
  reason: z.string().max(4096).optional().describe('Why: kept in the audit trail'),
}).refine((c) => Object.keys(c).some((k) => k !== 'reason'), { message: 'nothing to change: give status, close_reason, assignee, add_tags or remove_tags' });

export const BulkSchema = z.strictObject({
  ids: z.array(z.uuid()).min(1).max(MAX_PAGE).optional().describe('The alerts to change'),
  filter: AlertFilterSchema.optional().describe('Or every alert the list route shows for this filter'),
  change: TriageChangeSchema,
}).refine((b) => (b.ids === undefined) !== (b.filter === undefined), { message: 'give ids or filter, not both' });

export const IdParamsSchema = z.strictObject({ id: z.uuid() });

