/**
 * The windowed detectors' stage: on an interval, each windowed detector queries the rollups up to the newest
 * event time stored (not the wall clock: a backfill of last week is judged as last week). It runs in the
 * process that owns ClickHouse; with embedded chDB (one process per data directory) that is the writer's.
 * A failed evaluation is logged and counted and tried again on the next interval. Passes further apart in event
 * time than a rollup bucket (a replay at speed, a slow ClickHouse) catch up: each detector is evaluated at every
 * 5-minute boundary it has not been evaluated past, so no bucket goes unjudged.
 */
import type { Store } from '../core/clickhouse';
import type { Logger } from '../core/log';
import type { Stage } from '../core/stage';
import type { Inventory } from '../inventory/inventory';
import type { FindingSink, WindowedDetector } from './detector';
import { FIVE_MIN } from './egress';
import { updateEgressBaseline } from './egress-baseline';
import { findingsTotal, windowedRuns } from './metrics';

/** Catch-up evaluations in one pass, at most: an hour of 5-minute buckets; older ones are given up. */
const MAX_CATCH_UP = 12;

/** The event times to evaluate at after `prev`: the 5-minute boundaries since (the newest MAX_CATCH_UP), then `now`. */
export function passTimes(prev: number | undefined, now: number): number[] {
  if (prev === undefined || now <= prev) return [now];
  const times: number[] = [];
  for (let b = Math.floor(prev / FIVE_MIN) * FIVE_MIN + FIVE_MIN; b < now; b += FIVE_MIN) times.push(b);
  return [...times.slice(-MAX_CATCH_UP), now];
}

export interface WindowedDeps {
  store: Store;
  inventory: () => Inventory | undefined;
  detectors: WindowedDetector[];
  sink: FindingSink;
  log: Logger;
}

export class WindowedDetectors implements Stage {
  readonly name = 'windowed-detectors';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Per detector, the event time it was last evaluated at successfully. */
  private readonly evaluatedAt = new Map<string, number>();
  /** Event time the egress baseline gauge was last set at. */
  private baselineAt = -Infinity;

  constructor(private readonly intervalMs: number, private readonly deps: WindowedDeps) {}

  async start(): Promise<void> {
    const tick = () => {
      this.running = this.evaluate().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  /**
   * The newest event time stored, over the flows received in the last hour. sFlow samples carry no flow time
   * (the collector stamps their arrival), so they set it only where nothing else is collected: a replay or a
   * backfill of other sources must not be judged by the wall clock.
   */
  private async eventNow(): Promise<number | undefined> {
    const { store } = this.deps;
    const [r] = await store.rows<{ t: string; sflow: string }>(
      `SELECT toString(toUnixTimestamp64Milli(maxIf(time_end, source_kind != 'sflow'))) AS t, toString(toUnixTimestamp64Milli(max(time_end))) AS sflow
        FROM ${store.tbl('flows')} WHERE time_received >= now64(3) - INTERVAL 1 HOUR`,
    );
    const t = Number(r?.t ?? 0) || Number(r?.sflow ?? 0);
    return t > 0 ? t : undefined;
  }

  /** One pass of every windowed detector; resolves when their findings are durable. */
  async evaluate(): Promise<void> {
    const inv = this.deps.inventory();
    if (!inv) return;
    let now: number | undefined;
    try {
      now = await this.eventNow();
    } catch (e) {
      this.deps.log.warn({ err: e }, 'windowed detectors: reading the rollups failed; trying again');
      return;
    }
    if (now === undefined) return;
    for (const d of this.deps.detectors) {
      try {
        for (const t of passTimes(this.evaluatedAt.get(d.name), now)) {
          const findings = await d.evaluate(this.deps.store, inv, t);
          for (const f of findings) this.deps.sink.observe(f);
          findingsTotal.inc({ detector: d.name }, findings.length);
          this.evaluatedAt.set(d.name, t);
        }
        windowedRuns.inc({ detector: d.name, result: 'ok' });
      } catch (e) {
        windowedRuns.inc({ detector: d.name, result: 'error' });
        this.deps.log.warn({ err: e, detector: d.name }, 'windowed detector failed; trying again on the next interval');
      }
    }
    try {
      await this.deps.sink.flush(now);
    } catch (e) {
      // Kafka down: the findings come again on the next pass (a window is re-read whole), so nothing is lost.
      this.deps.log.warn({ err: e }, 'windowed detectors: publishing alerts failed; trying again on the next interval');
    }
    // Every 5 minutes of event time; every pass while the rollup has no egress yet.
    if (now - this.baselineAt >= FIVE_MIN || now < this.baselineAt) {
      try {
        if ((await updateEgressBaseline(this.deps.store, inv, now)) > 0) this.baselineAt = now;
      } catch (e) {
        this.deps.log.warn({ err: e }, 'egress baseline: reading the hourly rollup failed; trying again');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
