/** Reading the egress rollups (core/migrations/007): shared by the windowed egress detectors. */
import type { Store } from '../core/clickhouse';
import type { Inventory } from '../inventory/inventory';
import { sqlString, whereOf } from './sql';

export const FIVE_MIN = 300_000;
export const HOUR = 3600_000;
export const WEEK = 7 * 24 * HOUR;

/** Seconds since the epoch, as the rollups' DateTime columns bind. */
export const secs = (ms: number) => Math.floor(ms / 1000);

export interface EgressRow {
  src_zone: string;
  src_node: string;
  src_namespace: string;
  src: string;
  destination: string;
  via: 'proxy' | 'direct';
  bytes: number;
  flows: number;
  first: number;
  last: number;
}

/**
 * Egress per source and destination in the 5-minute buckets that start in [from, to): requests through
 * the proxy, and traffic straight to the default zone (from anything but a proxy: the proxy's own fetches
 * are its clients' requests, counted from its log).
 */
export async function egressBySource(store: Store, inv: Inventory, from: number, to: number): Promise<EgressRow[]> {
  const rows = await store.rows<Omit<EgressRow, 'bytes' | 'flows' | 'first' | 'last'> & { bytes: string; flows: string; first: string; last: string }>(
    `SELECT src_zone, src_node, src_namespace, replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src, destination, via,
        toString(sum(bytes)) AS bytes, toString(sum(flows)) AS flows,
        toString(toUnixTimestamp(min(bucket)) * 1000) AS first, toString(toUnixTimestamp(max(bucket)) * 1000 + ${FIVE_MIN}) AS last
      FROM ${store.tbl('egress_5m')}
      WHERE bucket >= toDateTime({from:UInt32}) AND bucket < toDateTime({to:UInt32})
        AND (via = 'proxy' OR dst_zone = {defaultZone:String})
      GROUP BY src_zone, src_node, src_namespace, src, destination, via`,
    { from: secs(from), to: secs(to), defaultZone: inv.defaultZone },
  );
  return rows.filter((r) => !inv.isProxy(r.src)).map((r) => ({ ...r, bytes: Number(r.bytes), flows: Number(r.flows), first: Number(r.first), last: Number(r.last) }));
}

/** Egress that is not to a destination approved for its source zone. */
export const unapproved = (inv: Inventory) => (r: EgressRow) => !inv.approvedEgress(r.src_zone, r.destination);

/** The flows behind an egress row, for the evidence query. */
export function egressWhere(r: Pick<EgressRow, 'src' | 'destination' | 'via'>): string {
  return `${whereOf({ src_addr: r.src })} AND ${r.via === 'proxy' ? `source_kind = 'proxy' AND lower(proxy_host) = ${sqlString(r.destination)}` : whereOf({ dst_addr: r.destination })}`;
}

export const sourceName = (r: Pick<EgressRow, 'src_node' | 'src'>) => r.src_node || r.src;
