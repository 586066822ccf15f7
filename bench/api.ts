/**
 * The SOC API's latency over a big day: BENCH_SCENARIO (default simulator/scenarios/large-day.yaml, 24 simulated
 * hours of the 512-node cluster), its first BENCH_HOURS when set, loaded into chDB, then the list, evidence,
 * timeline and top-talkers routes asked BENCH_REQUESTS times each over real HTTP; prints p50 and p99 per route
 * (goal: p99 < 1 s) and the server's RSS.
 *
 * The load goes around Kafka (this measures queries, `bench:pipeline` the ingest): the scenario's flows as the
 * collectors make them, enriched with the scenario's inventory and allocations, inserted with their rollups; the
 * allocation rows; and the alerts the streaming detectors raise over the same flows, judged in the same process.
 * BENCH_HOME keeps the loaded home for the next run, which then measures only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AllocationEventSchema, allocationRows } from '../allocations/event';
import { AllocationTimeline } from '../allocations/timeline';
import { AlertLifecycle } from '../alerts/lifecycle';
import { loadConfig } from '../app/config';
import { openStore } from '../core/clickhouse';
import type { Flow } from '../core/flow';
import type { Alert, Allocation } from '../core/records';
import { sidesOf } from '../detectors/context';
import { DpuCoverage } from '../detectors/dpu-coverage';
import type { Finding } from '../detectors/finding';
import { streamingDetectors } from '../detectors/registry';
import { Enricher } from '../enrich/enricher';
import { ExporterAddresses } from '../simulator/emit/emitter';
import { toFlow } from '../simulator/emit/flows';
import { ClusterModel } from '../simulator/model/model';
import { loadScenario, scenarioInventory } from '../simulator/scenario';
import { benchSetup, CLI, memoryOf, mib, ROOT, startEastwatch } from './setup';

const SCENARIO = process.env.BENCH_SCENARIO ?? path.join(ROOT, 'simulator/scenarios/large-day.yaml');
const HOURS = process.env.BENCH_HOURS === undefined ? undefined : Number(process.env.BENCH_HOURS);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const BATCH = 100_000;
const STEP_MS = 60_000;
const LOADED = 'bench-api-loaded.json';

interface Loaded { start: number; end: number; flows: number; alerts: number; allocations: number; loadSeconds: number }

/** The load, in a child process of its own: embedded chDB is one process per data directory. */
async function load(env: NodeJS.ProcessEnv): Promise<void> {
  const t0 = Date.now();
  const cfg = loadConfig(env);
  const scenario = loadScenario(SCENARIO);
  const inventory = scenarioInventory(scenario);
  // Ending an hour ago: recent for the tables' retention, and every window below lies in the past.
  const duration = HOURS === undefined ? scenario.duration : HOURS * 3600e3;
  const start = Math.floor((Date.now() - duration) / 3600e3) * 3600e3 - 3600e3;
  const end = start + duration;
  const model = new ClusterModel(scenario, inventory, { start });
  const addresses = new ExporterAddresses(inventory.nodes.keys());
  const timeline = new AllocationTimeline();
  const enricher = new Enricher(() => inventory, timeline);
  const detectors = streamingDetectors(cfg.detectors);
  const dpus = new DpuCoverage();
  const lifecycle = new AlertLifecycle({ quietMs: cfg.detectors.quietMs, updateMs: 0, flowsTable: `\`${cfg.clickhouse.database}\`.\`flows\`` });
  const store = openStore(cfg.clickhouse, cfg.home);

  let flows: Flow[] = [];
  let allocations: Allocation[] = [];
  let alerts: Alert[] = [];
  const counts = { flows: 0, alerts: 0, allocations: 0 };
  const insert = async (table: string, values: object[]) => {
    if (values.length > 0) await store.client.insert({ table: store.tbl(table), values, format: 'JSONEachRow' });
  };
  const flush = async () => {
    await insert('flows', flows);
    await insert('allocations', allocations);
    await insert('alerts', alerts);
    counts.flows += flows.length;
    counts.allocations += allocations.length;
    counts.alerts += new Set(alerts.map((a) => a.alert_id)).size;
    flows = [];
    allocations = [];
    alerts = [];
  };

  const findings: Finding[] = [];
  for (let t = start; t < end; t += STEP_MS) {
    const events = t === start ? [...model.activeAllocations(t), ...model.events(t, t + STEP_MS)] : model.events(t, t + STEP_MS);
    for (const e of events) {
      if (e.kind === 'allocation') {
        const rows = allocationRows(AllocationEventSchema.parse(e.event), e.time);
        timeline.apply(rows);
        allocations.push(...rows);
        continue;
      }
      if (e.kind !== 'flow') continue;
      const flow = enricher.enrich(toFlow(e.flow, addresses));
      flows.push(flow);
      if (dpus.covered(flow)) continue;
      const [src, dst] = sidesOf(inventory, timeline, flow, cfg.detectors.graceMs);
      for (const d of detectors) d.judge({ flow, src, dst, inv: inventory }, findings);
    }
    for (const f of findings.splice(0)) lifecycle.observe(f);
    for (const d of detectors) d.expire?.(t + STEP_MS);
    lifecycle.endQuiet(t + STEP_MS);
    alerts.push(...lifecycle.take());
    if (flows.length >= BATCH) await flush();
    if ((t - start) % 3600e3 === 0) console.error(`  loading: ${new Date(t).toISOString()} ${counts.flows} flows, ${mib(process.memoryUsage().rss)}`);
  }
  alerts.push(...lifecycle.take(true));
  await flush();
  await store.close();
  const loaded: Loaded = { start, end, ...counts, loadSeconds: Math.round((Date.now() - t0) / 1000) };
  writeFileSync(path.join(cfg.home, LOADED), JSON.stringify(loaded));
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function measure(port: number, token: string, loaded: Loaded): Promise<void> {
  const base = `http://127.0.0.1:${port}/api/v1`;
  const get = async (p: string) => {
    const t = performance.now();
    const res = await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json() as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`${p}: ${res.status} ${JSON.stringify(body)}`);
    return { ms: performance.now() - t, body };
  };
  const iso = (t: number) => new Date(t).toISOString();
  const day = `since=${iso(loaded.start)}&until=${iso(loaded.end)}`;
  const hourAt = (i: number) => {
    const from = loaded.start + (i % Math.max(1, Math.floor((loaded.end - loaded.start) / 3600e3))) * 3600e3;
    return `since=${iso(from)}&until=${iso(from + 3600e3)}`;
  };
  const { body: first } = await get(`/alerts?${day}&limit=1000`);
  const alerts = first.alerts as Array<{ alert_id: string; detector: string; src_node?: string; src_job?: string; summary: string }>;
  if (alerts.length === 0) throw new Error('the load raised no alert: nothing to ask the evidence route about');
  const nodes = [...new Set(alerts.flatMap((a) => (a.src_node ? [a.src_node] : [])))];
  const jobs = [...new Set(alerts.flatMap((a) => (a.src_job ? [a.src_job] : [])))];
  const detectors = [...new Set(alerts.map((a) => a.detector))];
  const pick = <T>(xs: T[], i: number) => xs[i % xs.length]!;

  const routes: Array<[string, (i: number) => string]> = [
    ['alerts: list, a day, newest first', () => `/alerts?${day}&limit=50`],
    ['alerts: list, by detector, by bytes', (i) => `/alerts?${day}&detector=${pick(detectors, i)}&sort=-bytes&limit=50`],
    ['alerts: list, free text and node', (i) => `/alerts?${day}&node=${pick(nodes, i)}&q=${encodeURIComponent('to')}&limit=50`],
    ['alerts: groups', () => `/alert-groups?${day}&limit=50`],
    ['evidence: an alert with its audit', (i) => `/alerts/${pick(alerts, i).alert_id}`],
    ['evidence: an alert\'s flows, first page', (i) => `/alerts/${pick(alerts, i).alert_id}/flows?limit=100`],
    ['timeline: a node, one hour', (i) => `/nodes/${pick(nodes, i)}/timeline?${hourAt(i)}`],
    ['timeline: a node, the day', (i) => `/nodes/${pick(nodes, i)}/timeline?${day}`],
    ['timeline: a job, the day', (i) => `/jobs/${encodeURIComponent(pick(jobs, i))}/timeline?${day}`],
    ['top talkers: by node, one hour', (i) => `/traffic/top-talkers?${hourAt(i)}`],
    ['top talkers: by node, the day', () => `/traffic/top-talkers?${day}`],
    ['top talkers: by job, the day', () => `/traffic/top-talkers?${day}&by=job`],
    ['zone matrix: the day', () => `/traffic/zone-matrix?${day}`],
  ];
  console.log(`\n  ${'route'.padEnd(42)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}  rows`);
  const figures: Record<string, { p50: number; p99: number }> = {};
  for (const [name, url] of routes) {
    await get(url(0)); // the first ask warms the caches a running server has warm
    const ms: number[] = [];
    let rows = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const r = await get(url(i));
      ms.push(r.ms);
      const list = Object.values(r.body).find(Array.isArray) as unknown[] | undefined;
      rows += list?.length ?? 1;
    }
    ms.sort((a, b) => a - b);
    figures[name] = { p50: Math.round(quantile(ms, 0.5)), p99: Math.round(quantile(ms, 0.99)) };
    console.log(`  ${name.padEnd(42)} ${`${quantile(ms, 0.5).toFixed(0)} ms`.padStart(8)} ${`${quantile(ms, 0.99).toFixed(0)} ms`.padStart(8)} ${`${ms.at(-1)!.toFixed(0)} ms`.padStart(8)}  ${(rows / REQUESTS).toFixed(0)} per answer`);
  }
  const worst = Math.max(...Object.values(figures).map((f) => f.p99));
  console.log(`\n  worst p99 ${worst} ms (goal: under 1000 ms)`);
  console.log(JSON.stringify({ scenario: path.relative(ROOT, SCENARIO), ...loaded, requests: REQUESTS, worstP99Ms: worst, routes: figures }));
}

