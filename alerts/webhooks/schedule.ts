/** When a failed delivery is tried again: the configured schedule with jitter, never before the receiver's Retry-After. */

/** A Retry-After the receiver asks for is honoured up to a day. */
const MAX_RETRY_AFTER_MS = 24 * 3600e3;
const JITTER = 0.2;

/** Retry-After as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/**
 * The time of the next attempt after `attempts` failed ones, or undefined once the schedule is spent. Each wait
 * is the schedule's with up to 20% jitter either way, so receivers coming back are not hit by every retry at once.
 */
export function retryAt(delays: readonly number[], attempts: number, now: number, retryAfter: string | null, random = Math.random): number | undefined {
  if (attempts > delays.length) return undefined;
  const wait = delays[attempts - 1]! * (1 + JITTER * (2 * random() - 1));
  return now + Math.round(Math.max(wait, retryAfterMs(retryAfter, now) ?? 0));
}
