/**
 * The SOC triage API over real HTTP against a running eastwatch (writer + http, embedded ClickHouse): every
 * route with and without a token and with each role, bad input and injection strings in every filter, paging,
 * filters, triage with its audit trail, grouping, bulk by filter, and the server's security defaults.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import * as path from 'node:path';
import type { Alert } from '../../core/records';
import { contextFlows, produceAlerts, socQueue } from '../api-fixtures';
import { ecsProblems, ocsfProblems } from '../siem-schemas';
import { produceFlows } from './produce';
import { cli, killChildren, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';
import { ROOT } from '../setup/broker';

const T0 = Date.parse('2026-11-30T08:00:00Z');
const MIN = 60_000;
const ROLES = ['viewer', 'analyst', 'admin'] as const;
type Role = (typeof ROLES)[number];

interface Page {
  alerts: (Record<string, unknown> & { alert_id: string; status: string; tags: string[] })[];
  next_cursor?: string;
}

describe('SOC triage API', () => {
  let t: TestEnv;
  let base = '';
  const tokens = {} as Record<Role, string>;
  const queue = socQueue(T0);

  const call = async (method: string, url: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const r = await fetch(base + url, {
      method,
      headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
      ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, json: () => JSON.parse(text) as never };
  };
  const get = async <T = Page>(url: string, role: Role = 'viewer'): Promise<T> => {
    const r = await call('GET', url, { token: tokens[role] });
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.text}`);
    return r.json() as T;
  };
  /** Every alert a query lists, page by page. */
  const all = async (query: string, limit = 1000): Promise<Page['alerts']> => {
    const out: Page['alerts'] = [];
    let cursor: string | undefined;
    do {
      const page = await get(`/api/v1/alerts?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      out.push(...page.alerts);
      cursor = page.next_cursor;
    } while (cursor);
    return out;
  };
  const ids = (alerts: readonly { alert_id: string }[]) => alerts.map((a) => a.alert_id).sort();

  beforeAll(async () => {
    t = testEnv({ EASTWATCH_API_RATE_LIMIT: '100000' });
    t.env.EASTWATCH_INVENTORY = path.join(t.home, 'inventory.yaml');
    copyFileSync(path.join(ROOT, 'inventory/example-64-nodes.yaml'), t.env.EASTWATCH_INVENTORY);
    for (const role of ROLES) tokens[role] = (await cli(t, ['tokens', 'create', '--role', role, '--name', `soc-${role}`])).trim();
    const app = spawnCli(t, ['start', '--roles', 'writer,http']);
    base = `http://127.0.0.1:${await app.httpPort()}`;
    await produceAlerts(t, queue);
    await produceFlows(t, contextFlows(T0));
    await cli(t, ['allocations', 'add', '--job', '88213', '--nodes', 'gpu[001-002]', '--start', new Date(T0 - 60 * MIN).toISOString(), '--end', new Date(T0 + 60 * MIN).toISOString(), '--pattern', 'ring']);
    await waitFor(async () => (await all('')).length === queue.length || undefined, 60_000, () => `the writer did not store ${queue.length} alerts:\n${app.output().slice(-2000)}`);
    const stored = async () => (await get<{ pairs: { flows: number }[] }>(`/api/v1/traffic/zone-matrix?since=${T0 - MIN}&until=${T0 + 4 * 3600e3}`)).pairs.reduce((n, p) => n + p.flows, 0);
    await waitFor(async () => (await stored()) === contextFlows(T0).length || undefined, 60_000, () => 'the writer did not store the flows');
    await waitFor(async () => (await get<{ allocations: unknown[] }>(`/api/v1/nodes/gpu001/allocations?since=${T0}`)).allocations.length > 0 || undefined, 30_000, () => 'no allocation stored');
  }, 120_000);
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  const anAlert = () => queue[0]!.alert_id;
  /** A new active suppression (each revoke route call ends one). */
  const aSuppression = async () => {
    const r = await call('POST', '/api/v1/suppressions', { token: tokens.analyst, body: { detector: 'scan', match: { src_node: 'gpu011' }, reason: 'route table', duration_minutes: 5 } });
    return (r.json() as { suppression_id: string }).suppression_id;
  };
  let webhook: string | undefined;
  const aWebhook = async () => {
    webhook ??= ((await call('POST', '/api/v1/webhooks', { token: tokens.admin, body: { name: 'route-table', url: 'http://127.0.0.1:9/hook', detectors: ['none'] } })).json() as { subscription: { subscription_id: string } }).subscription.subscription_id;
    return webhook;
  };
  const aGroup = async () => (await get<{ groups: { group_id: string }[] }>('/api/v1/alert-groups?detector=scan&limit=1')).groups[0]!.group_id;

  /** Every API route, the least role it takes, and a request it accepts. */
  const ROUTES: { method: string; path: string; role: Role; url: () => Promise<string> | string; body?: () => unknown; ok: number }[] = [
    { method: 'GET', path: '/api/v1/inventory', role: 'viewer', url: () => '/api/v1/inventory', ok: 200 },
    {
      method: 'PUT', path: '/api/v1/inventory', role: 'admin', url: () => '/api/v1/inventory', ok: 200,
      body: async () => {
        const { yaml, sha256 } = (await call('GET', '/api/v1/inventory', { token: tokens.viewer })).json() as { yaml: string; sha256: string };
        return { yaml, sha256, reason: 'route table: the same file again' };
      },
    },
    { method: 'POST', path: '/api/v1/allocations', role: 'admin', url: () => '/api/v1/allocations', ok: 202, body: () => ({ events: [{ job_id: 'routes', nodes: 'gpu[050-051]', start: T0 }] }) },
    { method: 'POST', path: '/api/v1/webhooks', role: 'admin', url: () => '/api/v1/webhooks', ok: 201, body: () => ({ name: 'routes', url: 'http://127.0.0.1:9/hook' }) },
    { method: 'GET', path: '/api/v1/webhooks', role: 'admin', url: () => '/api/v1/webhooks', ok: 200 },
    { method: 'GET', path: '/api/v1/webhooks/{id}', role: 'admin', url: async () => `/api/v1/webhooks/${await aWebhook()}`, ok: 200 },
    { method: 'GET', path: '/api/v1/webhooks/{id}/deliveries', role: 'admin', url: async () => `/api/v1/webhooks/${await aWebhook()}/deliveries`, ok: 200 },
    { method: 'POST', path: '/api/v1/webhooks/{id}/rotate', role: 'admin', url: async () => `/api/v1/webhooks/${await aWebhook()}/rotate`, ok: 200 },
    { method: 'POST', path: '/api/v1/webhooks/{id}/disable', role: 'admin', url: async () => `/api/v1/webhooks/${await aWebhook()}/disable`, body: () => ({ reason: 'x' }), ok: 200 },
    { method: 'POST', path: '/api/v1/webhooks/{id}/enable', role: 'admin', url: async () => `/api/v1/webhooks/${await aWebhook()}/enable`, body: () => ({ reason: 'x' }), ok: 200 },
    { method: 'GET', path: '/api/v1/audit', role: 'admin', url: () => '/api/v1/audit?limit=5', ok: 200 },
    { method: 'GET', path: '/api/v1/alerts', role: 'viewer', url: () => '/api/v1/alerts', ok: 200 },
    { method: 'GET', path: '/api/v1/alerts/{id}', role: 'viewer', url: () => `/api/v1/alerts/${anAlert()}`, ok: 200 },
    { method: 'PATCH', path: '/api/v1/alerts/{id}', role: 'analyst', url: () => `/api/v1/alerts/${anAlert()}`, body: () => ({ add_tags: ['roles'] }), ok: 200 },
    { method: 'POST', path: '/api/v1/alerts/{id}/notes', role: 'analyst', url: () => `/api/v1/alerts/${anAlert()}/notes`, body: () => ({ text: 'seen' }), ok: 201 },
    { method: 'POST', path: '/api/v1/alerts/bulk', role: 'analyst', url: () => '/api/v1/alerts/bulk', body: () => ({ ids: [anAlert()], change: { add_tags: ['bulk'] } }), ok: 200 },
    { method: 'GET', path: '/api/v1/alert-groups', role: 'viewer', url: () => '/api/v1/alert-groups', ok: 200 },
    { method: 'GET', path: '/api/v1/alert-groups/{group}', role: 'viewer', url: async () => `/api/v1/alert-groups/${await aGroup()}`, ok: 200 },
    { method: 'GET', path: '/api/v1/alerts/{id}/flows', role: 'viewer', url: () => `/api/v1/alerts/${anAlert()}/flows`, ok: 200 },
    { method: 'GET', path: '/api/v1/nodes/{node}/timeline', role: 'viewer', url: () => '/api/v1/nodes/gpu001/timeline', ok: 200 },
    { method: 'GET', path: '/api/v1/nodes/{node}/allocations', role: 'viewer', url: () => '/api/v1/nodes/gpu001/allocations', ok: 200 },
    { method: 'GET', path: '/api/v1/jobs/{job}/timeline', role: 'viewer', url: () => '/api/v1/jobs/88213/timeline', ok: 200 },
    { method: 'GET', path: '/api/v1/traffic/top-talkers', role: 'viewer', url: () => '/api/v1/traffic/top-talkers', ok: 200 },
    { method: 'GET', path: '/api/v1/traffic/zone-matrix', role: 'viewer', url: () => '/api/v1/traffic/zone-matrix', ok: 200 },
    { method: 'GET', path: '/api/v1/suppressions', role: 'viewer', url: () => '/api/v1/suppressions?active=true', ok: 200 },
    { method: 'GET', path: '/api/v1/suppressions/{id}', role: 'viewer', url: async () => `/api/v1/suppressions/${await aSuppression()}`, ok: 200 },
    {
      method: 'POST', path: '/api/v1/suppressions', role: 'analyst', url: () => '/api/v1/suppressions', ok: 201,
      body: () => ({ detector: 'scan', match: { src_node: 'gpu010', dst_port: 22 }, reason: 'vulnerability scanner', duration_minutes: 60 }),
    },
    { method: 'POST', path: '/api/v1/suppressions/{id}/revoke', role: 'analyst', url: async () => `/api/v1/suppressions/${await aSuppression()}/revoke`, body: () => ({ reason: 'done' }), ok: 200 },
  ];

  it('documents every API route with its role in the OpenAPI document at /docs, and the route table here covers them all', async () => {
    const doc = (await call('GET', '/docs/json')).json() as { paths: Record<string, Record<string, { 'x-role'?: string; security?: unknown[] }>> };
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({ route: `${m.toUpperCase()} ${p}`, role: op['x-role'], security: op.security })))
      .filter((r) => r.route.includes('/api/v1/') && !r.route.endsWith('/alertmanager'));
    expect(documented.map((d) => d.route).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const d of documented) {
      expect(d.role).toBe(ROUTES.find((r) => `${r.method} ${r.path}` === d.route)!.role);
      expect(d.security).toEqual([{ bearer: [] }]);
    }
    // The README's route table lists the same routes with the same roles (its :param for OpenAPI's {param}).
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/api\/v1\/[^`]*)` \| (\w+) \|/gm)]
      .map(([, m, p, role]) => `${m} ${p!.replace(/:(\w+)/g, '{$1}')} ${role}`);
    expect(listed.sort()).toEqual(documented.map((d) => `${d.route} ${d.role}`).sort());
    const ui = await call('GET', '/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toMatch(/swagger-ui/i);
  });

  it('answers 401 without a token or with a bad one, 403 to a lower role, and serves the role it names and those above', async () => {
    for (const r of ROUTES) {
      const url = await r.url();
      const body = await r.body?.();
      const none = await call(r.method, url, { body });
      expect([r.path, none.status, none.headers.get('www-authenticate')]).toEqual([r.path, 401, 'Bearer realm="eastwatch"']);
      expect(none.json()).toMatchObject({ statusCode: 401, message: expect.stringContaining('eastwatch tokens create') });
      const forged = await call(r.method, url, { body, token: `${tokens.admin.slice(0, -4)}AAAA` });
      expect([r.path, forged.status]).toEqual([r.path, 401]);
      for (const role of ROLES) {
        // A fresh target and body each time: a revoke ends one, a replacement changes the version.
        const res = await call(r.method, await r.url(), { body: await r.body?.(), token: tokens[role] });
        const allowed = ROLES.indexOf(role) >= ROLES.indexOf(r.role);
        expect([r.path, role, res.status]).toEqual([r.path, role, allowed ? r.ok : 403]);
        if (!allowed) expect(res.json()).toMatchObject({ message: `this needs the ${r.role} role; token soc-${role} has ${role}` });
      }
    }
  });

  it('refuses bad input with 400 and a message naming the field', async () => {
    const bad: [string, string, unknown, RegExp][] = [
      ['GET', '/api/v1/alerts?limit=0', undefined, /^querystring\.limit: /],
      ['GET', '/api/v1/alerts?limit=abc', undefined, /^querystring\.limit: /],
      ['GET', '/api/v1/alerts?severity=urgent', undefined, /^querystring\.severity\.0: /],
      ['GET', '/api/v1/alerts?address=10.0.0.256', undefined, /querystring\.address\.0: not an IPv4 or IPv6 address/],
      ['GET', '/api/v1/alerts?since=yesterday', undefined, /^querystring\.since/],
      ['GET', '/api/v1/alerts?since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z', undefined, /querystring\.since: since is after until/],
      ['GET', '/api/v1/alerts?sort=summary', undefined, /^querystring\.sort: /],
      ['GET', '/api/v1/alerts?cursor=bm9wZQ', undefined, /^cursor: not a cursor this API gave out$/],
      ['GET', '/api/v1/alerts?colour=red', undefined, /colour/],
      ['GET', '/api/v1/alerts/not-a-uuid', undefined, /^params\.id: /],
      ['PATCH', `/api/v1/alerts/${queue[1]!.alert_id}`, { status: 'closed' }, /^closing an alert takes a close_reason/],
      ['PATCH', `/api/v1/alerts/${queue[1]!.alert_id}`, { status: 'acknowledged', close_reason: 'duplicate' }, /^close_reason applies only to status closed, not acknowledged$/],
      ['PATCH', `/api/v1/alerts/${queue[1]!.alert_id}`, { reason: 'nothing' }, /nothing to change/],
      ['PATCH', `/api/v1/alerts/${queue[1]!.alert_id}`, { status: 'resolved' }, /^body\.status: /],
      ['PATCH', `/api/v1/alerts/${queue[1]!.alert_id}`, { add_tags: ['has space'] }, /^body\.add_tags\.0: a tag is/],
      ['PATCH', `/api/v1/alerts/${queue[1]!.alert_id}`, '{"status":', /JSON/i],
      ['POST', '/api/v1/alerts/bulk', { change: { status: 'acknowledged' } }, /give ids or filter, not both/],
      ['POST', '/api/v1/alerts/bulk', { ids: [queue[1]!.alert_id], filter: {}, change: { status: 'acknowledged' } }, /give ids or filter, not both/],
    ];
    for (const [method, url, body, message] of bad) {
      const r = await call(method, url, { token: tokens.admin, body });
      expect([url, r.status]).toEqual([url, 400]);
      expect([url, (r.json() as { message: string }).message]).toEqual([url, expect.stringMatching(message)]);
    }
    const missing = await call('PATCH', '/api/v1/alerts/00000000-0000-4000-8000-000000000000', { token: tokens.admin, body: { status: 'acknowledged' } });
    expect([missing.status, (missing.json() as { message: string }).message]).toEqual([404, 'no alert 00000000-0000-4000-8000-000000000000']);
    const huge = await call('PATCH', `/api/v1/alerts/${queue[1]!.alert_id}`, { token: tokens.admin, body: { reason: 'x'.repeat(2 * 1024 * 1024), status: 'acknowledged' } });
    expect(huge.status).toBe(413);
  });

  it('binds every filter: injection strings match nothing, change nothing and leak nothing', async () => {
    const INJECTIONS = ["' OR 1=1 --", "x') OR ('1'='1", "'; DROP TABLE alerts; --", '{zone:String}', "\\' UNION SELECT name FROM system.tables --", 'gpu001\' OR src_node != \'', '%00'];
    const FILTERS = ['detector', 'severity', 'state', 'status', 'zone', 'job', 'node', 'address', 'group', 'tag', 'assignee', 'since', 'until', 'q', 'sort', 'cursor', 'limit', 'format'];
    for (const f of FILTERS) {
      for (const s of INJECTIONS) {
        const r = await call('GET', `/api/v1/alerts?${f}=${encodeURIComponent(s)}`, { token: tokens.viewer });
        expect([f, s, r.status === 200 ? (r.json() as Page).alerts.length : r.status]).toEqual([f, s, r.status === 200 ? 0 : 400]);
        expect(r.text).not.toMatch(/SELECT|system\.|DB::|Code: \d+|\.js:\d+/);
      }
    }
    for (const s of INJECTIONS) {
      const r = await call('POST', '/api/v1/alerts/bulk', { token: tokens.analyst, body: { filter: { zone: s, q: s }, change: { add_tags: ['injected'] } } });
      expect([s, r.status, r.text]).toEqual([s, 200, JSON.stringify({ matched: 0, changed: 0 })]);
    }
    expect(await all('')).toHaveLength(queue.length);
    expect(await all('tag=injected')).toHaveLength(0);
  });

  it('pages by cursor through every sort without a gap or a repeat, ties included', async () => {
    for (const sort of ['-time', 'time', 'severity', '-severity', 'bytes', '-bytes', 'last_seen']) {
      const whole = (await get(`/api/v1/alerts?sort=${sort}&limit=1000`)).alerts;
      const paged = await all(`sort=${sort}`, 23);
      expect(paged.map((a) => a.alert_id)).toEqual(whole.map((a) => a.alert_id));
      expect(new Set(paged.map((a) => a.alert_id)).size).toBe(queue.length);
    }
    const newest = (await get('/api/v1/alerts?sort=-time&limit=1000')).alerts.map((a) => Date.parse(String(a.time)));
    expect(newest).toEqual([...newest].sort((a, b) => b - a));
    const bySeverity = (await get('/api/v1/alerts?sort=-severity&limit=1000')).alerts.map((a) => ['info', 'warning', 'critical'].indexOf(String(a.severity)));
    expect(bySeverity).toEqual([...bySeverity].sort((a, b) => b - a));
    const page = await get('/api/v1/alerts?sort=time&limit=5');
    const other = await call('GET', `/api/v1/alerts?sort=-time&cursor=${page.next_cursor}`, { token: tokens.viewer });
    expect([other.status, (other.json() as { message: string }).message]).toEqual([400, 'cursor: made for sort time, not -time']);
  });

  it('filters by every field as the queue holds them', async () => {
    const expect_ = (pred: (a: Alert) => boolean) => ids(queue.filter(pred));
    const cases: [string, (a: Alert) => boolean][] = [
      ['detector=scan&detector=zone-violation', (a) => a.detector === 'scan' || a.detector === 'zone-violation'],
      ['severity=info,warning', (a) => a.severity !== 'critical'],
      ['zone=inference', (a) => a.src_zone === 'inference' || a.dst_zone === 'inference'],
      ['zone=weights', (a) => a.dst_zone === 'weights'],
      ['job=K1', (a) => a.src_job === 'K1' || a.dst_job === 'K1'],
      ['node=vault01', (a) => a.dst_node === 'vault01'],
      ['node=gpu015', (a) => a.src_node === 'gpu015'],
      ['address=203.0.113.7', (a) => a.dst_addr === '203.0.113.7'],
      ['address=10.30.1.1', (a) => a.src_addr === '10.30.1.1'],
      ['q=SSH%20SCAN', (a) => a.summary.toLowerCase().includes('ssh scan')],
      [`since=${new Date(T0 + 20 * MIN).toISOString()}&until=${T0 + 40 * MIN}`, (a) => a.time >= T0 + 20 * MIN && a.time <= T0 + 40 * MIN],
      ['state=ended', () => false],
      ['detector=scan&zone=training&since=2026-11-30T08:30:00Z', (a) => a.detector === 'scan' && a.time >= T0 + 30 * MIN],
    ];
    for (const [query, pred] of cases) expect([query, ids(await all(query))]).toEqual([query, expect_(pred)]);
    const one = (await get(`/api/v1/alerts?address=203.0.113.7`)).alerts[0]!;
    expect(one).toMatchObject({
      detector: 'new-destination', severity: 'critical', state: 'firing', status: 'open', tags: [], src_node: 'gpu001', src_addr: '10.30.1.1', dst_addr: '203.0.113.7',
      src_job: '88213', dst_port: 443, protocol: 6, bytes: 7000, group_id: expect.stringMatching(/^[0-9a-f]{16}$/), evidence: { top_flows: [] },
    });
  });

  it('groups related alerts: 200 new destinations of one node are one group, listed with its members', async () => {
    const { groups } = await get<{ groups: { group_id: string; detector: string; source: string; alerts: number; open: number; severity: string }[] }>('/api/v1/alert-groups?detector=new-destination');
    expect(groups).toEqual([expect.objectContaining({ detector: 'new-destination', source: 'gpu001', alerts: 200, severity: 'critical' })]);
    const scans = await get<{ groups: unknown[] }>('/api/v1/alert-groups?detector=scan&limit=1000');
    expect(scans.groups).toHaveLength(40);
    const members: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await get<Page & { group: { alerts: number } }>(`/api/v1/alert-groups/${groups[0]!.group_id}?limit=64${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.group.alerts).toBe(200);
      members.push(...page.alerts.map((a) => a.alert_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(members.sort()).toEqual(ids(queue.filter((a) => a.detector === 'new-destination')));
    expect(ids(await all(`group=${groups[0]!.group_id}`))).toEqual(members);
    const none = await call('GET', '/api/v1/alert-groups/0123456789abcdef', { token: tokens.viewer });
    expect(none.status).toBe(404);
  });

  it('triages an alert through acknowledge, assign, tag, close and reopen, every change in its audit trail', async () => {
    const id = queue.find((a) => a.detector === 'zone-violation')!.alert_id;
    const patch = async (body: unknown, role: Role = 'analyst') => {
      const r = await call('PATCH', `/api/v1/alerts/${id}`, { token: tokens[role], body });
      expect([r.status, r.text.slice(0, 200)]).toEqual([200, expect.any(String)]);
      return r.json() as Page['alerts'][number] & { audit: { actor: string; action: string; changes: Record<string, { from: unknown; to: unknown }>; reason: string }[] };
    };
    await patch({ status: 'acknowledged', reason: 'looking' });
    await patch({ assignee: 'alice', add_tags: ['nfs', 'vault'] });
    await patch({ assignee: 'alice' }); // no change: not audited
    await patch({ status: 'closed', close_reason: 'true_positive', remove_tags: ['nfs'], reason: 'confirmed: inference pod reading weights' }, 'admin');
    const noted = await call('POST', `/api/v1/alerts/${id}/notes`, { token: tokens.analyst, body: { text: 'escalated to IR-4411' } });
    expect(noted.status).toBe(201);
    const reopened = await patch({ status: 'open', assignee: null, reason: 'new activity' });
    expect(reopened).toMatchObject({ status: 'open', tags: ['vault'], triaged_by: 'soc-analyst' });
    expect(reopened.close_reason).toBeUndefined();
    expect(reopened.assignee).toBeUndefined();
    expect(reopened.audit.map(({ actor, action, changes, reason }) => ({ actor, action, changes, reason }))).toEqual([
      { actor: 'soc-analyst', action: 'alert.triage', changes: { status: { from: 'open', to: 'acknowledged' } }, reason: 'looking' },
      { actor: 'soc-analyst', action: 'alert.triage', changes: { assignee: { from: null, to: 'alice' }, tags: { from: [], to: ['nfs', 'vault'] } }, reason: '' },
      {
        actor: 'soc-admin', action: 'alert.triage', reason: 'confirmed: inference pod reading weights',
        changes: { status: { from: 'acknowledged', to: 'closed' }, close_reason: { from: null, to: 'true_positive' }, tags: { from: ['nfs', 'vault'], to: ['vault'] } },
      },
      { actor: 'soc-analyst', action: 'alert.note', changes: {}, reason: 'escalated to IR-4411' },
      {
        actor: 'soc-analyst', action: 'alert.triage', reason: 'new activity',
        changes: { status: { from: 'closed', to: 'open' }, close_reason: { from: 'true_positive', to: null }, assignee: { from: 'alice', to: null } },
      },
    ]);
    const shown = await get<{ audit: unknown[] }>(`/api/v1/alerts/${id}`);
    expect(shown.audit).toHaveLength(5);
  });

  it('changes by filter exactly the alerts the same filter lists, time range included, and says how many', async () => {
    const filter = { detector: ['scan'], since: new Date(T0 + 30 * MIN).toISOString(), until: String(T0 + 45 * MIN) };
    const listed = ids(await all(`detector=scan&since=${filter.since}&until=${filter.until}`));
    expect(listed.length).toBe(16);
    const r = await call('POST', '/api/v1/alerts/bulk', { token: tokens.analyst, body: { filter, change: { status: 'closed', close_reason: 'benign_positive', add_tags: ['pentest'], reason: 'red team week' } } });
    expect([r.status, r.json()]).toEqual([200, { matched: 16, changed: 16 }]);
    expect(ids(await all('status=closed&tag=pentest'))).toEqual(listed);
    expect(await all('detector=scan&status=open')).toHaveLength(40 - 16);
    const again = await call('POST', '/api/v1/alerts/bulk', { token: tokens.analyst, body: { filter, change: { status: 'closed', close_reason: 'benign_positive' } } });
    expect(again.json()).toEqual({ matched: 16, changed: 0 });
    const byIds = await call('POST', '/api/v1/alerts/bulk', { token: tokens.analyst, body: { ids: listed.slice(0, 3), change: { status: 'open' } } });
    expect(byIds.json()).toEqual({ matched: 3, changed: 3 });
    for (const id of listed) {
      const { audit } = await get<{ audit: { action: string; reason: string }[] }>(`/api/v1/alerts/${id}`);
      expect(audit.filter((a) => a.action === 'alert.triage').length).toBe(listed.slice(0, 3).includes(id) ? 2 : 1);
      expect(audit[0]).toMatchObject({ reason: 'red team week' });
    }
  });

  it("shows an alert's flows, paged: those of its ends and port within its episode, nothing else", async () => {
    const vault = queue.find((a) => a.detector === 'zone-violation' && a.src_node === 'inf0')!;
    const first = await get<{ flows: Record<string, unknown>[]; next_cursor?: string }>(`/api/v1/alerts/${vault.alert_id}/flows?limit=2`);
    expect(first.flows).toHaveLength(2);
    const rest = await get<{ flows: Record<string, unknown>[]; next_cursor?: string }>(`/api/v1/alerts/${vault.alert_id}/flows?limit=2&cursor=${first.next_cursor}`);
    expect(rest.next_cursor).toBeUndefined();
    const flows = [...first.flows, ...rest.flows];
    expect(flows.map((f) => f.bytes)).toEqual([1_000_000, 2_000_000, 3_000_000]);
    expect(flows[0]).toMatchObject({ src_addr: '10.40.0.1', src_node: 'inf0', dst_addr: '10.50.0.1', dst_node: 'vault01', dst_port: 2049, protocol: 6, dst_zone: 'weights', source_kind: 'ipfix' });
    const scan = queue.find((a) => a.detector === 'scan')!;
    expect((await get<{ flows: unknown[] }>(`/api/v1/alerts/${scan.alert_id}/flows`)).flows).toEqual([]);
    const bad = await call('GET', `/api/v1/alerts/${vault.alert_id}/flows?cursor=${encodeURIComponent("o1' OR 1=1")}`, { token: tokens.viewer });
    expect([bad.status, (bad.json() as { message: string }).message]).toEqual([400, 'cursor: not a cursor this API gave out']);
  });

  it("shows a node's and a job's timeline, top talkers, the zone matrix and a node's allocations, from the rollups", async () => {
    const w = `since=${new Date(T0 - 10 * MIN).toISOString()}&until=${new Date(T0 + 60 * MIN).toISOString()}`;
    type Row = { bucket: string; dir: string; peer: string; peer_zone: string; peer_job?: string; port: number; flows: number; bytes: number };
    const node = await get<{ rows: Row[] }>(`/api/v1/nodes/gpu001/timeline?${w}`);
    const sent = node.rows.filter((r) => r.dir === 'out');
    expect(sent.filter((r) => r.peer_zone === 'internet').reduce((n, r) => n + r.bytes, 0)).toBe(1000 * (20 * 21) / 2);
    expect(sent.filter((r) => r.peer === 'gpu002')).toEqual(expect.arrayContaining([expect.objectContaining({ port: 4791, peer_job: '88213', bytes: 1e7, flows: 1 })]));
    expect(sent.filter((r) => r.peer === 'gpu002').reduce((n, r) => n + r.bytes, 0)).toBe(6e7);
    expect(new Set(sent.map((r) => r.peer)).size).toBe(21);
    expect(node.rows.map((r) => r.bucket)).toEqual([...node.rows.map((r) => r.bucket)].sort());
    const gpu002 = await get<{ rows: Row[] }>(`/api/v1/nodes/gpu002/timeline?${w}`);
    expect(gpu002.rows.every((r) => r.dir === 'in' && r.peer === 'gpu001')).toBe(true);
    const job = await get<{ rows: (Row & { node: string })[] }>(`/api/v1/jobs/88213/timeline?${w}`);
    expect(new Set(job.rows.map((r) => r.node))).toEqual(new Set(['gpu001', 'gpu002']));
    expect(job.rows.filter((r) => r.peer_job !== '88213').every((r) => r.peer_zone === 'internet')).toBe(true);

    const talkers = await get<{ talkers: { key: string; bytes: number; peers: number }[] }>(`/api/v1/traffic/top-talkers?${w}&by=node`);
    expect(talkers.talkers[0]).toEqual({ key: 'gpu001', zone: 'training', bytes: 6e7 + 210_000, flows: 26, peers: 21 });
    const zones = await get<{ pairs: { src_zone: string; dst_zone: string; bytes: number }[] }>(`/api/v1/traffic/zone-matrix?since=${T0 - MIN}&until=${T0 + 4 * 3600e3}`);
    expect(zones.pairs).toEqual(expect.arrayContaining([
      { src_zone: 'training', dst_zone: 'internet', bytes: 210_000, flows: 20 }, { src_zone: 'inference', dst_zone: 'weights', bytes: 6_001_200, flows: 5 },
    ]));
    const allocations = await get<{ allocations: unknown[] }>(`/api/v1/nodes/gpu001/allocations?${w}`);
    expect(allocations.allocations).toEqual([{ job_id: '88213', start: new Date(T0 - 60 * MIN).toISOString(), end: new Date(T0 + 60 * MIN).toISOString(), pattern: 'ring', source: 'cli' }]);

    for (const s of ["gpu001' OR 1=1 --", "x') UNION SELECT 1 --"]) {
      for (const route of ['nodes', 'jobs']) {
        const r = await call('GET', `/api/v1/${route}/${encodeURIComponent(s)}/timeline?${w}`, { token: tokens.viewer });
        expect([s, r.status, (r.json() as { rows: unknown[] }).rows]).toEqual([s, 200, []]);
      }
    }
    const long = await call('GET', '/api/v1/traffic/zone-matrix?since=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z', { token: tokens.viewer });
    expect([long.status, (long.json() as { message: string }).message]).toEqual([400, 'querystring.since: the window must have since before until and span at most 31 days']);
  });

  it('exports the queue as OCSF Detection Findings and ECS documents, every one valid, paged like the list', async () => {
    for (const format of ['ocsf', 'ecs'] as const) {
      const events: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      do {
        const page = await get<{ format: string; events: Record<string, unknown>[]; next_cursor?: string }>(`/api/v1/alerts?format=${format}&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.format).toBe(format);
        events.push(...page.events);
        cursor = page.next_cursor;
      } while (cursor);
      expect(events).toHaveLength(queue.length);
      for (const e of events) expect(format === 'ocsf' ? ocsfProblems(e) : ecsProblems(e)).toEqual([]);
    }
    const lateral = queue.find((a) => a.detector === 'outside-allocation')!;
    expect(await get(`/api/v1/alerts/${lateral.alert_id}?format=ocsf`)).toMatchObject({
      class_uid: 2004, finding_info: { uid: lateral.alert_id, title: lateral.summary, analytic: { uid: 'outside-allocation', type_id: 1 } }, severity_id: 5, status_id: 1,
      evidences: [{ src_endpoint: { ip: lateral.src_addr, name: lateral.src_node }, dst_endpoint: { ip: lateral.dst_addr, port: 22 }, connection_info: { direction_id: 3 } }],
      metadata: { product: { name: 'eastwatch' }, version: '1.8.0' },
    });
    expect(await get(`/api/v1/alerts/${lateral.alert_id}?format=ecs`)).toMatchObject({ event: { kind: 'alert', id: lateral.alert_id }, rule: { id: 'outside-allocation' }, network: { direction: 'internal' } });
    const bad = await call('GET', '/api/v1/alerts?format=cef', { token: tokens.viewer });
    expect([bad.status, (bad.json() as { message: string }).message]).toEqual([400, expect.stringMatching(/^querystring\.format: /)]);
  });

  it('reads and replaces the inventory: validated, against the version read, atomically, audited', async () => {
    const file = t.env.EASTWATCH_INVENTORY!;
    const before = (await call('GET', '/api/v1/inventory', { token: tokens.viewer })).json() as { yaml: string; sha256: string; nodes: number; zones: string[] };
    expect(before).toMatchObject({ file, yaml: readFileSync(file, 'utf8'), nodes: expect.any(Number), zones: expect.arrayContaining(['training', 'inference']) });
    const put = (body: unknown, role: Role = 'admin') => call('PUT', '/api/v1/inventory', { token: tokens[role], body });

    const broken = before.yaml.replace('zones: [training, inference]', 'zones: [training, nowhere]');
    expect(broken).not.toBe(before.yaml);
    const invalid = await put({ yaml: broken, sha256: before.sha256, reason: 'typo' });
    expect([invalid.status, (invalid.json() as { message: string }).message]).toEqual([400, expect.stringMatching(/^invalid inventory:\n.*nowhere/s)]);
    expect((await put({ yaml: 'zones: [', sha256: before.sha256, reason: 'x' })).status).toBe(400);
    expect(readFileSync(file, 'utf8')).toBe(before.yaml);

    const next = `${before.yaml}\n# reviewed by the SOC\n`;
    const replaced = await put({ yaml: next, sha256: before.sha256, reason: 'quarterly review' });
    expect(replaced.status).toBe(200);
    expect(readFileSync(file, 'utf8')).toBe(next);
    const stale = await put({ yaml: before.yaml, sha256: before.sha256, reason: 'late' });
    expect([stale.status, (stale.json() as { message: string }).message]).toEqual([409, expect.stringMatching(/^the inventory changed since it was read/)]);

    const { entries } = await get<{ entries: { action: string; actor: string; reason: string; changes: Record<string, unknown> }[] }>(`/api/v1/audit?target_kind=inventory&limit=1`, 'admin');
    expect(entries[0]).toMatchObject({ action: 'inventory.replace', actor: 'soc-admin', reason: 'quarterly review', changes: { sha256: { from: before.sha256, to: (replaced.json() as { sha256: string }).sha256 } } });
  });

  it('takes allocation events pushed by a scheduler hook onto the allocations topic, validated whole', async () => {
    const push = (events: unknown[]) => call('POST', '/api/v1/allocations', { token: tokens.admin, body: { events } });
    const bad = await push([{ job_id: 'ok', nodes: 'gpu060', start: T0 }, { job_id: 'late', nodes: 'gpu061', start: T0, end: T0 - 1 }]);
    expect([bad.status, (bad.json() as { message: string }).message]).toEqual([400, expect.stringContaining('end is before start')]);
    const hostlist = await push([{ job_id: 'x', nodes: 'gpu[9-1]', start: T0 }]);
    expect([hostlist.status, (hostlist.json() as { message: string }).message]).toEqual([400, expect.stringMatching(/^event 0 \(job x\): /)]);
    const ok = await push([{ job_id: 'hook-7', nodes: 'gpu[060-061]', start: new Date(T0).toISOString(), pattern: 'all-to-all', source: 'slurm-prolog' }]);
    expect([ok.status, ok.json()]).toEqual([202, { published: 1 }]);
    await waitFor(async () => (await get<{ allocations: { job_id: string }[] }>(`/api/v1/nodes/gpu061/allocations?since=${T0}`)).allocations[0]?.job_id === 'hook-7' || undefined,
      30_000, () => 'the pushed allocation was not stored');
    const { entries } = await get<{ entries: { action: string; target: string; changes: Record<string, { to: unknown }> }[] }>('/api/v1/audit?target_kind=allocation&target=hook-7', 'admin');
    expect(entries).toEqual([expect.objectContaining({ action: 'allocation.push', target: 'hook-7', changes: expect.objectContaining({ nodes: { from: null, to: 'gpu[060-061]' } }) })]);
  });

  it('sends security headers, no CORS headers by default, and takes token changes within a second', async () => {
    const r = await call('GET', '/api/v1/alerts?limit=1', { token: tokens.viewer, headers: { origin: 'https://evil.example' } });
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(r.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    expect(r.headers.get('x-ratelimit-limit')).toBe('100000');

    const temp = (await cli(t, ['tokens', 'create', '--role', 'viewer', '--name', 'temp'])).trim();
    await waitFor(async () => (await call('GET', '/api/v1/alerts?limit=1', { token: temp })).status === 200 || undefined, 5000, () => 'a new token was not taken');
    const listed = await cli(t, ['tokens', 'list']);
    expect(listed).toMatch(/ viewer +temp +created /);
    expect(listed).not.toContain(temp.split('_')[2]!);
    await cli(t, ['tokens', 'revoke', 'temp']);
    await waitFor(async () => (await call('GET', '/api/v1/alerts?limit=1', { token: temp })).status === 401 || undefined, 5000, () => 'a revoked token still works');
    await expect(cli(t, ['tokens', 'create', '--role', 'root', '--name', 'x'])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('expected one of viewer, analyst, admin') });
  });
});

describe('SOC triage API over TLS, rate limited', () => {
  let t: TestEnv;
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('serves HTTPS only with the configured certificate and answers 429 past the rate limit', async () => {
    t = testEnv({ EASTWATCH_API_RATE_LIMIT: '5' });
    const cert = path.join(t.home, 'cert.pem');
    const key = path.join(t.home, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const token = (await cli(t, ['tokens', 'create', '--role', 'viewer', '--name', 'tls'])).trim();
    const app = spawnCli(t, ['start', '--roles', 'writer,http'], { EASTWATCH_HTTP_TLS_CERT: cert, EASTWATCH_HTTP_TLS_KEY: key });
    const port = await app.httpPort();
    const get = (p: string) => new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: p, ca: execFileSync('cat', [cert]), headers: { authorization: `Bearer ${token}` } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
    expect((await get('/healthz')).status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get('/api/v1/alerts?limit=1')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await get('/api/v1/alerts?limit=1');
    expect(JSON.parse(limited.body)).toMatchObject({ statusCode: 429, message: expect.stringMatching(/Rate limit exceeded/) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Probes and scrapes are never limited.
    for (let i = 0; i < 10; i++) expect((await get('/healthz')).status).toBe(200);
  });
});
