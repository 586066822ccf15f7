/**
 * The incident-response feed. Reads the alerts topic in its own consumer group; each alert's first version
 * makes an alert.raised event, its ended version an alert.ended event, and each event a delivery per
 * subscription that wants it, written to ClickHouse before the offsets are committed (a restart re-reads what
 * was not committed and finds those deliveries made: none is made twice). A loop sends the deliveries due,
 * signed as Standard Webhooks says, and records each outcome: delivered; retried with exponential backoff and
 * jitter (Retry-After honoured) until the schedule runs out; or, on 410 Gone, the subscription disabled.
 */
import type { Consumer, KafkaMessage } from 'kafkajs';
import { Webhook } from 'standardwebhooks';
import { columnsWithMs, recordOfRow, type Store } from '../../core/clickhouse';
import type { KafkaContext } from '../../core/kafka';
import type { Logger } from '../../core/log';
import { productVersion } from '../../core/paths';
import { type Alert, type WebhookDelivery, WebhookDeliverySchema, type WebhookSubscription } from '../../core/records';
import type { Stage, StageContext } from '../../core/stage';
import { exportAlert } from '../export';
import { webhookDeliveries } from '../metrics';
import { decodeAlert } from '../stream';
import { viewOfRecord } from '../view';
import type { WebhooksConfig } from './config';
import { retryAt } from './schedule';
import { listSubscriptions, setActive, signingSecrets, wants } from './subscriptions';

const POLL_MS = 250;
const DUE_BATCH = 100;

type Event = { id: string; type: WebhookDelivery['event_type']; time: number; alert: Alert };

/** The events an alert version stands for. */
function eventsOf(a: Alert): Event[] {
  const raised: Event = { id: `${a.alert_id}.raised`, type: 'alert.raised', time: a.raised_at, alert: a };
  return a.state === 'ended' ? [raised, { id: `${a.alert_id}.ended`, type: 'alert.ended', time: a.updated_at, alert: a }] : [raised];
}

function payloadOf(e: Event, s: WebhookSubscription): string {
  const view = viewOfRecord(e.alert);
  return JSON.stringify({ type: e.type, timestamp: new Date(e.time).toISOString(), data: s.format === 'eastwatch' ? view : exportAlert(view, s.format) });
}

export class WebhookDispatcher implements Stage {
  readonly name = 'webhooks';
  private readonly consumer: Consumer;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly userAgent = `eastwatch/${productVersion()}`;

  constructor(private readonly cfg: WebhooksConfig, private readonly deps: { kafka: KafkaContext; store: Store; log: Logger }) {
    this.consumer = deps.kafka.client.consumer({ groupId: cfg.group, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  }

  async start(ctx: StageContext): Promise<void> {
    await this.consumer.connect();
    // From the beginning: a subscription gets the events from its creation on, however late this group starts.
    await this.consumer.subscribe({ topic: this.deps.kafka.topics.alerts, fromBeginning: true });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) ctx.fatal(payload.error);
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        await this.enqueue(batch.messages);
        const last = batch.messages.at(-1);
        if (last) resolveOffset(last.offset);
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
    const tick = () => {
      this.running = this.sendDue().catch((e: Error) => this.deps.log.error({ err: e }, 'webhook deliveries failed to run; trying again'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, POLL_MS);
        });
    };
    tick();
  }

  /** Makes the deliveries the messages' events call for, each at most once. */
  private async enqueue(messages: KafkaMessage[]): Promise<void> {
    const subs = await listSubscriptions(this.deps.store);
    if (subs.length === 0) return;
    const wanted = new Map<string, WebhookDelivery>();
    const now = Date.now();
    for (const m of messages) {
      let alert: Alert;
      try {
        alert = decodeAlert(m.value ?? Buffer.alloc(0));
      } catch {
        continue; // the writer dead-letters it with the reason
      }
      for (const e of eventsOf(alert)) {
        for (const s of subs) {
          if (!wants(s, alert, e.time)) continue;
          const key = `${s.subscription_id}|${e.id}`;
          if (wanted.has(key)) continue;
          wanted.set(key, {
            subscription_id: s.subscription_id, event_id: e.id, event_type: e.type, alert_id: alert.alert_id, payload: payloadOf(e, s), status: 'pending',
            attempts: 0, next_attempt_at: now, last_status: 0, last_error: '', created_at: now, updated_at: now,
          });
        }
      }
    }
    if (wanted.size === 0) return;
    const existing = await this.deps.store.rows<{ k: string }>(
      `SELECT k FROM (SELECT concat(toString(subscription_id), '|', event_id) AS k FROM ${this.deps.store.tbl('webhook_deliveries')}
        WHERE event_id IN {events:Array(String)}) WHERE k IN {keys:Array(String)}`,
      { events: [...new Set([...wanted.values()].map((d) => d.event_id))], keys: [...wanted.keys()] },
    );
    for (const { k } of existing) wanted.delete(k);
    if (wanted.size === 0) return;
    await this.deps.store.client.insert({ table: this.deps.store.tbl('webhook_deliveries'), values: [...wanted.values()], format: 'JSONEachRow' });
  }

