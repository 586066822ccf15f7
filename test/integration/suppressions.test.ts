/**
 * Suppressions end to end, in one eastwatch process (writer, detectors, http) on real Kafka and chDB: an
 * analyst suppresses a node's scan alerts through the API; the detectors hold that node's next episode back
 * while another scanner is still alerted; once the suppression expires, new scanning alerts again. Closing
 * an alert does not suppress its repeats: the next episode is a new open alert.
 */
import * as path from 'node:path';
import { produceFlows } from './produce';
import { ROOT } from '../setup/broker';
import { flow, front, gpu, MIN, SYN } from '../detector-fixtures';
import { cli, killChildren, metricValue, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';

/** Probes (bare SYNs) from node `n` to 20 other nodes' SSH within a few seconds at `t`. */
const sweep = (n: number, t: number) => Array.from({ length: 20 }, (_, i) => flow(front(n), front(30 + i), 22, t + i * 100, { tcp_flags: SYN, bytes: 60, packets: 1 }));

interface Listed {
  alerts: { alert_id: string; src_node?: string; status: string; detector: string }[];
}

describe('suppressions', () => {
  let t: TestEnv;
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('hold back the next episode of what they match until they expire; closing an alert suppresses nothing', async () => {
    t = testEnv({ EASTWATCH_DETECTORS: 'scan', EASTWATCH_INVENTORY: path.join(ROOT, 'inventory/example-64-nodes.yaml') });
    const analyst = (await cli(t, ['tokens', 'create', '--role', 'analyst', '--name', 'soc-1'])).trim();
    const app = spawnCli(t, ['start', '--roles', 'writer,detectors,http']);
    const port = await app.httpPort();
    const api = async (method: string, url: string, body?: unknown) => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1${url}`, {
        method, headers: { authorization: `Bearer ${analyst}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: r.status, body: await r.json() as never };
    };
    const scans = async () => (await api('GET', '/alerts?detector=scan&sort=time')).body as Listed;

    const created = await api('POST', '/suppressions', {
      detector: 'scan', match: { src_node: gpu(12) }, reason: 'red team exercise RT-7 from gpu012', expires_at: new Date(Date.now() + 12_000).toISOString(),
    });
    expect(created.status).toBe(201);
    const s = created.body as { suppression_id: string; active: boolean; created_by: string; audit: { action: string; actor: string }[] };
    expect(s).toMatchObject({ active: true, created_by: 'soc-1', src_node: 'gpu012', audit: [{ action: 'suppression.create', actor: 'soc-1' }] });
    const refused = await api('POST', '/suppressions', { detector: 'scan', match: {}, reason: 'everything', duration_minutes: 60 });
    expect([refused.status, (refused.body as { message: string }).message]).toEqual([400, expect.stringMatching(/^a suppression matches at least one field/)]);
    await waitFor(async () => (await metricValue(port, 'eastwatch_suppressions_active')) === 1 || undefined, 20_000, () => 'the detectors never saw the suppression');

    // gpu012 (suppressed) and gpu013 scan at the same time: only gpu013 is alerted.
    const T = Date.now() - 60 * MIN;
    await produceFlows(t, [...sweep(12, T), ...sweep(13, T)]);
    await waitFor(async () => (await scans()).alerts.length > 0 || undefined, 30_000, () => `no scan alert:\n${app.output().split('\n').filter((l) => !l.includes('"stage":"http"')).join('\n').slice(-4000)}`);
    await waitFor(async () => (await metricValue(port, 'eastwatch_alerts_suppressed_total{detector="scan"}')) === 1 || undefined, 10_000, () => 'nothing was held back');
    expect((await scans()).alerts.map((a) => a.src_node)).toEqual(['gpu013']);

    // Expired: listed as inactive, and only traffic after it alerts.
    await waitFor(async () => (await api('GET', `/suppressions/${s.suppression_id}`)).body['active' as never] === false || undefined, 20_000, () => 'the suppression did not expire');
    expect(((await api('GET', '/suppressions?active=false')).body as { suppressions: { suppression_id: string }[] }).suppressions.map((x) => x.suppression_id)).toEqual([s.suppression_id]);
    await waitFor(async () => (await metricValue(port, 'eastwatch_suppressions_active')) === 0 || undefined, 5000, () => 'the detectors still hold it');
    await produceFlows(t, sweep(12, T + 2 * MIN));
    await waitFor(async () => (await scans()).alerts.length === 2 || undefined, 30_000, () => `gpu012 was not alerted after the expiry:\n${app.output().slice(-2000)}`);
    expect((await scans()).alerts.map((a) => a.src_node).sort()).toEqual(['gpu012', 'gpu013']);

    // Closing gpu013's alert does not hold back its next episode (after the 15-minute quiet period).
    const first = (await scans()).alerts.find((a) => a.src_node === 'gpu013')!;
    expect((await api('PATCH', `/alerts/${first.alert_id}`, { status: 'closed', close_reason: 'true_positive' })).status).toBe(200);
    await produceFlows(t, sweep(13, T + 30 * MIN));
    await waitFor(async () => (await scans()).alerts.filter((a) => a.src_node === 'gpu013').length === 2 || undefined, 30_000, () => 'no new episode for gpu013');
    const gpu013 = (await scans()).alerts.filter((a) => a.src_node === 'gpu013');
    expect(gpu013.map((a) => [a.alert_id === first.alert_id, a.status])).toEqual([[true, 'closed'], [false, 'open']]);

    // A suppression revoked early holds nothing more; the revocation is audited.
    const second = (await api('POST', '/suppressions', { detector: 'scan', match: { src_node: gpu(14) }, reason: 'maintenance', duration_minutes: 60 })).body as { suppression_id: string };
    const revoked = await api('POST', `/suppressions/${second.suppression_id}/revoke`, { reason: 'maintenance over' });
    expect(revoked.body).toMatchObject({ active: false, revoked_by: 'soc-1', audit: [{ action: 'suppression.create' }, { action: 'suppression.revoke', reason: 'maintenance over' }] });
    const again = await api('POST', `/suppressions/${second.suppression_id}/revoke`, { reason: 'twice' });
    expect([again.status, (again.body as { message: string }).message]).toEqual([400, `suppression ${second.suppression_id} is not active (revoked)`]);
  });
});
