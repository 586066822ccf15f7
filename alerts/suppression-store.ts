/**
 * Suppressions as analysts make them: each version goes to the suppressions topic first (the detectors follow
 * it), then to ClickHouse (what the API lists), then to the audit trail. A suppression names a detector and at
 * least one entity field, so no one silences a whole detector by mistake; it always expires (at most 90 days).
 */
import { randomUUID } from 'node:crypto';
import { recordAudit, type Actor } from '../core/audit';
import { columnsWithMs, recordOfRow, type Store } from '../core/clickhouse';
import { UserError } from '../core/error-text';
import type { KafkaPublisher } from '../core/kafka-publisher';
import { SUPPRESSION_FIELDS, type Suppression, SuppressionSchema } from '../core/records';
import { SuppressionNotFound } from './query';
import { canonicalAddr } from './view';
import { encodeSuppression, isActive } from './suppressions';

/** Active suppressions at once: each detectors process holds and checks them all per new alert. */
export const MAX_ACTIVE = 1000;
export const MAX_DURATION_MS = 90 * 24 * 3600e3;

export type SuppressionMatch = Partial<Pick<Suppression, (typeof SUPPRESSION_FIELDS)[number]>>;

export interface SuppressionInput {
  detector: string;
  match: SuppressionMatch;
  reason: string;
  expires_at: number;
}

/** A suppression as the API shows it: times in ISO 8601, whether it holds alerts back now. */
export type SuppressionView = Omit<Suppression, 'created_at' | 'expires_at' | 'revoked_at' | 'updated_at'> & {
  created_at: string;
  expires_at: string;
  revoked_at?: string;
  active: boolean;
};

type Publish = KafkaPublisher['publish'];

async function save(store: Store, publish: Publish, s: Suppression): Promise<void> {
  await publish('suppressions', [{ key: s.suppression_id, value: encodeSuppression(s) }]);
  await store.client.insert({ table: store.tbl('suppressions'), values: [s], format: 'JSONEachRow' });
}

async function read(store: Store, where: string, params: Record<string, unknown>): Promise<Suppression[]> {
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT ${columnsWithMs(['created_at', 'expires_at', 'revoked_at', 'updated_at'])}
      FROM ${store.tbl('suppressions')} FINAL WHERE ${where} ORDER BY created_at DESC, suppression_id LIMIT 10000`,
    params,
  );
  return rows.map((r) => {
    const s = recordOfRow(r);
    for (const f of ['src_addr', 'dst_addr'] as const) if (s[f] !== undefined) s[f] = canonicalAddr(String(s[f]));
    return SuppressionSchema.parse(s);
  });
}

export function viewOf(s: Suppression, now: number): SuppressionView {
  const { created_at, expires_at, revoked_at, updated_at: _version, ...rest } = s;
  return {
    ...rest, created_at: new Date(created_at).toISOString(), expires_at: new Date(expires_at).toISOString(),
    ...(revoked_at !== undefined ? { revoked_at: new Date(revoked_at).toISOString() } : {}), active: isActive(s, now),
  };
}

export async function listSuppressions(store: Store, o: { active?: boolean; detector?: string }, now = Date.now()): Promise<Suppression[]> {
  const where = ['1'];
  if (o.detector) where.push('detector = {detector:String}');
  if (o.active === true) where.push('isNull(revoked_at) AND expires_at > fromUnixTimestamp64Milli({now:Int64})');
  if (o.active === false) where.push('(isNotNull(revoked_at) OR expires_at <= fromUnixTimestamp64Milli({now:Int64}))');
  return read(store, where.join(' AND '), { detector: o.detector ?? '', now });
}

export async function getSuppression(store: Store, id: string): Promise<Suppression> {
  const [s] = await read(store, 'suppression_id = toUUID({id:String})', { id });
  if (!s) throw new SuppressionNotFound(`no suppression ${id}`);
  return s;
}

export async function createSuppression(store: Store, publish: Publish, input: SuppressionInput, actor: Actor, now = Date.now()): Promise<Suppression> {
  const match = Object.fromEntries(SUPPRESSION_FIELDS.filter((f) => input.match[f] !== undefined).map((f) => [f, input.match[f]]));
  if (Object.keys(match).length === 0) throw new UserError(`a suppression matches at least one field: ${SUPPRESSION_FIELDS.join(', ')}`);
  if (input.expires_at <= now) throw new UserError('expires_at has passed');
  if (input.expires_at > now + MAX_DURATION_MS) throw new UserError('a suppression lasts at most 90 days');
  if ((await listSuppressions(store, { active: true }, now)).length >= MAX_ACTIVE) {
    throw new UserError(`${MAX_ACTIVE} suppressions are active: revoke some, or close alerts instead`);
  }
  const s = SuppressionSchema.parse({
    suppression_id: randomUUID(), detector: input.detector, ...match, reason: input.reason,
    created_by: actor.name, created_at: now, expires_at: input.expires_at, updated_at: now,
  });
  await save(store, publish, s);
  const changes = Object.fromEntries(Object.entries({ detector: s.detector, ...match, expires_at: new Date(s.expires_at).toISOString() }).map(([k, v]) => [k, { from: null, to: v }]));
  await recordAudit(store, actor, [{ action: 'suppression.create', target_kind: 'suppression', target: s.suppression_id, changes, reason: input.reason }], now);
  return s;
}

export async function revokeSuppression(store: Store, publish: Publish, id: string, reason: string, actor: Actor, now = Date.now()): Promise<Suppression> {
  const cur = await getSuppression(store, id);
  if (!isActive(cur, now)) throw new UserError(`suppression ${id} is not active (${cur.revoked_at !== undefined ? 'revoked' : 'expired'})`);
  const s: Suppression = { ...cur, revoked_by: actor.name, revoked_at: now, updated_at: Math.max(now, cur.updated_at + 1) };
  await save(store, publish, s);
  await recordAudit(store, actor, [{ action: 'suppression.revoke', target_kind: 'suppression', target: id, changes: { revoked_at: { from: null, to: new Date(now).toISOString() } }, reason }], now);
  return s;
}
