/** Schemas the route groups share: names, addresses, times, the audit trail and the error body. */
import { isIP } from 'node:net';
import { z } from 'zod';

/** A name as the inventory and schedulers write them: no control characters, no quotes needed. */
export const name = (max: number) => z.string().min(1).max(max).regex(/^[^\p{Cc}]+$/u, 'control characters are not allowed');

/** A time as ISO 8601 or milliseconds since the epoch. */
export const instant = z.union([z.iso.datetime({ offset: true }), z.string().regex(/^\d{1,15}$/), z.number().int().min(0)])
  .transform((v) => (typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v)))
  .describe('ISO 8601 date-time, or milliseconds since the epoch');

export const address = z.string().max(45).refine((s) => isIP(s) !== 0, 'not an IPv4 or IPv6 address');

/** An entry of an audit trail: who, when, what changed from what to what, why. */
export const AuditViewSchema = z.object({
  time: z.string(), actor: z.string(), actor_role: z.string(), action: z.string(),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })), reason: z.string(),
});

/** Every error response: the status, its name, and what was wrong. */
export const ErrorSchema = z.object({ statusCode: z.number(), error: z.string(), message: z.string() });

const HOUR = 3600e3;
/** The longest window a context query reads. */
export const MAX_WINDOW_MS = 31 * 24 * HOUR;

/** A time window: until defaults to now, since to an hour before until; at most 31 days. */
export const windowShape = {
  since: instant.optional().describe('Start (ISO 8601 or ms); default: an hour before until'),
  until: instant.optional().describe('End (ISO 8601 or ms); default: now'),
};

export function windowOf(q: { since?: number; until?: number }, now = Date.now()): { since: number; until: number } {
  const until = q.until ?? now;
  const since = q.since ?? until - HOUR;
  return { since, until };
}

export const windowValid = (q: { since?: unknown; until?: unknown }) => {
  const { since, until } = windowOf(q as { since?: number; until?: number });
  return since <= until && until - since <= MAX_WINDOW_MS;
};
export const WINDOW_INVALID = { message: 'the window must have since before until and span at most 31 days', path: ['since'] };

export const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt).describe(`Rows at most (up to ${max})`);
