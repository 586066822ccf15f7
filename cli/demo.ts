/**
 * `eastwatch demo` (what `npm start` runs): the whole pipeline on one machine with the embedded defaults, fed
 * by the cluster simulator through the real ingest paths. Every role runs in this process (bundled broker,
 * chDB); the simulator plays the default scenario (the example 64-node cluster, every attack kind and benign
 * trap once) into the collectors' sockets and the followed Hubble and Squid files, announces its jobs on the
 * allocations topic, and the demo prints flows per second in, each alert as it is raised, and in the end the
 * score of the stored alerts against the simulator's ground truth.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startApp } from '../app/app';
import type { Config } from '../app/config';
import { ROLES } from '../app/roles';
import { waitCaughtUp } from '../core/kafka';
import type { Store } from '../core/clickhouse';
import type { Logger } from '../core/log';
import { recordsIn } from '../core/metrics';
import { DETECTORS } from '../detectors/registry';
import { DEFAULT_GRACE_MS, detectionLatency, formatScore, loadAlerts, score } from '../simulator/score';
import { loadScenario, proxyOf, scenarioInventory, scenarioInventoryFile } from '../simulator/scenario';
import { writeTruth } from '../simulator/truth';
import { runScenario } from '../simulator/play';

export interface DemoOptions {
  scenario: string;
  /** Simulated seconds per wall second. */
  speed: number;
  /** Plays only the scenario's first this-many ms. */
  duration?: number;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

async function latencyReport(store: Store): Promise<string> {
  const l = await detectionLatency(store);
  if (l.alerts === 0) return 'Detection latency: no streaming alert';
  return `Detection latency of the streaming detectors (flow received to alert raised, wall clock, ${l.alerts} alerts): p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`;
}

