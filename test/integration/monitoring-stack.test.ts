/**
 * eastwatch in the Prometheus and Grafana stack, end to end with the real Debian prometheus and
 * prometheus-alertmanager on 127.0.0.1: Prometheus scrapes a running eastwatch and loads the generated rules
 * (plus a rule of the operator's own on eastwatch's series), the simulator injects lateral SSH, the detector's
 * rule and the operator's fire in Prometheus, Alertmanager delivers both to eastwatch's webhook with its bearer
 * token: the operator's alert lands in eastwatch's alert store, eastwatch's own is recognised and not stored
 * twice, and when the episode ends the resolved notification ends the stored alert. The webhook refuses a
 * request without the token. Over the same run every dashboard query runs for real: Prometheus panels on
 * Prometheus's query API, ClickHouse panels on chDB with the plugin's macros expanded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../app/config';
import { openStore } from '../../core/clickhouse';
import { dashboardFiles, DASHBOARDS } from '../../dashboards';
import { EXAMPLE_INVENTORY } from '../../inventory/example';
import { DashboardSchema } from '../grafana-dashboard';
import { expandClickHouse, expandPrometheus } from '../grafana-macros';
import { cli, killChildren, metricValue, spawnCli, testEnv, TestEnv, udpPort, waitFor } from '../helpers';
import { NCCL_LOG } from '../nccl-fixtures';

const ROOT = path.resolve(__dirname, '../..');
const TOKEN = 'am-webhook-token-0123456789abcdef';

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  }).on('error', reject);
});

const daemons: ChildProcess[] = [];
function daemon(cmd: string, args: string[]): { output: () => string } {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(p);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { output: () => out.slice(-3000) };
}

/** Every target of every dashboard of a data source: panel name, query, and for ClickHouse the columns it selects. */
function panelQueries(kind: 'prometheus' | 'clickhouse'): [string, string, string[]][] {
  const files = dashboardFiles();
  return DASHBOARDS.flatMap((build) => {
    const d = DashboardSchema.parse(JSON.parse(files.get(`dashboards/json/${build().uid}.json`)!));
    return d.panels.flatMap((p) => p.targets.flatMap((q): [string, string, string[]][] => {
      const name = `${d.uid}/${p.title}/${q.refId}`;
      if (kind === 'prometheus') return 'expr' in q ? [[name, q.expr, []]] : [];
      return 'rawSql' in q ? [[name, q.rawSql, COLUMNS[name] ?? ['(columns not listed in the test)']]] : [];
    }));
  });
}

/** What each ClickHouse panel shows. */
const COLUMNS: Record<string, string[]> = {
  'eastwatch-fabric/Flows/s by fabric/A': ['time', 'fabric', 'flows_per_second'],
  'eastwatch-fabric/Interface errors and discards/A': ['time', 'errors', 'discards'],
  'eastwatch-fabric/Top talkers/A': ['source', 'zone', 'job', 'bytes', 'flows'],
  'eastwatch-fabric/Zone-pair matrix/A': ['src_zone', 'dst_zone', 'bytes', 'flows'],
  'eastwatch-egress/Egress per zone (rollup)/A': ['time', 'src_zone', 'bytes_per_second'],
  'eastwatch-egress/Top destinations/A': ['destination', 'via', 'zones', 'bytes', 'requests'],
  'eastwatch-egress/Denied requests and policy drops/A': ['time', 'proxy_denied', 'policy_dropped'],
  'eastwatch-jobs/Traffic per job/A': ['time', 'src_job', 'bytes_per_second'],
  'eastwatch-jobs/Observed back-end edges/A': ['job', 'src_node', 'dst_node', 'src_rail', 'dst_rail', 'bytes', 'flows'],
  'eastwatch-jobs/Expected edges/A': ['job', 'node', 'expected_peer', 'pattern'],
  'eastwatch-jobs/Edges outside the allocation/A': ['time', 'severity', 'src_job', 'src_node', 'dst_node', 'dst_job', 'dst_port', 'flows', 'bytes', 'summary'],
  'eastwatch-alerts/Raised over time by detector and severity/A': ['time', 'detector_severity', 'alerts'],
  'eastwatch-alerts/Open alerts/A': ['time', 'severity', 'detector', 'state', 'summary', 'src_node', 'dst_node', 'flows', 'bytes', 'alert_id'],
};

/** Prometheus's and Alertmanager's JSON, read field by field; undefined until they serve. */
const getJson = async (url: string): Promise<any> => {
  try {
    const r = await fetch(url);
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined; // not serving yet
  }
};

