/**
 * new-destination: a node of a sensitive zone (the weights enclave) sending to a destination absent from its
 * history window. Shared services (DNS, NTP, storage...) are not destinations worth an alert. A node is judged
 * once its own history is `warmupMs` long: on a fresh install every destination is new. Reads the per-minute
 * rollup, restricted to the sensitive zones (few nodes), so a week of history stays cheap.
 */
import type { Store } from '../core/clickhouse';
import type { Inventory } from '../inventory/inventory';
import type { WindowedDetector } from './detector';
import { secs } from './egress';
import type { Finding } from './finding';
import { whereOf } from './sql';

export interface NewDestinationOptions {
  historyMs: number;
  windowMs: number;
  warmupMs: number;
}

export class NewDestination implements WindowedDetector {
  readonly name = 'new-destination' as const;

  constructor(private readonly o: NewDestinationOptions) {}

  async evaluate(store: Store, inv: Inventory, now: number): Promise<Finding[]> {
    const zones = [...inv.sensitiveZones];
    if (zones.length === 0) return [];
    const rows = await store.rows<{ src: string; dst: string; src_zone: string; dst_zone: string; first: string; last: string; src_first: string; flows: string; bytes: string }>(
      // Aliases differ from the columns: an alias named like a column would stand for it in WHERE.
      `SELECT src, dst, from_zone AS src_zone, to_zone AS dst_zone, first, last, src_first, flows, bytes FROM (
          SELECT replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src, replaceRegexpOne(toString(dst_addr), '^::ffff:', '') AS dst,
            any(src_zone) AS from_zone, any(dst_zone) AS to_zone,
            toUnixTimestamp(min(minute)) * 1000 AS first, toUnixTimestamp(max(minute)) * 1000 + 60000 AS last,
            min(min(minute)) OVER (PARTITION BY src) AS src_first_minute, toString(toUnixTimestamp(src_first_minute) * 1000) AS src_first,
            toString(sum(flows)) AS flows, toString(sum(bytes)) AS bytes
          FROM ${store.tbl('flows_1m')}
          WHERE src_zone IN {zones:Array(String)} AND minute >= toDateTime({from:UInt32})
          GROUP BY src, dst)
        WHERE first >= {since:UInt64}`,
      { zones, from: secs(now - this.o.historyMs), since: now - this.o.windowMs },
    );
    const out: Finding[] = [];
    for (const r of rows) {
      if (inv.serviceOf(r.dst) !== undefined || Number(r.first) - Number(r.src_first) < this.o.warmupMs) continue;
      const src = inv.endpointOf(r.src)?.node;
      const dst = inv.endpointOf(r.dst)?.node;
      out.push({
        detector: this.name, severity: 'critical', key: [r.src, r.dst], time: Math.min(Number(r.last), now), first: Number(r.first), last: Math.min(Number(r.last), now),
        flows: Number(r.flows), bytes: Number(r.bytes), counts: 'total',
        summary: `${src ?? r.src} (${r.src_zone}, sensitive) sent to ${dst ?? r.dst} (${r.dst_zone}), a destination it never sent to before`,
        entities: { src_addr: r.src, dst_addr: r.dst, src_zone: r.src_zone, dst_zone: r.dst_zone, ...(src ? { src_node: src } : {}), ...(dst ? { dst_node: dst } : {}) },
        details: { history_ms: this.o.historyMs, source_history_since: Number(r.src_first) },
        where: whereOf({ src_addr: r.src, dst_addr: r.dst }),
      });
    }
    return out;
  }
}
