/**
 * The windowed detectors' stage catching up: passes far apart in event time (a replay at speed, a slow
 * ClickHouse) evaluate each detector at every 5-minute boundary in between, so no rollup bucket goes unjudged;
 * a failed detector is evaluated again from where it last succeeded. The store and detector are stand-ins:
 * what is under test is the stage's choice of times.
 */
import type { Store } from '../../core/clickhouse';
import type { Logger } from '../../core/log';
import type { Inventory } from '../../inventory/inventory';
import type { WindowedDetector } from '../../detectors/detector';
import { passTimes, WindowedDetectors } from '../../detectors/windowed';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

describe('passTimes', () => {
  it('is now alone on the first pass and when no newer event came', () => {
    expect(passTimes(undefined, T0)).toEqual([T0]);
    expect(passTimes(T0, T0)).toEqual([T0]);
  });

  it('is every 5-minute boundary after the previous time, then now', () => {
    expect(passTimes(T0 + 30_000, T0 + 17 * MIN)).toEqual([T0 + 5 * MIN, T0 + 10 * MIN, T0 + 15 * MIN, T0 + 17 * MIN]);
    expect(passTimes(T0 + MIN, T0 + 2 * MIN)).toEqual([T0 + 2 * MIN]);
  });

  it('gives up buckets older than an hour behind', () => {
    const times = passTimes(T0, T0 + 6 * 60 * MIN + MIN);
    expect(times).toHaveLength(13);
    expect([times[0], times[11], times[12]]).toEqual([T0 + 305 * MIN, T0 + 360 * MIN, T0 + 361 * MIN]);
  });
});

describe('the windowed stage', () => {
  it('evaluates every detector at each boundary between two passes, and a failed one again from where it failed', async () => {
    let now = T0;
    const store = { tbl: (n: string) => n, rows: async () => [{ t: String(now) }] } as unknown as Store;
    const seen: Record<string, number[]> = { steady: [], flaky: [] };
    let fail = false;
    const detector = (name: string): WindowedDetector => ({
      name: name as WindowedDetector['name'],
      evaluate: async (_s, _i, t) => {
        if (name === 'flaky' && fail) throw new Error('ClickHouse went away');
        seen[name]!.push(t);
        return [];
      },
    });
    const inv = {} as Inventory; // the stand-in detectors read nothing of it
    const stage = new WindowedDetectors(15_000, {
      store, inventory: () => inv, detectors: [detector('steady'), detector('flaky')], sink: { observe() {}, flush: async () => {} }, log: silent,
    });
    await stage.evaluate();
    now = T0 + 12 * MIN;
    fail = true;
    await stage.evaluate();
    now = T0 + 16 * MIN;
    fail = false;
    await stage.evaluate();
    expect(seen.steady).toEqual([T0, T0 + 5 * MIN, T0 + 10 * MIN, T0 + 12 * MIN, T0 + 15 * MIN, T0 + 16 * MIN]);
    expect(seen.flaky).toEqual([T0, T0 + 5 * MIN, T0 + 10 * MIN, T0 + 15 * MIN, T0 + 16 * MIN]);
  });

  it('survives alerts it cannot publish (Kafka down): the pass resolves, to be tried again', async () => {
    const store = { tbl: (n: string) => n, rows: async () => [{ t: String(T0) }] } as unknown as Store;
    const stage = new WindowedDetectors(15_000, {
      store, inventory: () => ({}) as Inventory, detectors: [], sink: { observe() {}, flush: async () => { throw new Error('broker down'); } }, log: silent,
    });
    await expect(stage.evaluate()).resolves.toBeUndefined();
  });
});
