/**
 * seed-egress-volume: the seed's TrainingDataEgressVolumeSpike as written, on eastwatch's rollups: a zone's
 * egress rate over the last 10 minutes above 1.5 x its average rate over 7 days. It counts every destination,
 * approved or not, and has no seasonality: kept (off by default) to be scored beside egress-spike.
 */
import type { Store } from '../core/clickhouse';
import type { Inventory } from '../inventory/inventory';
import type { WindowedDetector } from './detector';
import { egressBySource, FIVE_MIN, HOUR, secs, sourceName, WEEK } from './egress';
import type { Finding } from './finding';
import { whereOf } from './sql';

const WINDOW = 2 * FIVE_MIN;
const FACTOR = 1.5;

export class SeedEgressVolume implements WindowedDetector {
  readonly name = 'seed-egress-volume' as const;

  async evaluate(store: Store, inv: Inventory, now: number): Promise<Finding[]> {
    const end = Math.floor(now / FIVE_MIN) * FIVE_MIN - FIVE_MIN; // the last complete bucket
    const recent = await egressBySource(store, inv, end - FIVE_MIN, end + FIVE_MIN);
    if (recent.length === 0) return [];
    const history = await store.rows<{ src_zone: string; bytes: string; first: string }>(
      `SELECT src_zone, toString(sum(bytes)) AS bytes, toString(toUnixTimestamp(min(hour)) * 1000) AS first FROM ${store.tbl('egress_1h')}
        WHERE hour >= toDateTime({from:UInt32}) AND hour < toDateTime({to:UInt32}) AND (via = 'proxy' OR dst_zone = {defaultZone:String})
          AND NOT has({proxies:Array(String)}, replaceRegexpOne(toString(src_addr), '^::ffff:', ''))
        GROUP BY src_zone`,
      { from: secs(end - WEEK), to: secs(end - WINDOW), defaultZone: inv.defaultZone, proxies: [...new Set(recent.map((r) => r.src).filter((s) => inv.isProxy(s)))] },
    );
    const out: Finding[] = [];
    for (const h of history) {
      const span = end - WINDOW - Number(h.first);
      if (span < HOUR) continue; // an average of less than an hour is no average
      const avgRate = Number(h.bytes) / span;
      const rows = recent.filter((r) => r.src_zone === h.src_zone);
      const bytes = rows.reduce((s, r) => s + r.bytes, 0);
      if (bytes / (WINDOW) <= FACTOR * avgRate) continue;
      const top = rows.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      out.push({
        detector: this.name, severity: 'warning', key: [h.src_zone], time: end + FIVE_MIN, first: end - FIVE_MIN, last: end + FIVE_MIN,
        flows: 1, bytes, counts: 'total',
        summary: `zone ${h.src_zone}'s egress over 10 minutes is ${(bytes / WINDOW / avgRate).toFixed(1)}x its 7-day average; most of it ${sourceName(top)} to ${top.destination}`,
        entities: { src_zone: h.src_zone, src_addr: top.src, ...(top.src_node ? { src_node: top.src_node } : {}) },
        details: { observed_bytes_per_s: (bytes / WINDOW) * 1000, average_bytes_per_s: avgRate * 1000, factor: FACTOR },
        where: whereOf({ src_zone: h.src_zone }),
      });
    }
    return out;
  }
}