export async function runDemo(cfg: Config, log: Logger, o: DemoOptions): Promise<void> {
  const scenario = loadScenario(o.scenario);
  if (o.duration !== undefined) scenario.duration = Math.min(scenario.duration, o.duration);
  const inventory = scenarioInventory(scenario);
  const dir = path.join(cfg.home, 'demo');
  mkdirSync(dir, { recursive: true });
  const files = { hubble: path.join(dir, 'hubble.json'), squid: path.join(dir, 'access.log'), truth: path.join(dir, 'truth.jsonl') };
  for (const f of [files.hubble, files.squid]) writeFileSync(f, '');
  const inventoryFile = scenarioInventoryFile(scenario, dir, `eastwatch demo --scenario ${o.scenario}`);
  // Collectors on loopback ports the kernel picks; the simulator is told the bound ones.
  const demoCfg: Config = {
    ...cfg,
    collectors: { ...cfg.collectors, enabled: ['ipfix', 'sflow'], host: '127.0.0.1', ipfixPort: 0, sflowPort: 0 },
    logs: { ...cfg.logs, hubble: [files.hubble], squid: [files.squid], proxyAddress: proxyOf(inventory) ?? cfg.logs.proxyAddress },
    inventory: { ...cfg.inventory, file: inventoryFile },
  };
  console.log(`eastwatch demo: ${o.scenario} (${inventory.nodes.size} nodes) at ${o.speed}x -> collectors, enrichment, Kafka, writer, ClickHouse (${cfg.clickhouse.url ?? 'embedded chDB'})`);
  const app = await startApp(demoCfg, log, ROLES, () => process.exit(1));
  try {
    const port = (protocol: string) => app.listeners.find((l) => l.protocol === protocol)!.port;
    const store = app.store!;
    const received = async () => (await recordsIn.get()).values.filter((v) => v.labels.stage === 'collector').reduce((s, v) => s + v.value, 0);
    let lastCount = 0;
    let lastAt = Date.now();
    const alertsSeen = new Set<string>();
    const report = async (simulated: number) => {
      const now = Date.now();
      const count = await received();
      const perSecond = Math.round((count - lastCount) / ((now - lastAt) / 1000));
      [lastCount, lastAt] = [count, now];
      const alerts = (await store.rows<{ alert_id: string; time: string; detector: string; severity: string; summary: string }>(
        `SELECT toString(alert_id) AS alert_id, toString(time) AS time, detector, severity, summary FROM ${store.tbl('alerts')} FINAL ORDER BY raised_at, time`,
      )).filter((a) => !alertsSeen.has(a.alert_id));
      for (const a of alerts) alertsSeen.add(a.alert_id);
      console.log(`  simulated ${time(simulated)}  ${perSecond} flows/s in, ${count} so far, ${alertsSeen.size} alerts`);
      for (const a of alerts) console.log(`  ALERT ${a.time.slice(11, 19)} ${a.severity} ${a.detector}: ${a.summary}`);
    };
    let ticking = Promise.resolve();
    let lastTick = 0;
    const outcome = await runScenario(demoCfg.kafka, {
      scenario, speed: o.speed,
      target: { host: '127.0.0.1', ipfixPort: port('ipfix'), sflowPort: port('sflow'), hubbleFile: files.hubble, squidFile: files.squid },
      onProgress: (p) => {
        if (Date.now() - lastTick < 5000) return;
        lastTick = Date.now();
        ticking = ticking.then(() => report(p.time)).catch((e: Error) => log.warn({ err: e }, 'progress report failed'));
      },
    });
    await ticking;
    writeTruth(files.truth, outcome.truth);
    await waitCaughtUp(app.kafka.client, app.kafka.topics.flows, cfg.writer.groupId, 300_000);
    // Every flow judged, the windows evaluated once more, every alert stored: then the score is final.
    await waitCaughtUp(app.kafka.client, app.kafka.topics.flows, cfg.detectors.groupId, 300_000);
    await app.windowed?.evaluate();
    await app.alerts?.flush(0, true);
    await waitCaughtUp(app.kafka.client, app.kafka.topics.alerts, cfg.writer.groupId, 60_000);
    await report(outcome.until);
    const secs = outcome.result.wallMs / 1000;
    console.log(`\n${outcome.result.flows} flows simulated in ${secs.toFixed(1)} s (${Math.round(outcome.result.flows / secs)} flows/s): ${JSON.stringify(outcome.result.byVia)}; ${outcome.result.allocations} allocation events`);

    console.log(`\n== Ground truth (${files.truth})`);
    for (const l of outcome.truth) {
      console.log(`   ${l.class === 'attack' ? 'ATTACK' : 'benign'}  ${l.id.padEnd(24)} ${time(l.start)}-${time(l.end)}  ${l.nodes.join(',').padEnd(16)} expect: ${(l.detectors ?? []).join(', ') || '(no alert)'}`);
    }
    const window = { since: outcome.since, until: outcome.until + DEFAULT_GRACE_MS };
    // A comparison detector (the seed's rule) is scored only beside the one it is compared with, below.
    const comparisons = new Set(DETECTORS.filter((d) => d.comparison).map((d) => d.name as string));
    console.log(`\n== Score of the stored alerts against the ground truth (apart: ${[...comparisons].join(', ')})`);
    const alerts = await loadAlerts(store, window);
    console.log(formatScore(score(outcome.truth, alerts.filter((a) => !comparisons.has(a.detector)), window)));
    // The egress detectors alone, when the seed's rule runs beside egress-spike.
    if (cfg.detectors.enabled.includes('seed-egress-volume')) {
      for (const d of ['egress-spike', 'seed-egress-volume']) {
        const s = score(outcome.truth.filter((l) => l.class === 'benign' || l.detectors?.includes('egress-spike')), alerts.filter((a) => a.detector === d), window);
        console.log(`  ${d.padEnd(20)} egress attacks ${s.detected}/${s.attacks.length}, false alerts ${s.falseAlerts.length} (${s.falsePerDay.toFixed(2)} per simulated day)`);
      }
    }
    console.log(`\n${await latencyReport(store)}`);
    console.log(`Peak RSS of this process: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
  } finally {
    await app.stop();
  }
}
