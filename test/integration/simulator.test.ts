/**
 * The simulator through the real pipeline, judged on what ClickHouse stores (not on the simulator's internals):
 * everything emitted is stored; a job's normal traffic stays with its own nodes and the shared services; ring
 * neighbours are n and n+1; rails stay aligned; every injected attack is there at its labelled time. And a
 * 512-node scenario's generated inventory validates and a few simulated minutes of it run through.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { expandHostlist } from '../../inventory/hostlist';
import { EXAMPLE_INVENTORY } from '../../inventory/example';
import type { TruthLabel } from '../../simulator/events';
import { DEFAULT_SCENARIO } from '../../simulator/scenario';
import { parseTruth } from '../../simulator/truth-file';
import { cli, killChildren, metricValue, query, spawnCli, testEnv, TestEnv, udpPort, waitFor } from '../helpers';

interface Emitted {
  flows: number;
  byVia: Record<string, number>;
  emitted: Record<string, { records: number }>;
}

/** Runs `eastwatch start` and `eastwatch simulate` against it until every emitted record is stored; stops it. */
async function simulate(t: TestEnv, args: string[]): Promise<{ emitted: Emitted; truth: TruthLabel[] }> {
  const files = { hubble: path.join(t.home, 'hubble.json'), squid: path.join(t.home, 'access.log'), truth: path.join(t.home, 'truth.jsonl') };
  for (const f of [files.hubble, files.squid]) writeFileSync(f, '');
  Object.assign(t.env, { EASTWATCH_COLLECTORS: 'ipfix,sflow', EASTWATCH_HUBBLE_FILES: files.hubble, EASTWATCH_SQUID_LOGS: files.squid, EASTWATCH_PROXY_ADDRESS: '10.10.0.10' });
  // Collectors in a process of their own, as at any real rate: the writer's inserts never delay a socket.
  const app = spawnCli(t, ['start', '--roles', 'allocations,writer,http']);
  const collectors = spawnCli(t, ['start', '--roles', 'collectors']);
  const http = await app.httpPort();
  const ports = { EASTWATCH_IPFIX_PORT: String(await udpPort(collectors, 'ipfix')), EASTWATCH_SFLOW_PORT: String(await udpPort(collectors, 'sflow')) };
  const out = await cli({ ...t, env: { ...t.env, ...ports } }, ['simulate', ...args, '--truth-out', files.truth], 300_000);
  const emitted = JSON.parse(out.trim().split('\n').at(-1)!) as Emitted;
  const records = Object.values(emitted.emitted).reduce((s, e) => s + e.records, 0) - (emitted.emitted.allocations?.records ?? 0);
  // Every record the simulator sent (IPFIX records, sFlow samples, Hubble and Squid lines) reaches ClickHouse.
  await waitFor(async () => ((await metricValue(http, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}')) >= records ? true : undefined), 240_000,
    () => `stored ${records}? ${app.output().slice(-2000)}`);
  for (const c of [collectors, app]) {
    c.proc.kill('SIGTERM');
    expect(await c.exited).toEqual({ code: 0, signal: null });
  }
  const [stored] = await query<{ n: string }>(t, 'SELECT count() AS n FROM eastwatch.flows');
  expect(Number(stored!.n)).toBe(records);
  return { emitted, truth: parseTruth(readFileSync(files.truth, 'utf8'), files.truth) };
}

interface Row {
  src_node: string; dst_node: string; src_job: string; dst_job: string; dst_zone: string;
  src_rail: number | null; dst_rail: number | null; dst_port: number; start: string; kind: string;
}

describe('the simulator through the pipeline', () => {
  let t: TestEnv;
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('stores the default scenario as the cluster behaves: jobs, rings, rails, and every attack at its labelled time', async () => {
    t = testEnv({ EASTWATCH_INVENTORY: EXAMPLE_INVENTORY });
    // 15x: the writer's inserts (and their materialized views) share 2 cores with the collectors; faster loses UDP.
    const { emitted, truth } = await simulate(t, ['--scenario', DEFAULT_SCENARIO, '--speed', '15']);
    expect(Object.values(emitted.byVia).every((n) => n > 0)).toBe(true);

    const rows = await query<Row>(t, `SELECT src_node, dst_node, src_job, dst_job, dst_zone, src_rail, dst_rail, dst_port,
      toUnixTimestamp64Milli(time_start) AS start, source_kind AS kind FROM eastwatch.flows WHERE source_kind = 'ipfix'`);
    // Flows of a labelled node around its label (attacks and the benign edge cases) are judged by the truth, not here.
    const labelled = (r: Row) => truth.some((l) => l.nodes.includes(r.src_node) && Number(r.start) >= l.start - 5000 && Number(r.start) <= l.end + 5000);
    const normal = rows.filter((r) => !labelled(r));
    expect(normal.length).toBeGreaterThan(10_000);

    // A job's normal traffic: its own nodes, storage, DNS/NTP, the proxy, monitoring and the control plane.
    const shared = new Set(['storage', 'services', 'dmz', 'management']);
    const strays = normal.filter((r) => r.src_job !== '' && r.dst_job !== r.src_job && !shared.has(r.dst_zone));
    expect(strays.slice(0, 5)).toEqual([]);
    expect(new Set(normal.filter((r) => r.src_job !== '').map((r) => r.src_job)).size).toBeGreaterThanOrEqual(4);

    // RoCEv2 (UDP 4791): rail-aligned, and in the ring job each node sends to the next.
    const roce = normal.filter((r) => r.dst_port === 4791);
    expect(roce.length).toBeGreaterThan(1000);
    expect(roce.filter((r) => r.src_rail === null || r.src_rail !== r.dst_rail).slice(0, 5)).toEqual([]);
    const [ring] = await query<{ nodes: string[] }>(t, "SELECT groupUniqArray(node) AS nodes FROM eastwatch.allocations FINAL WHERE job_id = '88213'");
    const members = expandHostlist('gpu[001-016]');
    expect([...ring!.nodes].sort()).toEqual(members);
    const ringFlows = roce.filter((r) => r.src_job === '88213');
    expect(ringFlows.length).toBeGreaterThan(100);
    expect(ringFlows.filter((r) => members.indexOf(r.dst_node) !== (members.indexOf(r.src_node) + 1) % members.length).slice(0, 5)).toEqual([]);

    // Every attack's flows are there, starting at the labelled time (sFlow stamps receipt, so there: present).
    for (const l of truth.filter((x) => x.class === 'attack')) {
      const [r] = await query<{ n: string; at: string; sampled: string }>(t, `SELECT count() AS n,
          countIf(source_kind != 'sflow' AND abs(toUnixTimestamp64Milli(time_start) - ${l.start}) <= 1000) AS at, countIf(source_kind = 'sflow') AS sampled
        FROM eastwatch.flows WHERE src_node IN (${l.nodes.map((n) => `'${n}'`).join(',')})
          AND (source_kind = 'sflow' OR toUnixTimestamp64Milli(time_start) BETWEEN ${l.start - 1000} AND ${l.end + 1000})`);
      expect([l.id, Number(r!.n) > 0, Number(r!.at) > 0 || Number(r!.sampled) > 0]).toEqual([l.id, true, true]);
    }
  }, 600_000);

  it('runs a 512-node cluster: its generated inventory validates and a few simulated minutes go through', async () => {
    const scenario = path.join(__dirname, '../../simulator/scenarios/large.yaml');
    const t2 = testEnv();
    try {
      const inventory = path.join(t2.home, 'inventory-512.yaml');
      await cli(t2, ['simulate', '--scenario', scenario, '--inventory-out', inventory]);
      const check = JSON.parse(await cli(t2, ['inventory', 'check', inventory])) as { nodes: number };
      expect(check.nodes).toBeGreaterThan(512);
      t2.env.EASTWATCH_INVENTORY = inventory;
      // 10x: about 4k records a second, what one collector process on a 2-core machine takes without UDP loss.
      const { emitted } = await simulate(t2, ['--scenario', scenario, '--speed', '10']);
      expect(emitted.flows).toBeGreaterThan(50_000);
      const [r] = await query<{ nodes: string; jobs: string; unknown: string }>(t2, `SELECT uniqExact(src_node) AS nodes, uniqExact(src_job) AS jobs,
        countIf(src_node = '') AS unknown FROM eastwatch.flows WHERE source_kind = 'ipfix'`);
      expect(Number(r!.nodes)).toBeGreaterThan(400);
      expect(Number(r!.jobs)).toBeGreaterThan(2);
      expect(Number(r!.unknown)).toBe(0);
    } finally {
      t2.cleanup();
    }
  }, 600_000);
});
