/** The suppression routes' schemas, from the Suppression record. */
import { z } from 'zod';
import { MAX_DURATION_MS } from '../../alerts/suppression-store';
import { SuppressionSchema } from '../../core/records';
import { address, instant, name } from './common';

export const SuppressionInputSchema = z.strictObject({
  detector: z.string().regex(/^[a-z0-9-]{1,64}$/, 'a detector name: lowercase letters, digits, -'),
  match: z.strictObject({
    src_node: name(253).optional(), src_addr: address.optional(), src_zone: name(64).optional(), src_job: name(128).optional(),
    dst_node: name(253).optional(), dst_addr: address.optional(), dst_zone: name(64).optional(), dst_job: name(128).optional(),
    dst_port: z.number().int().min(0).max(65535).optional(),
  }).describe('The alert fields that must all be equal (at least one)'),
  reason: z.string().min(1).max(4096).describe('Why: kept with it and in the audit trail'),
  expires_at: instant.optional().describe('When it ends'),
  duration_minutes: z.number().int().min(1).max(MAX_DURATION_MS / 60_000).optional().describe('Or how long it lasts from now'),
}).refine((s) => (s.expires_at === undefined) !== (s.duration_minutes === undefined), { message: 'give expires_at or duration_minutes, not both' });

const iso = z.string().describe('ISO 8601, UTC');

export const SuppressionViewSchema = z.object(SuppressionSchema.shape).omit({ created_at: true, expires_at: true, revoked_at: true, updated_at: true }).extend({
  created_at: iso, expires_at: iso, revoked_at: iso.optional(), active: z.boolean().describe('Holding alerts back now'),
});