  private async sendDue(): Promise<void> {
    const { store } = this.deps;
    const due = await store.rows<Record<string, unknown>>(
      `SELECT ${columnsWithMs(['next_attempt_at', 'created_at', 'updated_at'])} FROM ${store.tbl('webhook_deliveries')} FINAL
        WHERE status = 'pending' AND next_attempt_at <= now64(3) ORDER BY next_attempt_at LIMIT {n:UInt32}`,
      { n: DUE_BATCH },
    );
    if (due.length === 0) return;
    const subs = new Map((await listSubscriptions(store)).map((s) => [s.subscription_id, s]));
    const deliveries = due.map((r) => {
      const d = recordOfRow(r);
      return WebhookDeliverySchema.parse({ ...d, attempts: Number(d.attempts), last_status: Number(d.last_status), last_error: d.last_error ?? '' });
    });
    const bySubscription = new Map<string, WebhookDelivery[]>();
    for (const d of deliveries) bySubscription.set(d.subscription_id, [...(bySubscription.get(d.subscription_id) ?? []), d]);
    const queue = [...bySubscription.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next && !this.stopped; next = queue.shift()) await this.sendAll(next[1], subs.get(next[0]));
    };
    await Promise.all(Array.from({ length: Math.min(this.cfg.concurrency, queue.length) }, worker));
  }

  /**
   * One subscription's due deliveries, in order, each outcome recorded as soon as it is known (a crash right
   * after a delivery does not send it again). After a failure the rest wait as long as the failed one: a receiver
   * that is down or slow is not hit once per queued event, nor holds the loop.
   */
  private async sendAll(list: WebhookDelivery[], s: WebhookSubscription | undefined): Promise<void> {
    const { store } = this.deps;
    let sub = s;
    for (const [i, d] of list.entries()) {
      if (this.stopped) return;
      const out = await this.attempt(d, sub);
      await store.client.insert({ table: store.tbl('webhook_deliveries'), values: [out], format: 'JSONEachRow' });
      if (out.last_status === 410 && sub) sub = { ...sub, active: false };
      if (out.status === 'pending') {
        const rest = list.slice(i + 1).map((r) => ({
          ...r, next_attempt_at: out.next_attempt_at, last_error: `waiting: an earlier delivery failed (${out.last_error})`.slice(0, 1024), updated_at: Math.max(Date.now(), r.updated_at + 1),
        }));
        if (rest.length > 0) await store.client.insert({ table: store.tbl('webhook_deliveries'), values: rest, format: 'JSONEachRow' });
        return;
      }
    }
  }

  /** One attempt of one delivery; returns its next row version. */
  private async attempt(d: WebhookDelivery, s: WebhookSubscription | undefined): Promise<WebhookDelivery> {
    const now = Date.now();
    const next = { ...d, updated_at: Math.max(now, d.updated_at + 1) };
    if (!s?.active) {
      webhookDeliveries.inc({ result: 'failed' });
      return { ...next, status: 'failed', last_error: s ? `subscription disabled: ${s.disabled_reason ?? ''}`.slice(0, 1024) : 'subscription gone' };
    }
    const sent = new Date(now);
    const signature = signingSecrets(s, now).map((secret) => new Webhook(secret).sign(d.event_id, sent, d.payload)).join(' ');
    let status = 0;
    let error = '';
    let retryAfter: string | null = null;
    try {
      const res = await fetch(s.url, {
        method: 'POST', body: d.payload, redirect: 'manual', signal: AbortSignal.timeout(this.cfg.timeoutMs),
        headers: {
          'content-type': 'application/json', 'user-agent': this.userAgent,
          'webhook-id': d.event_id, 'webhook-timestamp': String(Math.floor(now / 1000)), 'webhook-signature': signature,
        },
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      await res.body?.cancel();
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (e) {
      error = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
    }
    const attempts = d.attempts + 1;
    if (status >= 200 && status < 300) {
      webhookDeliveries.inc({ result: 'delivered' });
      return { ...next, status: 'delivered', attempts, last_status: status, last_error: '' };
    }
    if (status === 410) {
      webhookDeliveries.inc({ result: 'gone' });
      await setActive(this.deps.store, s.subscription_id, false, `${s.url} answered 410 Gone`, { name: 'eastwatch', role: 'system' });
      this.deps.log.warn({ subscription_id: s.subscription_id, name: s.name }, 'webhook receiver answered 410 Gone: subscription disabled');
      return { ...next, status: 'failed', attempts, last_status: status, last_error: 'receiver answered 410 Gone: subscription disabled' };
    }
    const at = retryAt(this.cfg.retryDelaysMs, attempts, now, retryAfter);
    webhookDeliveries.inc({ result: at === undefined ? 'failed' : 'retry' });
    return at === undefined
      ? { ...next, status: 'failed', attempts, last_status: status, last_error: `${error}; given up after ${attempts} attempts`.slice(0, 1024) }
      : { ...next, attempts, next_attempt_at: at, last_status: status, last_error: error.slice(0, 1024) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.consumer.disconnect();
  }
}
