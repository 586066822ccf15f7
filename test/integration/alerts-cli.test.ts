/**
 * `eastwatch alerts list|show|status` on alerts stored in embedded ClickHouse, and the two views of an alert
 * kept apart: a detector's later update never undoes an analyst's status change, nor the other way round.
 */
import { loadConfig } from '../../app/config';
import { AlertLifecycle } from '../../alerts/lifecycle';
import { openStore } from '../../core/clickhouse';
import { migrate } from '../../core/migrations';
import type { Alert } from '../../core/records';
import type { Finding } from '../../detectors/finding';
import { MIN, SEC } from '../detector-fixtures';
import { cli, testEnv, TestEnv } from '../helpers';

const T = Math.floor(Date.now() / MIN) * MIN - 30 * MIN;

const finding = (t: number, detector: Finding['detector'] = 'outside-allocation'): Finding => ({
  detector, severity: 'critical', key: ['88213', 'gpu012'], time: t, first: t - SEC, last: t, flows: 1, bytes: 100 * 1024, counts: 'increment',
  summary: 'gpu012 (job 88213) opened SSH (tcp/22) to gpu031 (job 88214), outside its allocation',
  entities: { src_addr: '10.30.1.12', src_node: 'gpu012', src_zone: 'training', src_job: '88213', dst_addr: '10.30.1.31', dst_node: 'gpu031', dst_zone: 'training', dst_job: '88214', dst_port: 22, protocol: 6 },
  flow: { time_start: t - SEC, time_end: t, exporter: '127.0.0.12', src_addr: '10.30.1.12', src_port: 40000, dst_addr: '10.30.1.31', dst_port: 22, protocol: 6, bytes: 100 * 1024 },
  where: "(src_node = 'gpu012' OR dst_node = 'gpu012')",
});

describe('eastwatch alerts', () => {
  let t: TestEnv;
  let wall = T;
  const lifecycle = new AlertLifecycle({ quietMs: 15 * MIN, updateMs: 0, flowsTable: '`eastwatch`.`flows`', now: () => wall });
  /** Stores alert versions as the writer does from the alerts topic; closes chDB before a CLI opens it. */
  const store = async (rows: Alert[]) => {
    const cfg = loadConfig(t.env);
    const s = openStore(cfg.clickhouse, cfg.home);
    try {
      await migrate(s, cfg.clickhouse);
      await s.client.insert({ table: s.tbl('alerts'), values: rows, format: 'JSONEachRow' });
    } finally {
      await s.close();
    }
  };
  const list = async (...args: string[]) => (await cli(t, ['alerts', 'list', '--json', ...args])).split('\n').filter(Boolean).map((l) => JSON.parse(l));

  beforeAll(() => {
    t = testEnv();
  });
  afterAll(() => t?.cleanup());

  it('lists an alert with every field an analyst needs, and shows it with its evidence', async () => {
    lifecycle.observe(finding(T));
    lifecycle.observe(finding(T + 5 * SEC));
    await store(lifecycle.take());
    lifecycle.observe(finding(T + 20 * SEC, 'scan'));
    await store(lifecycle.take());
    const all = await list();
    expect(all.map((a) => a.detector)).toEqual(['outside-allocation', 'scan']);
    const [a] = all;
    expect(a).toMatchObject({
      detector: 'outside-allocation', severity: 'critical', state: 'firing', status: 'open', flows: 2, bytes: 200 * 1024,
      time: new Date(T).toISOString(), first_seen: new Date(T - SEC).toISOString(), last_seen: new Date(T + 5 * SEC).toISOString(),
      summary: 'gpu012 (job 88213) opened SSH (tcp/22) to gpu031 (job 88214), outside its allocation; 2 flows, 200 KiB',
      src_addr: '10.30.1.12', src_node: 'gpu012', src_zone: 'training', src_job: '88213', dst_node: 'gpu031', dst_job: '88214', dst_port: 22, protocol: 6,
    });
    expect(a.evidence.top_flows).toHaveLength(2);
    expect(a.evidence.sql).toContain("(src_node = 'gpu012' OR dst_node = 'gpu012')");
    expect(await list('--detector', 'scan')).toHaveLength(1);
    expect(await list('--since', new Date(T + 10 * SEC).toISOString())).toHaveLength(1);
    expect(JSON.parse(await cli(t, ['alerts', 'show', a.alert_id]))).toEqual({ ...a, audit: [] });
    expect((await cli(t, ['alerts', 'list'])).split('\n')[0]).toMatch(/ critical firing open +outside-allocation +gpu012 \(job 88213\) opened SSH/);
  });

  it("keeps the analyst's status through the detector's updates, and the detector's counts through status changes", async () => {
    const [a] = await list('--detector', 'outside-allocation');
    await cli(t, ['alerts', 'status', a.alert_id, 'acknowledged', '--note', 'looking', '--actor', 'soc-1']);
    wall += 10 * SEC;
    lifecycle.observe(finding(T + MIN));
    await store(lifecycle.take()); // the detector's update, after the acknowledgement
    const [updated] = await list('--detector', 'outside-allocation');
    expect(updated).toMatchObject({ alert_id: a.alert_id, status: 'acknowledged', triaged_by: 'soc-1', flows: 3 });
    await expect(cli(t, ['alerts', 'status', a.alert_id, 'closed'])).rejects.toMatchObject({
      code: 2, stderr: 'eastwatch: closing an alert takes a close_reason: one of true_positive, false_positive, benign_positive, duplicate, other\n',
    });
    await cli(t, ['alerts', 'status', a.alert_id, 'closed', '--close-reason', 'benign_positive', '--note', 'job misconfigured', '--actor', 'soc-2']);
    const [closed] = await list('--status', 'closed');
    expect(closed).toMatchObject({ alert_id: a.alert_id, status: 'closed', close_reason: 'benign_positive', flows: 3, last_seen: new Date(T + MIN).toISOString() });
    expect(await list('--status', 'open')).toHaveLength(1); // the scan alert
    // Both changes are in the alert's audit trail: who, what from what to what, why.
    const shown = JSON.parse(await cli(t, ['alerts', 'show', a.alert_id])) as { audit: unknown[] };
    expect(shown.audit).toEqual([
      { time: expect.any(String), actor: 'soc-1', actor_role: 'cli', action: 'alert.triage', changes: { status: { from: 'open', to: 'acknowledged' } }, reason: 'looking' },
      {
        time: expect.any(String), actor: 'soc-2', actor_role: 'cli', action: 'alert.triage',
        changes: { status: { from: 'acknowledged', to: 'closed' }, close_reason: { from: null, to: 'benign_positive' } }, reason: 'job misconfigured',
      },
    ]);
  });

  it('says which alert does not exist, in one line, exit 2', async () => {
    await expect(cli(t, ['alerts', 'status', '00000000-0000-4000-8000-000000000000', 'closed'])).rejects.toMatchObject({
      code: 2, stderr: 'eastwatch: no alert 00000000-0000-4000-8000-000000000000\n',
    });
  });
});
