/**
 * The two kinds of detector. A streaming detector judges each flow of the flows topic as it comes (by the
 * flow's own time); a windowed detector queries the ClickHouse rollups on an interval. Both report Findings.
 */
import type { Store } from '../core/clickhouse';
import type { Flow } from '../core/flow';
import type { Inventory } from '../inventory/inventory';
import type { Side } from './context';
import type { DetectorName, Finding } from './finding';

/** One flow with both of its ends resolved (shared by every streaming detector). */
export interface Judged {
  flow: Flow;
  src: Side;
  dst: Side;
  inv: Inventory;
}

export interface StreamingDetector {
  readonly name: DetectorName;
  /** Appends what the flow makes it find (usually nothing) to `out`. */
  judge(j: Judged, out: Finding[]): void;
  /** Forgets state its window no longer needs at event time `now`: bounded memory however long it runs. */
  expire?(now: number): void;
}

export interface WindowedDetector {
  readonly name: DetectorName;
  /** Judges the rollups up to event time `now` (the newest minute stored). */
  evaluate(store: Store, inv: Inventory, now: number): Promise<Finding[]>;
}

/** Where findings go (alerts/ keeps their lifecycle); the composition root hands one to the detector stages. */
export interface FindingSink {
  observe(f: Finding): void;
  /**
   * Makes every finding observed so far durable (its alert on the alerts topic) and ends the episodes gone
   * quiet behind `watermark` (event time). Offsets are committed only after it resolved.
   */
  flush(watermark: number): Promise<void>;
}