async function main(): Promise<void> {
  const keep = process.env.BENCH_HOME;
  const home = keep ?? mkdtempSync(path.join(tmpdir(), 'eastwatch-bench-api-'));
  mkdirSync(home, { recursive: true });
  const bench = benchSetup({ EASTWATCH_HOME: home, EASTWATCH_TOPIC_PREFIX: 'benchapi', EASTWATCH_API_RATE_LIMIT: '1000000' });
  const { env } = bench;
  try {
    const marker = path.join(home, LOADED);
    if (!existsSync(marker)) {
      execFileSync(process.execPath, [CLI, 'migrate'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      console.log(`loading ${path.relative(ROOT, SCENARIO)}${HOURS === undefined ? '' : `, its first ${HOURS} h`}, into ${home}`);
      execFileSync(process.execPath, [__filename, 'load'], { env, stdio: 'inherit' });
    }
    const loaded = JSON.parse(readFileSync(marker, 'utf8')) as Loaded;
    console.log(`loaded: ${loaded.flows.toLocaleString('en')} flows, ${loaded.allocations} allocation rows, ${loaded.alerts} alerts over ${((loaded.end - loaded.start) / 3600e3).toFixed(0)} h (load ${loaded.loadSeconds} s)`);
    const token = execFileSync(process.execPath, [CLI, 'tokens', 'create', '--role', 'viewer', '--name', `bench-${Date.now()}`], { env }).toString().trim();
    const { child: server, httpPort: port } = await startEastwatch(env, 'writer,http');
    console.log(`eastwatch API latency benchmark: ${REQUESTS} requests per route, one at a time, server pid ${server.pid}`);
    await measure(port, token, loaded);
    console.log(`  server RSS peak ${mib(memoryOf(server.pid!, 'VmHWM'))}`);
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  } finally {
    bench.teardown();
    if (!keep) rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'load') {
  load(process.env).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
