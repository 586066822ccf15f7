/** The webhook retry schedule: exponential steps with bounded jitter, Retry-After honoured, a limit. */
import { retryAfterMs, retryAt } from '../../alerts/webhooks/schedule';

const delays = [1000, 4000, 16000];
const now = Date.parse('2026-12-07T12:00:00Z');

describe('webhook retry schedule', () => {
  it('waits each configured step, within 20% jitter either way', () => {
    for (const [i, d] of delays.entries()) {
      expect(retryAt(delays, i + 1, now, null, () => 0)).toBe(now + d * 0.8);
      expect(retryAt(delays, i + 1, now, null, () => 1)).toBe(now + d * 1.2);
      expect(retryAt(delays, i + 1, now, null, () => 0.5)).toBe(now + d);
    }
  });

  it('gives up once the schedule is spent', () => {
    expect(retryAt(delays, delays.length + 1, now, null)).toBeUndefined();
  });

  it('never retries before the receiver’s Retry-After, in seconds or as an HTTP date', () => {
    expect(retryAt(delays, 1, now, '120', () => 0.5)).toBe(now + 120_000);
    expect(retryAt(delays, 1, now, new Date(now + 300_000).toUTCString(), () => 0.5)).toBe(now + 300_000);
    // A shorter Retry-After does not shorten the schedule's wait.
    expect(retryAt(delays, 3, now, '1', () => 0.5)).toBe(now + 16000);
  });

  it('reads Retry-After defensively: absent, unreadable, past or beyond a day', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(new Date(now - 60_000).toUTCString(), now)).toBe(0);
    expect(retryAfterMs('9999999', now)).toBe(24 * 3600e3);
  });
});
