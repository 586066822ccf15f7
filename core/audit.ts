/** The audit trail: every change an analyst, an admin or the CLI makes, kept in audit_log and read per target. */
import { randomUUID } from 'node:crypto';
import type { Store } from './clickhouse';
import { AUDIT_TARGETS, AuditEntry, AuditEntrySchema } from './records';

/** Who acts: an API token's name and role, or the CLI user (role cli). */
export interface Actor {
  name: string;
  role: string;
}

export type AuditTarget = (typeof AUDIT_TARGETS)[number];

/** A change as it is audited; the entry's id and time are filled in. */
export interface AuditChange {
  action: string;
  target_kind: AuditTarget;
  target: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  reason?: string;
}

/** An entry as the API shows it: time in ISO 8601, changes parsed. */
export interface AuditView {
  time: string;
  actor: string;
  actor_role: string;
  action: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  reason: string;
}

export async function recordAudit(store: Store, actor: Actor, changes: readonly AuditChange[], now = Date.now()): Promise<void> {
  if (changes.length === 0) return;
  const values: AuditEntry[] = changes.map((c) => AuditEntrySchema.parse({
    audit_id: randomUUID(), time: now, actor: actor.name, actor_role: actor.role, action: c.action,
    target_kind: c.target_kind, target: c.target, changes: JSON.stringify(c.changes), reason: c.reason ?? '',
  }));
  await store.client.insert({ table: store.tbl('audit_log'), values, format: 'JSONEachRow' });
}

/** The history of some targets of one kind, oldest first, by target. */
export async function auditOf(store: Store, kind: AuditTarget, targets: readonly string[]): Promise<Map<string, AuditView[]>> {
  const out = new Map<string, AuditView[]>(targets.map((t) => [t, []]));
  if (targets.length === 0) return out;
  const rows = await store.rows<{ target: string; time_ms: string; actor: string; actor_role: string; action: string; changes: string; reason: string }>(
    `SELECT target, toUnixTimestamp64Milli(time) AS time_ms, actor, actor_role, action, changes, reason FROM ${store.tbl('audit_log')}
      WHERE target_kind = {kind:String} AND target IN {targets:Array(String)} ORDER BY time, audit_id`,
    { kind, targets },
  );
  for (const r of rows) {
    out.get(r.target)?.push({
      time: new Date(Number(r.time_ms)).toISOString(), actor: r.actor, actor_role: r.actor_role, action: r.action,
      changes: JSON.parse(r.changes) as AuditView['changes'], reason: r.reason,
    });
  }
  return out;
}

export interface AuditQuery {
  target_kind?: AuditTarget;
  target?: string;
  actor?: string;
  since?: number;
  until?: number;
}

/** The trail across targets, newest first. */
export async function listAudit(store: Store, q: AuditQuery, limit: number): Promise<(AuditView & { target_kind: string; target: string })[]> {
  const where = ['1'];
  if (q.target_kind) where.push('target_kind = {target_kind:String}');
  if (q.target) where.push('target = {target:String}');
  if (q.actor) where.push('actor = {actor:String}');
  if (q.since !== undefined) where.push('time >= fromUnixTimestamp64Milli({since:Int64})');
  if (q.until !== undefined) where.push('time <= fromUnixTimestamp64Milli({until:Int64})');
  const rows = await store.rows<{ target_kind: string; target: string; time_ms: string; actor: string; actor_role: string; action: string; changes: string; reason: string }>(
    `SELECT target_kind, target, toUnixTimestamp64Milli(time) AS time_ms, actor, actor_role, action, changes, reason FROM ${store.tbl('audit_log')}
      WHERE ${where.join(' AND ')} ORDER BY time DESC, audit_id LIMIT {limit:UInt32}`,
    { ...Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)), limit },
  );
  return rows.map((r) => ({
    target_kind: r.target_kind, target: r.target, time: new Date(Number(r.time_ms)).toISOString(), actor: r.actor, actor_role: r.actor_role,
    action: r.action, changes: JSON.parse(r.changes) as AuditView['changes'], reason: r.reason,
  }));
}
