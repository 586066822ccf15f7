/**
 * Context around an alert, from the rollups: a node's or a job's timeline (who it talked to, when, how much,
 * in which zone), the top talkers and the zone-pair matrix of a window, a node's allocation history. Every
 * query is bounded by its time window and a row limit, and reads key ranges of the rollups, not raw flows.
 */
import { canonicalAddr } from '../../alerts/view';
import type { Store } from '../../core/clickhouse';

export interface Window {
  since: number;
  until: number;
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();
const WINDOW = 'bucket >= toStartOfFiveMinutes(fromUnixTimestamp64Milli({since:Int64})) AND bucket <= fromUnixTimestamp64Milli({until:Int64})';

export interface TimelineRow {
  bucket: string;
  node?: string;
  dir: 'out' | 'in';
  peer: string;
  peer_node?: string;
  peer_zone: string;
  peer_job?: string;
  port: number;
  protocol: number;
  flows: number;
  bytes: number;
}

function timelineRow(r: Record<string, string>): TimelineRow {
  return {
    bucket: iso(r.bucket_ms!), ...(r.node ? { node: r.node } : {}), dir: r.dir as 'out' | 'in', peer: r.peer_node || canonicalAddr(r.peer_addr!),
    ...(r.peer_node ? { peer_node: r.peer_node } : {}), peer_zone: r.peer_zone!, ...(r.peer_job ? { peer_job: r.peer_job } : {}),
    port: Number(r.port), protocol: Number(r.protocol), flows: Number(r.flows), bytes: Number(r.bytes),
  };
}

/** A node's traffic per 5 minutes, each peer and port a row, in time order (the biggest first within a bucket). */
export async function nodeTimeline(store: Store, node: string, w: Window, limit: number): Promise<TimelineRow[]> {
  const rows = await store.rows<Record<string, string>>(
    `SELECT toUnixTimestamp(bucket) * 1000 AS bucket_ms, dir, peer_node, any(peer) AS peer_addr, any(peer_zone) AS peer_zone, any(peer_job) AS peer_job, port, protocol,
        sum(flows) AS flows, sum(bytes) AS bytes
      FROM ${store.tbl('node_peers_5m')} WHERE node = {node:String} AND ${WINDOW}
      GROUP BY bucket, dir, peer_node, if(peer_node = '', peer, toIPv6('::')), port, protocol
      ORDER BY bucket, bytes DESC, flows DESC LIMIT {limit:UInt32}`,
    { node, ...w, limit },
  );
  return rows.map(timelineRow);
}

/** A job's traffic: its nodes' rows while they held the job; peers of another job (or none) are the ones to read. */
export async function jobTimeline(store: Store, job: string, w: Window, limit: number): Promise<TimelineRow[]> {
  const rows = await store.rows<Record<string, string>>(
    `SELECT toUnixTimestamp(bucket) * 1000 AS bucket_ms, node, dir, peer_node, any(peer) AS peer_addr, any(peer_zone) AS peer_zone, any(peer_job) AS peer_job, port, protocol,
        sum(flows) AS flows, sum(bytes) AS bytes
      FROM ${store.tbl('node_peers_5m')} WHERE job = {job:String} AND ${WINDOW}
      GROUP BY bucket, node, dir, peer_node, if(peer_node = '', peer, toIPv6('::')), port, protocol
      ORDER BY bucket, bytes DESC, flows DESC LIMIT {limit:UInt32}`,
    { job, ...w, limit },
  );
  return rows.map(timelineRow);
}

export const TALKER_KEYS = ['node', 'zone', 'job'] as const;

export interface Talker {
  key: string;
  zone?: string;
  bytes: number;
  flows: number;
  peers: number;
}

/** The biggest senders of a window by node, zone or job, with how many distinct peers each reached. */
export async function topTalkers(store: Store, by: (typeof TALKER_KEYS)[number], w: Window, limit: number): Promise<Talker[]> {
  const zone = by === 'node' ? ', any(zone) AS zone' : '';
  const rows = await store.rows<Record<string, string>>(
    `SELECT ${by} AS key${zone}, sum(bytes) AS bytes, sum(flows) AS flows, uniqExact(peer) AS peers
      FROM ${store.tbl('node_peers_5m')} WHERE dir = 'out' AND ${WINDOW} AND ${by} != ''
      GROUP BY key ORDER BY bytes DESC, flows DESC, key LIMIT {limit:UInt32}`,
    { ...w, limit },
  );
  return rows.map((r) => ({ key: canonicalAddr(r.key!), ...(r.zone ? { zone: r.zone } : {}), bytes: Number(r.bytes), flows: Number(r.flows), peers: Number(r.peers) }));
}

export interface ZonePair {
  src_zone: string;
  dst_zone: string;
  bytes: number;
  flows: number;
}

/** Traffic between every pair of zones in a window (the per-minute rollup). */
export async function zoneMatrix(store: Store, w: Window): Promise<ZonePair[]> {
  const rows = await store.rows<Record<string, string>>(
    `SELECT src_zone, dst_zone, sum(bytes) AS bytes, sum(flows) AS flows FROM ${store.tbl('flows_1m')}
      WHERE minute >= toStartOfMinute(fromUnixTimestamp64Milli({since:Int64})) AND minute <= fromUnixTimestamp64Milli({until:Int64})
      GROUP BY src_zone, dst_zone ORDER BY bytes DESC, flows DESC LIMIT 10000`,
    { ...w },
  );
  return rows.map((r) => ({ src_zone: r.src_zone!, dst_zone: r.dst_zone!, bytes: Number(r.bytes), flows: Number(r.flows) }));
}

export interface AllocationSpan {
  job_id: string;
  pod?: string;
  start: string;
  end?: string;
  pattern: string;
  source: string;
}

/** The jobs a node held, overlapping the window, oldest first. */
export async function allocationHistory(store: Store, node: string, w: Window, limit: number): Promise<AllocationSpan[]> {
  const rows = await store.rows<Record<string, string | null>>(
    `SELECT job_id, pod, toUnixTimestamp64Milli(start) AS start_ms, toUnixTimestamp64Milli(end) AS end_ms, pattern, source
      FROM ${store.tbl('allocations')} FINAL
      WHERE node = {node:String} AND start <= fromUnixTimestamp64Milli({until:Int64}) AND (end IS NULL OR end >= fromUnixTimestamp64Milli({since:Int64}))
      ORDER BY start, job_id LIMIT {limit:UInt32}`,
    { node, ...w, limit },
  );
  return rows.map((r) => ({
    job_id: r.job_id!, ...(r.pod ? { pod: r.pod } : {}), start: iso(r.start_ms!), ...(r.end_ms !== null ? { end: iso(r.end_ms!) } : {}), pattern: r.pattern!, source: r.source!,
  }));
}
