/**
 * The baseline of eastwatch_egress_bytes_total: each source zone's and namespace's average egress rate over the
 * last 7 days of the hourly rollup (or the part of them it holds), set as a gauge. Prometheus rarely keeps a
 * week of raw series, and a 7-day subquery is heavy; the rollup has the week already.
 */
import type { Store } from '../core/clickhouse';
import type { Inventory } from '../inventory/inventory';
import { HOUR, secs } from './egress';
import { MAX_NAMESPACES } from './egress-meter';
import { egressBaseline } from './metrics';

const WEEK_MS = 7 * 24 * HOUR;

/** Sets the gauge; returns how many series it holds (none until the rollup has egress). */
export async function updateEgressBaseline(store: Store, inv: Inventory, now: number): Promise<number> {
  const from = Math.floor((now - WEEK_MS) / HOUR) * HOUR;
  const rows = await store.rows<{ src_zone: string; src_namespace: string; src: string; bytes: string; oldest: string }>(
    `SELECT src_zone, src_namespace, replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src, toString(sum(bytes)) AS bytes,
        toString(toUnixTimestamp(min(min(hour)) OVER ()) * 1000) AS oldest
      FROM ${store.tbl('egress_1h')}
      WHERE hour >= toDateTime({from:UInt32}) AND hour <= toDateTime({now:UInt32}) AND (via = 'proxy' OR dst_zone = {defaultZone:String})
      GROUP BY src_zone, src_namespace, src`,
    { from: secs(from), now: secs(now), defaultZone: inv.defaultZone },
  );
  const sums = new Map<string, { zone: string; namespace: string; bytes: number }>();
  const namespaces = new Set<string>();
  for (const r of rows) {
    if (inv.isProxy(r.src)) continue; // the proxy's own fetches are its clients' requests, counted from its log
    if (r.src_namespace !== '' && !namespaces.has(r.src_namespace) && namespaces.size < MAX_NAMESPACES) namespaces.add(r.src_namespace);
    const namespace = r.src_namespace === '' || namespaces.has(r.src_namespace) ? r.src_namespace : 'other';
    const k = `${r.src_zone}\0${namespace}`;
    const have = sums.get(k) ?? { zone: r.src_zone, namespace, bytes: 0 };
    have.bytes += Number(r.bytes);
    sums.set(k, have);
  }
  const oldest = rows.length > 0 ? Number(rows[0]!.oldest) : now;
  const seconds = Math.max(HOUR, now - Math.max(from, oldest)) / 1000;
  egressBaseline.reset();
  for (const s of sums.values()) egressBaseline.set({ zone: s.zone, namespace: s.namespace }, s.bytes / seconds);
  return sums.size;
}
