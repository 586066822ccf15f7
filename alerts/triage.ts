/**
 * An analyst's triage of alerts: status (open, acknowledged, closed with a reason; reopening clears the
 * reason), assignee and tags, and notes. Every change is a new alert_triage row and an audit entry saying who,
 * when, what changed from what to what, and why. A change that changes nothing is neither written nor counted.
 */
import type { Store } from '../core/clickhouse';
import { Actor, AuditChange, recordAudit } from '../core/audit';
import { UserError } from '../core/error-text';
import { AlertStatus, AlertTriageSchema, CLOSE_REASONS, CloseReason } from '../core/records';
import { AlertNotFound } from './query';

export interface TriageChange {
  status?: AlertStatus;
  close_reason?: CloseReason;
  /** null unassigns. */
  assignee?: string | null;
  add_tags?: string[];
  remove_tags?: string[];
  /** Why, kept with the change. */
  reason?: string;
}

interface TriageState {
  status: AlertStatus;
  close_reason?: CloseReason;
  assignee?: string;
  tags: string[];
  /** Version of the latest triage row (0: never triaged). */
  version: number;
}

const MAX_TAGS = 32;

/**
 * Triage changes are read-modify-write (tags are added to what is there): one at a time in this process, so two
 * requests at once cannot lose one another's tags. The API runs in one process per ClickHouse.
 */
let queue: Promise<unknown> = Promise.resolve();
function serially<T>(f: () => Promise<T>): Promise<T> {
  const run = queue.then(f, f);
  queue = run.catch(() => undefined);
  return run;
}

async function currentTriage(store: Store, ids: readonly string[]): Promise<Map<string, TriageState>> {
  const rows = await store.rows<{ id: string; status: string; close_reason: string; assignee: string; tags: string[]; version: string }>(
    `SELECT toString(a.alert_id) AS id, t.status, t.close_reason, t.assignee, t.tags, toUnixTimestamp64Milli(t.at) AS version
      FROM (SELECT DISTINCT alert_id FROM ${store.tbl('alerts')} WHERE has({ids:Array(String)}, toString(alert_id))) AS a
      LEFT JOIN (SELECT alert_id, argMax(status, updated_at) AS status, argMax(close_reason, updated_at) AS close_reason,
                   argMax(assignee, updated_at) AS assignee, argMax(tags, updated_at) AS tags, max(updated_at) AS at
                 FROM ${store.tbl('alert_triage')} WHERE has({ids:Array(String)}, toString(alert_id)) GROUP BY alert_id) AS t ON a.alert_id = t.alert_id`,
    { ids },
  );
  return new Map(rows.map((r) => [r.id, {
    status: (r.status || 'open') as AlertStatus,
    ...(r.close_reason ? { close_reason: r.close_reason as CloseReason } : {}),
    ...(r.assignee ? { assignee: r.assignee } : {}),
    tags: r.tags ?? [],
    version: Number(r.version),
  }]));
}

/** The state after a change, or a UserError saying why the change cannot be made. */
function next(cur: TriageState, c: TriageChange): TriageState {
  const status = c.status ?? cur.status;
  let close_reason: CloseReason | undefined;
  if (status === 'closed') {
    close_reason = c.close_reason ?? (cur.status === 'closed' ? cur.close_reason : undefined);
    if (!close_reason) throw new UserError(`closing an alert takes a close_reason: one of ${CLOSE_REASONS.join(', ')}`);
  } else if (c.close_reason) {
    throw new UserError(`close_reason applies only to status closed, not ${status}`);
  }
  const assignee = c.assignee === undefined ? cur.assignee : c.assignee ?? undefined;
  const removed = new Set(c.remove_tags ?? []);
  const tags = [...new Set([...cur.tags, ...(c.add_tags ?? [])])].filter((t) => !removed.has(t));
  if (tags.length > MAX_TAGS) throw new UserError(`an alert carries at most ${MAX_TAGS} tags`);
  return { status, ...(close_reason ? { close_reason } : {}), ...(assignee ? { assignee } : {}), tags, version: cur.version };
}

function diff(a: TriageState, b: TriageState): AuditChange['changes'] {
  const out: AuditChange['changes'] = {};
  for (const k of ['status', 'close_reason', 'assignee'] as const) if (a[k] !== b[k]) out[k] = { from: a[k] ?? null, to: b[k] ?? null };
  if (a.tags.join('\0') !== b.tags.join('\0')) out.tags = { from: a.tags, to: b.tags };
  return out;
}

/**
 * Applies one change to every alert of `ids`; either all of them can take it or none is changed. Returns the
 * ids it changed (the others already were as asked).
 */
export function triage(store: Store, ids: readonly string[], change: TriageChange, actor: Actor, now = Date.now()): Promise<string[]> {
  return serially(async () => {
    const unique = [...new Set(ids)];
    const current = await currentTriage(store, unique);
    const missing = unique.filter((id) => !current.has(id));
    if (missing.length > 0) throw new AlertNotFound(`no alert ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
    const rows = [];
    const audit: AuditChange[] = [];
    for (const id of unique) {
      const cur = current.get(id)!;
      const to = next(cur, change);
      const changes = diff(cur, to);
      if (Object.keys(changes).length === 0) continue;
      // Strictly after the row it replaces: the latest version wins, and two changes in one millisecond are ordered.
      const version = Math.max(now, cur.version + 1);
      rows.push(AlertTriageSchema.parse({
        alert_id: id, status: to.status, close_reason: to.close_reason, assignee: to.assignee, tags: to.tags,
        actor: actor.name, note: change.reason ?? '', updated_at: version,
      }));
      audit.push({ action: 'alert.triage', target_kind: 'alert', target: id, changes, ...(change.reason ? { reason: change.reason } : {}) });
    }
    if (rows.length > 0) await store.client.insert({ table: store.tbl('alert_triage'), values: rows, format: 'JSONEachRow' });
    await recordAudit(store, actor, audit, now);
    return audit.map((a) => a.target);
  });
}

/** A note on an alert: kept in its audit trail, shown with the alert. */
export async function addNote(store: Store, id: string, text: string, actor: Actor, now = Date.now()): Promise<void> {
  const current = await currentTriage(store, [id]);
  if (!current.has(id)) throw new AlertNotFound(`no alert ${id}`);
  await recordAudit(store, actor, [{ action: 'alert.note', target_kind: 'alert', target: id, changes: {}, reason: text }], now);
}
