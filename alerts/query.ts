/**
 * Reading alerts as analysts filter them. The detector's view (alerts) and the analyst's (alert_triage) are
 * separate tables joined on read: each writer only ever adds versions of its own rows. Every filter is a bound
 * parameter; sorting and paging are keyset (a cursor holds the last row's sort key and id), so a page is one
 * index-ordered read however deep it is.
 */
import type { Store } from '../core/clickhouse';
import { NotFound, UserError } from '../core/error-text';
import { AlertStatus, Severity } from '../core/records';
import type { ALERT_STATES } from '../core/records';
import { type AlertView, canonicalAddr } from './view';

export class AlertNotFound extends NotFound {}
export class SuppressionNotFound extends NotFound {}
export class BadCursor extends UserError {}

export const ALERT_SORTS = ['time', '-time', 'last_seen', '-last_seen', 'severity', '-severity', 'bytes', '-bytes'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

/** What an analyst filters alerts by; a list matches any of its values, the filters all together. */
export interface AlertQuery {
  ids?: string[];
  detector?: string[];
  severity?: Severity[];
  state?: (typeof ALERT_STATES)[number][];
  status?: AlertStatus[];
  /** Either side's zone, job, node or address. */
  zone?: string[];
  job?: string[];
  node?: string[];
  address?: string[];
  group?: string[];
  assignee?: string;
  /** Alerts bearing all of these tags. */
  tag?: string[];
  /** Raised (by event time) at or after / at or before, ms. */
  since?: number;
  until?: number;
  /** Free text in the summary, case-insensitive. */
  q?: string;
}

export interface AlertPage {
  sort?: AlertSort;
  limit?: number;
  cursor?: string;
}

const TIMES = ['time', 'first_seen', 'last_seen', 'raised_at', 'updated_at'] as const;

/** One id per group of related alerts: a detector and the source it is about (node, else address, else zone); as groupIdOf(). */
const GROUP_SOURCE = "multiIf(src_node != '', src_node, isNotNull(src_addr), replaceRegexpOne(toString(src_addr), '^::ffff:([0-9.]+)$', '\\\\1'), src_zone != '', src_zone, fingerprint)";
const GROUP_ID = `lower(hex(substring(SHA256(concat(detector, '|', ${GROUP_SOURCE})), 1, 8)))`;

/** Sort keys as one Int64 each; severity sorts by rank, then time (2^43 ms is past the year 2200). */
const SORT_KEYS: Record<string, string> = {
  time: 'toUnixTimestamp64Milli(time)',
  last_seen: 'toUnixTimestamp64Milli(last_seen)',
  severity: "toInt64(indexOf(['info', 'warning', 'critical'], severity)) * 8796093022208 + toUnixTimestamp64Milli(time)",
  bytes: 'toInt64(bytes)',
};

const TRIAGE = `SELECT alert_id, argMax(status, updated_at) AS t_status, argMax(close_reason, updated_at) AS t_close_reason,
    argMax(assignee, updated_at) AS t_assignee, argMax(tags, updated_at) AS t_tags, argMax(actor, updated_at) AS t_by,
    max(updated_at) AS t_at`;

interface Where {
  alert: string[];
  triage: string[];
  params: Record<string, unknown>;
}

/** The conditions of a query: on the alert's own columns, and on its joined triage. */
function whereOf(q: AlertQuery): Where {
  const w: Where = { alert: [], triage: [], params: {} };
  const any = (name: string, values: unknown[] | undefined, sql: string, type = 'Array(String)', on: 'alert' | 'triage' = 'alert') => {
    if (!values || values.length === 0) return;
    w.params[name] = values;
    w[on].push(sql.replaceAll('$', `{${name}:${type}}`));
  };
  any('ids', q.ids, 'has($, toString(alert_id))');
  any('detector', q.detector, 'has($, detector)');
  any('severity', q.severity, 'has($, severity)');
  any('state', q.state, 'has($, state)');
  any('zone', q.zone, '(has($, src_zone) OR has($, dst_zone))');
  any('job', q.job, '(has($, src_job) OR has($, dst_job))');
  any('node', q.node, '(has($, src_node) OR has($, dst_node))');
  any('address', q.address, '(has(arrayMap(a -> toIPv6(a), $), src_addr) OR has(arrayMap(a -> toIPv6(a), $), dst_addr))');
  any('group', q.group, `has($, ${GROUP_ID})`);
  any('status', q.status, "has($, if(t_status = '', 'open', t_status))", 'Array(String)', 'triage');
  any('tag', q.tag, 'hasAll(t_tags, $)', 'Array(String)', 'triage');
  if (q.assignee !== undefined) {
    w.params.assignee = q.assignee;
    w.triage.push('t_assignee = {assignee:String}');
  }
  if (q.since !== undefined) {
    w.params.since = q.since;
    w.alert.push('time >= fromUnixTimestamp64Milli({since:Int64})');
  }
  if (q.until !== undefined) {
    w.params.until = q.until;
    w.alert.push('time <= fromUnixTimestamp64Milli({until:Int64})');
  }
  if (q.q) {
    w.params.q = q.q;
    w.alert.push('positionCaseInsensitiveUTF8(summary, {q:String}) > 0');
  }
  return w;
}

const and = (conds: string[]) => (conds.length ? conds.join(' AND ') : '1');

/** The alerts and their triage matching a query, as one SELECT's FROM and WHERE. */
function fromWhere(store: Store, w: Where, extra = ''): string {
  return `FROM (SELECT *, ${GROUP_ID} AS group_id, ${GROUP_SOURCE} AS group_source${extra} FROM ${store.tbl('alerts')} FINAL WHERE ${and(w.alert)}) AS a
    LEFT JOIN (${TRIAGE} FROM ${store.tbl('alert_triage')} GROUP BY alert_id) AS t ON a.alert_id = t.alert_id
    WHERE ${and(w.triage)}`;
}

interface Cursor {
  sort: AlertSort;
  key: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.sort, c.key, c.id])).toString('base64url');
}

