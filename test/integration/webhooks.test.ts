/**
 * The incident-response feed against real receivers on 127.0.0.1: signed deliveries verified with the
 * Standard Webhooks algorithm (written out here, and by the reference library), filters, a receiver that is
 * down getting its deliveries later, Retry-After honoured, 410 disabling the subscription, secret rotation with
 * two signatures, and a restart sending nothing twice.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { Alert } from '../../core/records';
import { produceAlerts, socQueue } from '../api-fixtures';
import { Child, cli, killChildren, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** A receiver: records every request; `answer` decides the status (and headers) per path. */
class Receiver {
  readonly got: Received[] = [];
  private server: Server | undefined;
  answer: (path: string, n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 204 });

  async listen(port = 0): Promise<number> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        this.got.push({ path: req.url!, headers: req.headers, body, at: Date.now() });
        const { status, headers } = this.answer(req.url!, this.got.filter((g) => g.path === req.url).length);
        res.writeHead(status, headers).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  /** Closes at once: the dispatcher's keep-alive connections are cut, not waited for. */
  close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  }

  on(path: string): Received[] {
    return this.got.filter((g) => g.path === path);
  }
}

/** The Standard Webhooks verification, as the specification writes it: HMAC-SHA256 over id.timestamp.body. */
function verifiesWith(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${String(r.headers['webhook-id'])}.${String(r.headers['webhook-timestamp'])}.${r.body}`).digest();
  return String(r.headers['webhook-signature']).split(' ').some((s) => {
    const [version, sig] = s.split(',');
    const got = Buffer.from(sig ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

const T0 = Date.now() + 60_000; // alerts raised after the subscriptions are made

describe('webhooks', () => {
  let t: TestEnv;
  let app: Child;
  let base = '';
  let admin = '';
  const receiver = new Receiver();
  const down = new Receiver();
  afterAll(async () => {
    killChildren();
    await receiver.close();
    await down.close();
    t?.cleanup();
  });

  const api = async (method: string, url: string, body?: unknown) => {
    const r = await fetch(`${base}/api/v1${url}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${text}`);
    return JSON.parse(text) as never;
  };
  const start = async () => {
    app = spawnCli(t, ['start', '--roles', 'writer,http']);
    base = `http://127.0.0.1:${await app.httpPort()}`;
  };

  it('delivers signed events to the subscriptions that want them, retries, honours Retry-After, stops on 410, rotates, and never sends twice', async () => {
    t = testEnv({ EASTWATCH_WEBHOOK_RETRY_DELAYS_MS: '300,600,1000,1500,2000,3000' });
    admin = (await cli(t, ['tokens', 'create', '--role', 'admin', '--name', 'ir-admin'])).trim();
    const port = await receiver.listen();
    // A port nobody listens on yet: the "down" receiver comes up there later.
    const downPort = await down.listen();
    await down.close();
    receiver.answer = (path, n) => (path === '/flaky' && n === 1 ? { status: 503, headers: { 'retry-after': '2' } } : path === '/gone' ? { status: 410 } : { status: 204 });
    await start();

    const sub = (name: string, url: string, filter: Record<string, unknown> = {}) => api('POST', '/webhooks', { name, url, ...filter }) as Promise<{ subscription: { subscription_id: string }; secret: string }>;
    const critical = await sub('soar-critical', `http://127.0.0.1:${port}/critical`, { severities: ['critical'], format: 'ocsf' });
    const scans = await sub('siem-scans', `http://127.0.0.1:${port}/scans`, { detectors: ['scan'] });
    const later = await sub('down-then-up', `http://127.0.0.1:${downPort}/later`, { detectors: ['zone-violation'] });
    await sub('flaky', `http://127.0.0.1:${port}/flaky`, { detectors: ['zone-violation'], severities: ['info'] });
    const gone = await sub('gone', `http://127.0.0.1:${port}/gone`, { detectors: ['scan'] });
    expect(critical.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    const listed = await api('GET', '/webhooks') as { subscriptions: Record<string, unknown>[] };
    expect(JSON.stringify(listed)).not.toContain('whsec_');

    const queue = socQueue(T0).filter((_, i) => i % 10 === 0); // 20 new-destination, 4 scans, 3 outside-allocation, 1 zone-violation
    const zone = socQueue(T0).filter((a) => a.detector === 'zone-violation');
    const alerts: Alert[] = [...queue, ...zone.slice(1, 6), zone[9]!];
    await produceAlerts(t, alerts);
    const wantCritical = alerts.filter((a) => a.severity === 'critical');
    const wantScans = alerts.filter((a) => a.detector === 'scan');
    await waitFor(() => receiver.on('/critical').length >= wantCritical.length && receiver.on('/scans').length >= wantScans.length || undefined, 30_000,
      () => `got ${receiver.on('/critical').length}/${wantCritical.length} critical, ${receiver.on('/scans').length}/${wantScans.length} scans:\n${app.output().split('\n').filter((l) => /"level":[45]0/.test(l)).join('\n').slice(-3000)}`);

    // Signed as the specification says, the reference library agreeing; each event once, in the subscription's format.
    for (const r of [...receiver.on('/critical'), ...receiver.on('/scans')]) {
      const secret = r.path === '/critical' ? critical.secret : scans.secret;
      expect(verifiesWith(secret, r)).toBe(true);
      expect(verifiesWith(scans.secret === secret ? critical.secret : scans.secret, r)).toBe(false);
      expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: 'alert.raised' });
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const criticalIds = receiver.on('/critical').map((r) => JSON.parse(r.body) as { type: string; data: { finding_info: { uid: string }; class_uid: number } });
    expect(criticalIds.map((b) => b.data.finding_info.uid).sort()).toEqual(wantCritical.map((a) => a.alert_id).sort());
    expect(criticalIds.every((b) => b.data.class_uid === 2004)).toBe(true);
    expect(receiver.on('/scans').map((r) => (JSON.parse(r.body) as { data: { alert_id: string; detector: string } }).data.detector)).toEqual(wantScans.map(() => 'scan'));
    expect(receiver.on('/critical').map((r) => r.headers['webhook-id'])).toEqual([...new Set(receiver.on('/critical').map((r) => r.headers['webhook-id']))]);

    // 410: the subscription is disabled, its other deliveries given up.
    await waitFor(async () => ((await api('GET', `/webhooks/${gone.subscription.subscription_id}`)) as { active: boolean }).active === false || undefined, 20_000, () => '410 did not disable');
    const goneSub = await api('GET', `/webhooks/${gone.subscription.subscription_id}`) as { disabled_reason: string; audit: { action: string; actor: string }[] };
    expect(goneSub.disabled_reason).toMatch(/410 Gone/);
    expect(goneSub.audit.map((a) => [a.action, a.actor])).toEqual([['webhook.create', 'ir-admin'], ['webhook.disable', 'eastwatch']]);
    expect(receiver.on('/gone')).toHaveLength(1);

    // 503 with Retry-After: 2 s: the second attempt waits for it, then succeeds.
    const first = receiver.on('/flaky')[0]!;
    const again = () => receiver.on('/flaky').find((r) => r !== first && r.headers['webhook-id'] === first.headers['webhook-id']);
    await waitFor(() => again(), 20_000, () => 'the flaky receiver was not retried');
    expect(again()!.at - first.at).toBeGreaterThanOrEqual(1900);

    // The receiver that was down comes up: it gets the deliveries, and the log shows the failed attempts before.
    await new Promise((r) => setTimeout(r, 1500));
    const pending = await api('GET', `/webhooks/${later.subscription.subscription_id}/deliveries`) as { deliveries: { status: string; attempts: number; last_error: string }[] };
    expect(pending.deliveries.length).toBe(alerts.filter((a) => a.detector === 'zone-violation').length);
    expect(pending.deliveries.every((d) => d.status === 'pending' && /ECONNREFUSED/.test(d.last_error))).toBe(true);
    expect(pending.deliveries.some((d) => d.attempts >= 2)).toBe(true);
    await down.listen(downPort);
    await waitFor(() => down.on('/later').length >= pending.deliveries.length || undefined, 20_000, () => `the receiver that came up got ${down.on('/later').length}`);
    for (const r of down.on('/later')) expect(verifiesWith(later.secret, r)).toBe(true);
    await waitFor(async () => ((await api('GET', `/webhooks/${later.subscription.subscription_id}/deliveries?status=delivered`)) as { deliveries: unknown[] }).deliveries.length === pending.deliveries.length || undefined,
      10_000, () => 'deliveries not logged as delivered');

    // Rotation: the new secret signs, the old one still does beside it.
    const rotated = await api('POST', `/webhooks/${scans.subscription.subscription_id}/rotate`) as { secret: string; subscription: { rotating_until?: string } };
    expect(rotated.subscription.rotating_until).toBeDefined();
    const ended: Alert = { ...wantScans[0]!, state: 'ended', updated_at: wantScans[0]!.updated_at + 900_000, last_seen: wantScans[0]!.last_seen + 60_000 };
    await produceAlerts(t, [ended]);
    await waitFor(() => receiver.on('/scans').some((r) => (JSON.parse(r.body) as { type: string }).type === 'alert.ended') || undefined, 20_000, () => 'no alert.ended delivery');
    const endedDelivery = receiver.on('/scans').find((r) => (JSON.parse(r.body) as { type: string }).type === 'alert.ended')!;
    expect(String(endedDelivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifiesWith(rotated.secret, endedDelivery) && verifiesWith(scans.secret, endedDelivery)).toBe(true);
    expect(endedDelivery.headers['webhook-id']).toBe(`${ended.alert_id}.ended`);

    // A restart re-reads the alerts topic from its committed offsets: nothing is sent twice; new events still go.
    const before = receiver.got.length + down.got.length;
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    await start();
    const fresh = socQueue(T0 + 3600e3).filter((a) => a.detector === 'scan').slice(0, 2);
    await produceAlerts(t, [...alerts.slice(0, 5), ...fresh]);
    await waitFor(() => receiver.on('/scans').length >= wantScans.length + 1 + fresh.length || undefined, 30_000, () => 'new events after the restart were not delivered');
    await new Promise((r) => setTimeout(r, 2000));
    expect(receiver.got.length + down.got.length).toBe(before + fresh.length);
    const ids = [...receiver.got, ...down.got].filter((r) => r.path !== '/flaky').map((r) => `${r.path} ${String(r.headers['webhook-id'])}`);
    expect(ids.length).toBe(new Set(ids).size);
  });
});
