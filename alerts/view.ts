/** An alert as the CLI and the API show it: the record with times in ISO 8601, evidence parsed, its group and triage. */
import { z } from 'zod';
import { ALERT_STATUSES, AlertSchema, CLOSE_REASONS } from '../core/records';

const iso = z.string().describe('ISO 8601, UTC');

/** An alert on the wire: the record with times in ISO 8601, evidence parsed, and its triage. */
export const AlertViewSchema = z.object(AlertSchema.shape).omit({ evidence: true, time: true, first_seen: true, last_seen: true, raised_at: true, updated_at: true }).extend({
  time: iso, first_seen: iso, last_seen: iso, raised_at: iso, updated_at: iso,
  evidence: z.record(z.string(), z.unknown()).describe('Top flows, observed and baseline values, expected edges'),
  group_id: z.string().describe('The group of related alerts it belongs to'),
  status: z.enum(ALERT_STATUSES),
  close_reason: z.enum(CLOSE_REASONS).optional(),
  assignee: z.string().optional(),
  tags: z.array(z.string()),
  triaged_by: z.string().optional(),
  triaged_at: iso.optional(),
});

export type AlertView = z.infer<typeof AlertViewSchema>;