function decodeCursor(s: string, sort: AlertSort): Cursor {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw new BadCursor('cursor: not a cursor this API gave out');
  }
  if (!Array.isArray(v) || v.length !== 3 || !/^-?\d{1,19}$/.test(String(v[1])) || !/^[0-9a-f-]{36}$/.test(String(v[2]))) {
    throw new BadCursor('cursor: not a cursor this API gave out');
  }
  if (v[0] !== sort) throw new BadCursor(`cursor: made for sort ${String(v[0])}, not ${sort}`);
  return { sort, key: String(v[1]), id: String(v[2]) };
}

function viewOf(r: Record<string, unknown>): AlertView {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k.endsWith('_ms') || k.startsWith('t_') || k === 'sort_key' || k === 'group_source') continue;
    if (v === null || v === '') continue; // a field that does not apply is left out
    if (k === 'evidence') out[k] = JSON.parse(String(v));
    else if (k === 'bytes' || k === 'flows') out[k] = Number(v);
    else if (k === 'src_addr' || k === 'dst_addr') out[k] = canonicalAddr(String(v));
    else out[k] = v;
  }
  for (const t of TIMES) out[t] = new Date(Number(r[`${t}_ms`])).toISOString();
  out.status = r.t_status || 'open';
  if (r.t_close_reason) out.close_reason = r.t_close_reason;
  if (r.t_assignee) out.assignee = r.t_assignee;
  out.tags = r.t_tags ?? [];
  if (r.t_by) {
    out.triaged_by = r.t_by;
    out.triaged_at = new Date(Number(r.t_at_ms)).toISOString();
  }
  return out as AlertView;
}

export const MAX_PAGE = 1000;