describe('eastwatch with Prometheus and Alertmanager', () => {
  let t: TestEnv;
  afterAll(() => {
    for (const d of daemons) d.kill('SIGKILL');
    killChildren();
    t?.cleanup();
  });

  it('fires the rules in Prometheus, routes them through Alertmanager to the webhook, stores the foreign alert and ends it when resolved', async () => {
    const t0 = Date.now();
    t = testEnv({
      EASTWATCH_INVENTORY: EXAMPLE_INVENTORY, EASTWATCH_ALERTMANAGER_TOKEN: TOKEN, EASTWATCH_COLLECTORS: 'ipfix,sflow', EASTWATCH_ALERT_QUIET_MS: '60000',
      EASTWATCH_WINDOWED_INTERVAL_MS: '1000', EASTWATCH_PROXY_ADDRESS: '10.10.0.10',
    });
    const files = { hubble: path.join(t.home, 'hubble.json'), squid: path.join(t.home, 'access.log') };
    for (const f of Object.values(files)) writeFileSync(f, '');
    Object.assign(t.env, { EASTWATCH_HUBBLE_FILES: files.hubble, EASTWATCH_SQUID_LOGS: files.squid });
    const app = spawnCli(t, ['start']);
    const http = await app.httpPort();
    const ports = { EASTWATCH_IPFIX_PORT: String(await udpPort(app, 'ipfix')), EASTWATCH_SFLOW_PORT: String(await udpPort(app, 'sflow')) };
    // A junk datagram (counted as rejected), and a job whose collective graph comes from NCCL's log (expected edges).
    const junk = createSocket('udp4');
    await new Promise<void>((resolve) => junk.send(Buffer.alloc(40, 0xee), Number(ports.EASTWATCH_IPFIX_PORT), '127.0.0.1', () => resolve()));
    junk.close();
    writeFileSync(path.join(t.home, 'nccl.log'), NCCL_LOG.replace(/gpu00/g, 'gpu06'));
    await cli(t, ['allocations', 'import', path.join(t.home, 'nccl.log'), '--format', 'nccl', '--job', 'nccl-ring', '--start', new Date(t0 - 3600e3).toISOString(), '--pattern', 'ring']);

    // The webhook wants the token.
    const unauthorized = await fetch(`http://127.0.0.1:${http}/api/v1/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unauthorized.status).toBe(401);

    const [promPort, amPort] = [await freePort(), await freePort()];
    writeFileSync(path.join(t.home, 'am.yml'), stringify({
      route: { receiver: 'eastwatch', group_by: ['alertname'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
      receivers: [{ name: 'eastwatch', webhook_configs: [{ url: `http://127.0.0.1:${http}/api/v1/alertmanager`, send_resolved: true, http_config: { authorization: { credentials: TOKEN } } }] }],
    }));
    // The operator's own rule on eastwatch's series: an alert eastwatch did not raise itself.
    writeFileSync(path.join(t.home, 'soc.yml'), stringify({ groups: [{ name: 'soc', rules: [{
      alert: 'SocLateralMovementWatch', expr: 'max(eastwatch_alerts_firing{detector="outside-allocation"}) > 0', labels: { severity: 'critical' },
      annotations: { summary: 'Lateral movement under way in the training cluster' },
    }] }] }));
    writeFileSync(path.join(t.home, 'prometheus.yml'), stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [path.join(ROOT, 'alerts/rules/eastwatch.rules.yml'), path.join(t.home, 'soc.yml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      scrape_configs: [{ job_name: 'eastwatch', static_configs: [{ targets: [`127.0.0.1:${http}`] }] }],
    }));
    const am = daemon('prometheus-alertmanager', [`--config.file=${path.join(t.home, 'am.yml')}`, `--storage.path=${path.join(t.home, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', '--log.level=warn']);
    const prom = daemon('prometheus', [`--config.file=${path.join(t.home, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(t.home, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`, '--rules.alert.resend-delay=1s', '--log.level=warn']);
    await waitFor(async () => (await getJson(`http://127.0.0.1:${promPort}/api/v1/targets`))?.data?.activeTargets?.[0]?.health === 'up' || undefined, 60_000, () => `prometheus: ${prom.output()}`);
    const rules = await getJson(`http://127.0.0.1:${promPort}/api/v1/rules`);
    expect(rules.data.groups.map((g: { name: string }) => g.name).sort()).toEqual(['eastwatch-detectors', 'eastwatch-pipeline', 'seed-comparison', 'soc']);

    // Lateral SSH from gpu007 at 30 s; simulated at 10x, the episode ends 60 s (event time) after its last flow.
    const scenario = path.join(t.home, 'scenario.yaml');
    writeFileSync(scenario, stringify({
      seed: 7, duration: '5m', cluster: { inventory: EXAMPLE_INVENTORY },
      jobs: [
        { id: 88213, nodes: 16, pattern: 'ring' }, { id: 88214, nodes: 16, pattern: 'all-to-all', expertGroup: 8 },
        { id: 'ai-training/llm-pretrain', nodes: 8, pattern: 'data-parallel', scheduler: 'kubernetes' },
      ],
      attacks: [
        { kind: 'lateral-ssh', at: '30s', duration: '20s', node: 'gpu007', targets: 3 },
        { kind: 'policy-denied', at: '40s', duration: '30s', job: 'ai-training/llm-pretrain', address: '198.51.100.9', attempts: 6 },
      ],
    }));
    const simulated = cli({ ...t, env: { ...t.env, ...ports } }, ['simulate', '--scenario', scenario, '--speed', '10', '--truth-out', path.join(t.home, 'truth.jsonl')], 300_000);

    const firing = () => getJson(`http://127.0.0.1:${promPort}/api/v1/alerts`).then((r) => (r?.data?.alerts ?? []) as { labels: Record<string, string>; state: string }[]);
    const fired = await waitFor(async () => {
      const names = (await firing()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
      return names.includes('EastwatchOutsideAllocation') && names.includes('SocLateralMovementWatch') ? names : undefined;
    }, 120_000, () => `prometheus alerts; eastwatch: ${app.output().slice(-1500)}`);
    expect(fired).toEqual(expect.arrayContaining(['EastwatchOutsideAllocation', 'SocLateralMovementWatch']));
    const [own] = (await firing()).filter((a) => a.labels.alertname === 'EastwatchOutsideAllocation');
    expect(own!.labels).toMatchObject({ detector: 'outside-allocation', severity: 'critical' });

    // Alertmanager has both and delivers them: the operator's is stored, eastwatch's own is recognised.
    await waitFor(async () => {
      const a = (await getJson(`http://127.0.0.1:${amPort}/api/v2/alerts`)) as { labels: Record<string, string> }[] | undefined;
      const names = (a ?? []).map((x) => x.labels.alertname);
      return names.includes('EastwatchOutsideAllocation') && names.includes('SocLateralMovementWatch') ? names : undefined;
    }, 60_000, () => `alertmanager: ${am.output()}`);
    const delivered = (result: string) => metricValue(http, `eastwatch_alertmanager_alerts_total{result="${result}"}`);
    await waitFor(async () => ((await delivered('firing')) >= 1 && (await delivered('own')) >= 1) || undefined, 60_000, () => `webhook; alertmanager: ${am.output()}`);

    // The episode ends in eastwatch, the rules resolve, Alertmanager sends resolved, the stored alert ends.
    await simulated;
    await waitFor(async () => (await delivered('resolved')) >= 1 || undefined, 120_000, () => `resolved; alertmanager: ${am.output()}; eastwatch: ${app.output().slice(-1500)}`);

    // Every Prometheus panel query, as Grafana sends it, gives series over the run.
    for (const [panel, expr] of panelQueries('prometheus')) {
      const q = new URLSearchParams({ query: expandPrometheus(expr, '30s'), start: String(t0 / 1000), end: String(Date.now() / 1000), step: '5' });
      const r = await getJson(`http://127.0.0.1:${promPort}/api/v1/query_range?${q}`);
      expect([panel, r?.status, (r?.data?.result ?? []).length > 0]).toEqual([panel, 'success', true]);
    }
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    const stored = (await cli(t, ['alerts', 'list', '--json', '--detector', 'alertmanager'])).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ detector: 'alertmanager', severity: 'critical', state: 'ended', status: 'open', summary: 'SocLateralMovementWatch: Lateral movement under way in the training cluster' });
    expect(stored[0].evidence.alertmanager.labels).toEqual({ alertname: 'SocLateralMovementWatch', severity: 'critical' });
    // eastwatch's own alert is there once, raised by the detector.
    const detected = (await cli(t, ['alerts', 'list', '--json', '--detector', 'outside-allocation'])).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(detected.map((a) => a.src_node)).toEqual(['gpu007']);

    // Every ClickHouse panel query, macros expanded for the run, on the chDB eastwatch wrote: its columns, and rows.
    const cfg = loadConfig(t.env);
    const store = openStore(cfg.clickhouse, cfg.home);
    try {
      for (const vars of [{ zone: '$__all', job: '$__all' }, { zone: ['inference', 'training'], job: ['88213', 'nccl-ring'] }]) {
        for (const [panel, sql, columns] of panelQueries('clickhouse')) {
          const expanded = expandClickHouse(sql, { from: t0 - 15 * 60_000, to: Date.now() + 60_000, intervalSec: 10, vars: { database: 'eastwatch', default_zone: 'internet', ...vars } });
          const rs = await store.client.query({ query: expanded, format: 'JSONCompactEachRowWithNamesAndTypes' });
          const [names, , ...rows] = (await rs.json()) as unknown[][];
          expect([panel, names, rows.length > 0]).toEqual([panel, columns, true]);
        }
      }
    } finally {
      await store.close();
    }
  }, 600_000);
});
