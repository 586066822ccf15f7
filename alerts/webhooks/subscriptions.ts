/**
 * Webhook subscriptions: an admin makes one (its secret shown once), rotates its secret (the old one keeps
 * signing beside the new for a while, so receivers can switch without a gap), disables or enables it. Kept in
 * ClickHouse, audited; the dispatcher reads them from there.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type Actor, recordAudit } from '../../core/audit';
import { columnsWithMs, recordOfRow, type Store } from '../../core/clickhouse';
import { NotFound } from '../../core/error-text';
import { type Alert, type WebhookSubscription, WebhookSubscriptionSchema } from '../../core/records';

export class SubscriptionNotFound extends NotFound {}

/** A Standard Webhooks secret: whsec_ and 24 random bytes in base64. */
export const newSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

export interface SubscriptionInput {
  name: string;
  url: string;
  detectors: string[];
  severities: WebhookSubscription['severities'];
  zones: string[];
  format: WebhookSubscription['format'];
}

/** A subscription as the API shows it: no secrets. */
export type SubscriptionView = Omit<WebhookSubscription, 'secrets' | 'previous_expires_at' | 'created_at' | 'updated_at'> & {
  created_at: string;
  updated_at: string;
  rotating_until?: string;
};

export function subscriptionView(s: WebhookSubscription): SubscriptionView {
  const { secrets: _secrets, previous_expires_at, created_at, updated_at, ...rest } = s;
  const iso = (ms: number) => new Date(ms).toISOString();
  return { ...rest, created_at: iso(created_at), updated_at: iso(updated_at), ...(previous_expires_at !== undefined && s.secrets.length > 1 ? { rotating_until: iso(previous_expires_at) } : {}) };
}

/** The secrets that sign now: the newest, and the older one while its rotation lasts. */
export const signingSecrets = (s: WebhookSubscription, now: number): string[] =>
  s.secrets.length > 1 && (s.previous_expires_at ?? 0) > now ? s.secrets : s.secrets.slice(0, 1);

/** Whether an alert is for this subscription: every filter it sets matches, and the event is not older than it. */
export function wants(s: WebhookSubscription, a: Alert, eventTime: number): boolean {
  return s.active && eventTime >= s.created_at
    && (s.detectors.length === 0 || s.detectors.includes(a.detector))
    && (s.severities.length === 0 || s.severities.includes(a.severity))
    && (s.zones.length === 0 || s.zones.includes(a.src_zone ?? '') || s.zones.includes(a.dst_zone ?? ''));
}

export async function listSubscriptions(store: Store, id?: string): Promise<WebhookSubscription[]> {
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT ${columnsWithMs(['previous_expires_at', 'created_at', 'updated_at'])}
      FROM ${store.tbl('webhook_subscriptions')} FINAL WHERE {id:String} = '' OR toString(subscription_id) = {id:String} ORDER BY created_at, subscription_id`,
    { id: id ?? '' },
  );
  return rows.map((r) => WebhookSubscriptionSchema.parse(recordOfRow(r)));
}

export async function getSubscription(store: Store, id: string): Promise<WebhookSubscription> {
  const [s] = await listSubscriptions(store, id);
  if (!s) throw new SubscriptionNotFound(`no webhook subscription ${id}`);
  return s;
}

async function save(store: Store, s: WebhookSubscription): Promise<void> {
  await store.client.insert({ table: store.tbl('webhook_subscriptions'), values: [WebhookSubscriptionSchema.parse(s)], format: 'JSONEachRow' });
}

export async function createSubscription(store: Store, input: SubscriptionInput, actor: Actor, now = Date.now()): Promise<{ subscription: WebhookSubscription; secret: string }> {
  const secret = newSecret();
  const s: WebhookSubscription = { subscription_id: randomUUID(), ...input, secrets: [secret], active: true, created_by: actor.name, created_at: now, updated_at: now };
  await save(store, s);
  const shown = subscriptionView(s);
  await recordAudit(store, actor, [{ action: 'webhook.create', target_kind: 'webhook', target: s.subscription_id, changes: Object.fromEntries(Object.entries(shown).map(([k, v]) => [k, { from: null, to: v }])) }], now);
  return { subscription: s, secret };
}

/** A new secret; the current one keeps signing beside it for `overlapMs`. */
export async function rotateSecret(store: Store, id: string, overlapMs: number, actor: Actor, now = Date.now()): Promise<{ subscription: WebhookSubscription; secret: string }> {
  const cur = await getSubscription(store, id);
  const secret = newSecret();
  const s: WebhookSubscription = { ...cur, secrets: [secret, cur.secrets[0]!], previous_expires_at: now + overlapMs, updated_at: Math.max(now, cur.updated_at + 1) };
  await save(store, s);
  await recordAudit(store, actor, [{ action: 'webhook.rotate', target_kind: 'webhook', target: id, changes: { previous_secret_until: { from: null, to: new Date(now + overlapMs).toISOString() } } }], now);
  return { subscription: s, secret };
}

export async function setActive(store: Store, id: string, active: boolean, reason: string, actor: Actor, now = Date.now()): Promise<WebhookSubscription> {
  const cur = await getSubscription(store, id);
  const s: WebhookSubscription = { ...cur, active, updated_at: Math.max(now, cur.updated_at + 1) };
  if (active) delete s.disabled_reason;
  else s.disabled_reason = reason;
  await save(store, s);
  await recordAudit(store, actor, [{ action: active ? 'webhook.enable' : 'webhook.disable', target_kind: 'webhook', target: id, changes: { active: { from: cur.active, to: active } }, reason }], now);
  return s;
}

/** A delivery as its log shows it. */
export interface DeliveryView {
  event_id: string;
  event_type: string;
  alert_id: string;
  status: string;
  attempts: number;
  last_status: number;
  last_error: string;
  created_at: string;
  updated_at: string;
  next_attempt_at?: string;
}

/** A subscription's delivery log, newest first. */
export async function listDeliveries(store: Store, id: string, status: string | undefined, limit: number): Promise<DeliveryView[]> {
  const rows = await store.rows<Record<string, string | number>>(
    `SELECT event_id, event_type, toString(alert_id) AS alert_id, status, attempts, last_status, last_error,
        toUnixTimestamp64Milli(created_at) AS created_ms, toUnixTimestamp64Milli(updated_at) AS updated_ms, toUnixTimestamp64Milli(next_attempt_at) AS next_ms
      FROM ${store.tbl('webhook_deliveries')} FINAL
      WHERE subscription_id = toUUID({id:String}) AND ({status:String} = '' OR status = {status:String})
      ORDER BY created_at DESC, event_id LIMIT {limit:UInt32}`,
    { id, status: status ?? '', limit },
  );
  const iso = (ms: string | number) => new Date(Number(ms)).toISOString();
  return rows.map((r) => ({
    event_id: String(r.event_id), event_type: String(r.event_type), alert_id: String(r.alert_id), status: String(r.status), attempts: Number(r.attempts),
    last_status: Number(r.last_status), last_error: String(r.last_error), created_at: iso(r.created_ms!), updated_at: iso(r.updated_ms!),
    ...(r.status === 'pending' ? { next_attempt_at: iso(r.next_ms!) } : {}),
  }));
}
