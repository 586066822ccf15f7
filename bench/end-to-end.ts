/**
 * End to end at a fixed rate, with the roles split as an operator runs them: `eastwatch start --roles
 * collectors,http` (UDP and followed logs -> enrichment -> Kafka) and `eastwatch start --roles
 * writer,detectors,http` (Kafka -> chDB, the detectors; with embedded chDB the windowed detectors must share the
 * writer's process).
 *
 * The simulator makes about 45k flows/s on one core, short of the rate asked, so its traffic is rendered first:
 * BENCH_SCENARIO (simulator/scenarios/large-day.yaml, 512 nodes with attacks) from BENCH_SPAN ago (5h), its
 * IPFIX and sFlow datagrams captured with their exporter addresses, its Hubble and Squid lines kept, its
 * allocation events published, until BENCH_RATE x BENCH_SECONDS flows (100,000 x 60; switches' flows become
 * sFlow samples, 1 in N packets, so there are ~10 % fewer records and the replay is that much shorter). Then
 * that traffic is replayed at BENCH_RATE records/s, each datagram from its exporter's address, the log lines
 * appended in step.
 *
 * Prints records sent, received, stored, loss, flows/s stored end to end, flow-to-alert latency p50/p99 of the
 * streaming detectors, the score against the simulator's ground truth, the peak RSS of each process and its
 * CPU while sending.
 */
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../app/config';
import { openStore } from '../core/clickhouse';
import { kafkaContext, waitCaughtUp } from '../core/kafka';
import { createLogger } from '../core/log';
import { runScenario } from '../simulator/play';
import { loadScenario, parseDuration, proxyOf, scenarioInventory, scenarioInventoryFile } from '../simulator/scenario';
import { DEFAULT_GRACE_MS, detectionLatency, formatScore, loadAlerts, score } from '../simulator/score';
import { type BenchChild, benchSetup, cpuSeconds, memoryOf, metricSum, mib, ROOT, startEastwatch } from './setup';