/** One page of the alerts matching `q`, and the cursor of the next (undefined on the last page). */
export async function listAlerts(store: Store, q: AlertQuery = {}, page: AlertPage = {}): Promise<{ alerts: AlertView[]; next_cursor?: string }> {
  const sort = page.sort ?? '-time';
  const limit = Math.min(page.limit ?? 100, MAX_PAGE);
  const desc = sort.startsWith('-');
  const key = SORT_KEYS[sort.replace(/^-/, '')]!;
  const w = whereOf(q);
  if (page.cursor) {
    const c = decodeCursor(page.cursor, sort);
    Object.assign(w.params, { ck: c.key, cid: c.id });
    w.triage.push(`(sort_key, a.alert_id) ${desc ? '<' : '>'} ({ck:Int64}, toUUID({cid:String}))`);
  }
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT a.* EXCEPT (${TIMES.join(', ')}), ${TIMES.map((t) => `toUnixTimestamp64Milli(a.${t}) AS ${t}_ms`).join(', ')},
        t_status, t_close_reason, t_assignee, t_tags, t_by, toUnixTimestamp64Milli(t_at) AS t_at_ms
      ${fromWhere(store, w, `, ${key} AS sort_key`)}
      ORDER BY sort_key ${desc ? 'DESC' : 'ASC'}, a.alert_id ${desc ? 'DESC' : 'ASC'}
      LIMIT {limit:UInt32}`,
    { ...w.params, limit: limit + 1 },
  );
  const more = rows.length > limit;
  const alerts = rows.slice(0, limit);
  const last = alerts.at(-1);
  return {
    alerts: alerts.map(viewOf),
    ...(more && last ? { next_cursor: encodeCursor({ sort, key: String(last.sort_key), id: String(last.alert_id) }) } : {}),
  };
}

/** Every alert id `q` matches (a bulk change's targets): refused past `cap`, so a bulk change is never partial. */
export async function matchingIds(store: Store, q: AlertQuery, cap: number): Promise<string[]> {
  const w = whereOf(q);
  const rows = await store.rows<{ alert_id: string }>(`SELECT toString(a.alert_id) AS alert_id ${fromWhere(store, w)} LIMIT {cap:UInt32}`, { ...w.params, cap: cap + 1 });
  if (rows.length > cap) throw new UserError(`the filter matches more than ${cap} alerts: narrow it (a time range, a detector) and change them in parts`);
  return rows.map((r) => r.alert_id);
}

export async function getAlert(store: Store, id: string): Promise<AlertView> {
  const { alerts: [a] } = await listAlerts(store, { ids: [id] }, { limit: 1 });
  if (!a) throw new AlertNotFound(`no alert ${id}`);
  return a;
}

export interface AlertGroup {
  group_id: string;
  detector: string;
  source: string;
  alerts: number;
  open: number;
  severity: Severity;
  first_seen: string;
  last_seen: string;
  summary: string;
}

/**
 * Related alerts as groups: one detector about one source (a scan over 200 hosts, a node reaching 200 new
 * destinations, the same fingerprint's later episodes) is one group, most recent activity first.
 */
export async function listGroups(store: Store, q: AlertQuery = {}, limit = 100): Promise<AlertGroup[]> {
  const w = whereOf(q);
  const rows = await store.rows<Record<string, string>>(
    `SELECT group_id, any(detector) AS detector, any(group_source) AS source, count() AS alerts,
        countIf(t_status IN ('', 'open')) AS open, ['info', 'warning', 'critical'][max(indexOf(['info', 'warning', 'critical'], severity))] AS severity,
        toUnixTimestamp64Milli(min(first_seen)) AS first_ms, toUnixTimestamp64Milli(max(last_seen)) AS last_ms, argMax(summary, a.time) AS summary
      ${fromWhere(store, w)}
      GROUP BY group_id ORDER BY last_ms DESC, group_id LIMIT {limit:UInt32}`,
    { ...w.params, limit: Math.min(limit, MAX_PAGE) },
  );
  return rows.map((r) => ({
    group_id: r.group_id!, detector: r.detector!, source: canonicalAddr(r.source!), alerts: Number(r.alerts), open: Number(r.open),
    severity: r.severity as Severity, first_seen: new Date(Number(r.first_ms)).toISOString(), last_seen: new Date(Number(r.last_ms)).toISOString(), summary: r.summary!,
  }));
}
