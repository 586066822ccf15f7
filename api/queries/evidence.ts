/**
 * The flows behind an alert, paged: those of its ends (node, else address; zone where it names no more) and
 * port within its episode (a minute of slack each side), by event time. Built from the alert's fields as bound
 * parameters: the SQL an alert's evidence carries is for an analyst to read, never run here, since alerts
 * from outside (Alertmanager) could carry any text.
 */
import { BadCursor } from '../../alerts/query';
import { canonicalAddr } from '../../alerts/view';
import type { AlertView } from '../../alerts/view';
import type { Store } from '../../core/clickhouse';
import { UserError } from '../../core/error-text';

const SLACK_MS = 60_000;
/** Paging is by offset (flows have no key of their own); this deep and no deeper. */
export const MAX_OFFSET = 100_000;

const COLUMNS = ['time_start', 'time_end', 'src_addr', 'src_port', 'src_node', 'src_zone', 'src_job', 'dst_addr', 'dst_port', 'dst_node', 'dst_zone', 'dst_job',
  'protocol', 'bytes', 'packets', 'sampling_rate', 'tcp_flags', 'source_kind', 'observation_point', 'exporter_address', 'verdict', 'drop_reason', 'proxy_host'] as const;

export type EvidenceFlow = Record<string, string | number>;

function conditions(a: AlertView): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  for (const side of ['src', 'dst'] as const) {
    const node = a[`${side}_node`];
    const addr = a[`${side}_addr`];
    const zone = a[`${side}_zone`];
    if (node) {
      where.push(`${side}_node = {${side}_node:String}`);
      params[`${side}_node`] = node;
    } else if (addr) {
      where.push(`${side}_addr = toIPv6({${side}_addr:String})`);
      params[`${side}_addr`] = addr;
    } else if (zone) {
      where.push(`${side}_zone = {${side}_zone:String}`);
      params[`${side}_zone`] = zone;
    }
  }
  if (where.length === 0) throw new UserError(`alert ${a.alert_id} names no end of any traffic (${a.detector}): it has no flows to show`);
  if (a.dst_port !== undefined) {
    where.push('dst_port = {dst_port:UInt16}');
    params.dst_port = a.dst_port;
  }
  if (a.protocol !== undefined) {
    where.push('protocol = {protocol:UInt8}');
    params.protocol = a.protocol;
  }
  return { where, params };
}

export async function alertFlows(store: Store, a: AlertView, limit: number, cursor?: string): Promise<{ flows: EvidenceFlow[]; next_cursor?: string }> {
  const offset = cursor === undefined ? 0 : Number(/^o(\d{1,6})$/.exec(cursor)?.[1] ?? NaN);
  if (!Number.isInteger(offset) || offset > MAX_OFFSET) throw new BadCursor('cursor: not a cursor this API gave out');
  const { where, params } = conditions(a);
  const rows = await store.rows<Record<string, string | number | null>>(
    `SELECT ${COLUMNS.map((c) => (c.startsWith('time_') ? `toUnixTimestamp64Milli(${c}) AS ${c}_ms` : c)).join(', ')}
      FROM ${store.tbl('flows')}
      WHERE time_end >= fromUnixTimestamp64Milli({from:Int64}) AND time_start <= fromUnixTimestamp64Milli({to:Int64}) AND ${where.join(' AND ')}
      ORDER BY time_start, time_end, src_addr, src_port, dst_addr, dst_port LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
    { ...params, from: Date.parse(a.first_seen) - SLACK_MS, to: Date.parse(a.last_seen) + SLACK_MS, limit: limit + 1, offset },
  );
  const more = rows.length > limit && offset + limit <= MAX_OFFSET;
  const flows = rows.slice(0, limit).map((r) => {
    const out: EvidenceFlow = {};
    for (const [k, v] of Object.entries(r)) {
      if (v === null || v === '') continue;
      if (k.endsWith('_ms')) out[k.slice(0, -3)] = new Date(Number(v)).toISOString();
      else if (k.endsWith('_addr') || k === 'exporter_address') out[k] = canonicalAddr(String(v));
      else out[k] = typeof v === 'string' && /^\d+$/.test(v) && ['bytes', 'packets'].includes(k) ? Number(v) : v;
    }
    return out;
  });
  return { flows, ...(more ? { next_cursor: `o${offset + limit}` } : {}) };
}