const SCENARIO = process.env.BENCH_SCENARIO ?? path.join(ROOT, 'simulator/scenarios/large-day.yaml');
const RATE = Number(process.env.BENCH_RATE ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SPAN = parseDuration(process.env.BENCH_SPAN ?? '5h')!;
/** The render's pace, flows/s: below what the simulator makes alone, so the capture threads keep up (checked). */
const RENDER_RATE = Number(process.env.BENCH_RENDER_RATE ?? 30_000);
/**
 * How long a simulated exporter fills a datagram, in simulated time. Replayed at ~240x (4 simulated hours in a
 * minute), 4 minutes is the second a DPU waits at that rate: full datagrams, not one per exporter and second.
 */
const EXPORT_FLUSH = parseDuration(process.env.BENCH_EXPORT_FLUSH ?? '4m')!;
/**
 * The store process's nice value: on a machine short of cores the collectors must win, since what they do not
 * take from the socket is lost while the writer and detectors catch up from Kafka.
 */
const NICE = Number(process.env.BENCH_STORE_NICE ?? 10);
const TICK_MS = 2;

interface Datagram { source: string; protocol: 'ipfix' | 'sflow'; bytes: Buffer }
interface Rendered { datagrams: Datagram[]; records: number; lines: Record<'hubble' | 'squid', string[]>; outcome: Awaited<ReturnType<typeof runScenario>> }

/** A capture socket's worker: reports its port, posts datagrams in batches, on 'flush' posts the rest and ends. */
const CAPTURE = `
const { parentPort } = require('node:worker_threads');
const socket = require('node:dgram').createSocket({ type: 'udp4', recvBufferSize: 64 * 2 ** 20 });
let batch = [];
const post = () => { if (batch.length) parentPort.postMessage({ batch }); batch = []; };
socket.on('message', (m, from) => { batch.push([from.address, m]); if (batch.length >= 1000) post(); });
setInterval(post, 50).unref();
socket.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: socket.address().port }));
parentPort.on('message', () => { post(); socket.close(); parentPort.close(); });
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Plays the scenario into capture sockets and files until it has made `flows` flows. */
async function render(cfg: ReturnType<typeof loadConfig>, dir: string, flows: number): Promise<Rendered> {
  const datagrams: Datagram[] = [];
  // Captured in a worker thread: the simulator keeps this event loop busy, and datagrams of a few records each
  // overflow a socket buffer of net.core.rmem_max in milliseconds.
  const capture = async (protocol: Datagram['protocol']) => {
    const w = new Worker(CAPTURE, { eval: true });
    w.on('message', (m: { port?: number; batch?: Array<[string, Uint8Array]> }) => {
      for (const [source, bytes] of m.batch ?? []) datagrams.push({ source, protocol, bytes: Buffer.from(bytes) });
    });
    const port = await new Promise<number>((ok) => w.once('message', (m: { port: number }) => ok(m.port)));
    return { port, close: async () => { w.postMessage('flush'); await once(w, 'exit'); } };
  };
  const sockets = { ipfix: await capture('ipfix'), sflow: await capture('sflow') };
  const files = { hubble: path.join(dir, 'hubble.json'), squid: path.join(dir, 'access.log') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const scenario = loadScenario(SCENARIO);
  scenario.duration = Math.min(scenario.duration, SPAN);
  const enough = new AbortController();
  const outcome = await runScenario(cfg.kafka, {
    scenario, rate: RENDER_RATE, start: Date.now() - SPAN, signal: enough.signal,
    exporters: { ipfix: { flushMs: EXPORT_FLUSH }, sflow: { flushMs: EXPORT_FLUSH } },
    target: { host: '127.0.0.1', ipfixPort: sockets.ipfix.port, sflowPort: sockets.sflow.port, hubbleFile: files.hubble, squidFile: files.squid },
    onProgress: (p) => { if (p.flows >= flows) enough.abort(); },
  });
  await sleep(500);
  for (const s of Object.values(sockets)) await s.close();
  const { ipfix, sflow } = outcome.result.byEmitter;
  const expected = (ipfix?.messages ?? 0) + (sflow?.messages ?? 0);
  if (datagrams.length !== expected) throw new Error(`the render captured ${datagrams.length} of ${expected} datagrams: lower BENCH_RENDER_RATE`);
  const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean);
  // Records as the collectors count them: IPFIX records, sFlow flow samples (1 in N packets), log lines.
  const records = Object.entries(outcome.result.byEmitter).filter(([name]) => name !== 'allocations').reduce((n, [, st]) => n + st.records, 0);
  return { datagrams, records, lines: { hubble: lines(files.hubble), squid: lines(files.squid) }, outcome };
}

/** Sends the rendered traffic at RATE records/s: datagrams from their exporters' addresses, lines appended in step. */
async function replay(r: Rendered, collectors: BenchChild, files: Record<'hubble' | 'squid', string>, peak: () => void): Promise<number> {
  const sockets = new Map<string, dgram.Socket>();
  for (const { source } of r.datagrams) {
    if (sockets.has(source)) continue;
    const s = dgram.createSocket('udp4');
    await new Promise<void>((ok) => s.bind(0, source, ok));
    sockets.set(source, s);
  }
  const seconds = r.records / RATE;
  const t0 = performance.now();
  let sent = 0;
  const appended = { hubble: 0, squid: 0 };
  let lastReport = t0;
  for (;;) {
    const progress = Math.min(1, (performance.now() - t0) / 1000 / seconds);
    const due = Math.floor(progress * r.datagrams.length);
    const batch: Promise<void>[] = [];
    for (; sent < due; sent++) {
      const d = r.datagrams[sent]!;
      batch.push(new Promise((ok) => sockets.get(d.source)!.send(d.bytes, collectors.ports[d.protocol], '127.0.0.1', () => ok())));
    }
    for (const k of ['hubble', 'squid'] as const) {
      const upTo = Math.floor(progress * r.lines[k].length);
      if (upTo > appended[k]) appendFileSync(files[k], `${r.lines[k].slice(appended[k], upTo).join('\n')}\n`);
      appended[k] = upTo;
    }
    await Promise.all(batch);
    if (performance.now() - lastReport >= 5000) {
      lastReport = performance.now();
      peak();
      console.log(`  t=${Math.round((lastReport - t0) / 1000)}s datagrams sent ${sent.toLocaleString('en')}/${r.datagrams.length.toLocaleString('en')}, records received ${(await metricSum(collectors.httpPort, 'eastwatch_records_in_total{stage="collector"')).toLocaleString('en')}`);
    }
    if (progress === 1) break;
    await sleep(TICK_MS);
  }
  for (const s of sockets.values()) s.close();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const bench = benchSetup({ EASTWATCH_LOG_LEVEL: 'warn' });
  const dir = path.join(bench.env.EASTWATCH_HOME!, 'e2e');
  mkdirSync(path.join(dir, 'render'), { recursive: true });
  const cfg = loadConfig(bench.env);
  const scenario = loadScenario(SCENARIO);
  const inventory = scenarioInventoryFile(scenario, dir, `bench:e2e ${SCENARIO}`);

  console.log(`rendering ${(RATE * SECONDS).toLocaleString('en')} records of ${path.relative(ROOT, SCENARIO)} at ${RENDER_RATE.toLocaleString('en')} flows/s ...`);
  const rendered = await render(cfg, path.join(dir, 'render'), RATE * SECONDS);
  const truthWindow = { since: rendered.outcome.since, until: rendered.outcome.until + DEFAULT_GRACE_MS };
  console.log(`  ${rendered.records.toLocaleString('en')} records: ${rendered.datagrams.length.toLocaleString('en')} datagrams from ${new Set(rendered.datagrams.map((d) => d.source)).size} exporters, ${rendered.lines.hubble.length} Hubble and ${rendered.lines.squid.length} Squid lines; ${rendered.outcome.truth.filter((l) => l.class === 'attack').length} attacks in ${((rendered.outcome.until - rendered.outcome.since) / 3_600_000).toFixed(2)} simulated h`);

  const files = { hubble: path.join(dir, 'hubble.json'), squid: path.join(dir, 'access.log') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const common = { ...bench.env, EASTWATCH_INVENTORY: inventory };
  const collectors = await startEastwatch({
    ...common, EASTWATCH_COLLECTORS: 'ipfix,sflow', EASTWATCH_COLLECTOR_HOST: '127.0.0.1', EASTWATCH_IPFIX_PORT: '0', EASTWATCH_SFLOW_PORT: '0',
    EASTWATCH_HUBBLE_FILES: files.hubble, EASTWATCH_SQUID_LOGS: files.squid, EASTWATCH_PROXY_ADDRESS: proxyOf(scenarioInventory(scenario)) ?? '',
  }, 'collectors,http', ['ipfix', 'sflow']);
  const store = await startEastwatch(common, 'writer,detectors,http', [], NICE);
  const processes = { 'collectors,http': collectors, 'writer,detectors,http': store };
  const peakRss = Object.fromEntries(Object.keys(processes).map((k) => [k, 0]));
  const peak = () => { for (const [k, p] of Object.entries(processes)) peakRss[k] = Math.max(peakRss[k]!, memoryOf(p.child.pid!, 'VmRSS')); };

  console.log(`replaying at ${RATE.toLocaleString('en')} records/s into collectors,http (pid ${collectors.child.pid}); writer,detectors,http (pid ${store.child.pid}, nice ${NICE})`);
  const t0 = Date.now();
  const cpuOf = () => Object.fromEntries(Object.entries(processes).map(([k, p]) => [k, cpuSeconds(p.child.pid!)]));
  const [cpu0, sender0] = [cpuOf(), process.cpuUsage()];
  const sendSeconds = await replay(rendered, collectors, files, peak);
  const [cpu1, sender] = [cpuOf(), process.cpuUsage(sender0)];
  // Until every record is received, or nothing moves for 5 s.
  let received = 0;
  for (let still = 0, last = -1; still < 10 && received < rendered.records; still = received === last ? still + 1 : 0, last = received) {
    await sleep(500);
    received = await metricSum(collectors.httpPort, 'eastwatch_records_in_total{stage="collector"');
  }
  const kernelDrops = await metricSum(collectors.httpPort, 'eastwatch_collector_receive_drops_total');
  const metricsText = await (await fetch(`http://127.0.0.1:${collectors.httpPort}/metrics`)).text();
  const droppedByReason = metricsText.split('\n').filter((l) => l.startsWith('eastwatch_records_dropped_total') && !l.endsWith(' 0'));
  const kafka = kafkaContext(cfg.kafka, createLogger('error'));
  const watchPeak = setInterval(peak, 2000);
  await waitCaughtUp(kafka.client, kafka.topics.flows, cfg.writer.groupId, 1_800_000);
  const storedAt = Date.now();
  await waitCaughtUp(kafka.client, kafka.topics.flows, cfg.detectors.groupId, 600_000);
  // One more evaluation of the windowed detectors over the stored flows, their alerts stored.
  await sleep(cfg.detectors.windowedIntervalMs + 5000);
  await waitCaughtUp(kafka.client, kafka.topics.alerts, cfg.writer.groupId, 120_000);
  clearInterval(watchPeak);
  for (const [k, p] of Object.entries(processes)) {
    peakRss[k] = Math.max(peakRss[k]!, memoryOf(p.child.pid!, 'VmHWM'));
    p.child.kill('SIGTERM');
    await new Promise((r) => p.child.once('exit', r));
  }

  const s = openStore(cfg.clickhouse, cfg.home);
  const stored = Number((await s.rows<{ n: string }>(`SELECT count() AS n FROM ${s.tbl('flows')}`))[0]!.n);
  const latency = await detectionLatency(s);
  const result = score(rendered.outcome.truth, await loadAlerts(s, truthWindow), truthWindow);
  await s.close();
  const pct = (n: number) => `${((n / rendered.records) * 100).toFixed(3)} %`;
  console.log(`\neastwatch end to end (${path.relative(ROOT, SCENARIO)} replayed: UDP and logs -> collectors -> Kafka -> writer -> chDB, and the detectors)`);
  console.log(`  sent                ${rendered.records.toLocaleString('en')} records in ${sendSeconds.toFixed(1)} s = ${Math.round(rendered.records / sendSeconds).toLocaleString('en')} records/s`);
  console.log(`  received            ${received.toLocaleString('en')} (${pct(rendered.records - received)} lost before the collector; kernel and reader drops ${kernelDrops.toLocaleString('en')} datagrams)`);
  console.log(`  stored              ${stored.toLocaleString('en')} flows; loss ${(rendered.records - stored).toLocaleString('en')} (${pct(rendered.records - stored)})`);
  console.log(`  end to end          ${Math.round(stored / ((storedAt - t0) / 1000)).toLocaleString('en')} flows/s stored (first send to the writer caught up, ${((storedAt - t0) / 1000).toFixed(1)} s)`);
  console.log(`  flow to alert       p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms (${latency.alerts} streaming alerts)`);
  for (const l of droppedByReason) console.log(`  dropped             ${l}`);
  for (const [k, v] of Object.entries(peakRss)) console.log(`  RSS ${k.padEnd(22)} peak ${mib(v)}`);
  const share = (s: number) => `${Math.round((s / sendSeconds) * 100)} % of a core`;
  console.log(`  CPU while sending   ${Object.keys(processes).map((k) => `${k} ${share(cpu1[k]! - cpu0[k]!)}`).join(', ')}, the sender ${share((sender.user + sender.system) / 1e6)}`);
  console.log(`\n${formatScore(result)}`);
  bench.teardown();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
