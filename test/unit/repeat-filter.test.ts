/** kafkajs' connection errors while a broker is down: one line per message and window, with the repeats counted. */
import { RepeatFilter } from '../../core/kafka';

describe('RepeatFilter', () => {
  it('admits a message once per window and reports how often it held it back', () => {
    const f = new RepeatFilter(10_000);
    expect(f.admit('Connection error', 0)).toBe(0);
    expect(f.admit('Connection error', 1000)).toBeUndefined();
    expect(f.admit('Connection error', 9999)).toBeUndefined();
    expect(f.admit('other', 5000)).toBe(0);
    expect(f.admit('Connection error', 10_000)).toBe(2);
    expect(f.admit('Connection error', 10_001)).toBeUndefined();
  });

  it('stays bounded however many different messages arrive', () => {
    const f = new RepeatFilter(10_000, 100);
    for (let i = 0; i < 10_000; i++) f.admit(`message ${i}`, i);
    expect((f as unknown as { seen: Map<string, unknown> }).seen.size).toBeLessThanOrEqual(100);
  });
});
