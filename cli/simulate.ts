/**
 * `eastwatch simulate`: the cluster simulator as an eastwatch process runs it, through the real ingest paths:
 * IPFIX and sFlow to the collectors' ports, Hubble and Squid lines into the files eastwatch follows, allocation
 * events on the allocations topic; the ground truth into a JSON-lines file. Also writes the inventory of a
 * simulated cluster (`--inventory-out`), so enrichment knows the cluster the simulator plays.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../app/config';
import { UserError } from '../core/error-text';
import type { Logger } from '../core/log';
import { createLogger } from '../core/log';
import { clusterInventory, inventoryYaml } from '../simulator/cluster';
import { type ScenarioRun, runScenario } from '../simulator/play';
import type { Progress } from '../simulator/run';
import { loadScenario, parseDuration } from '../simulator/scenario';
import { writeTruth } from '../simulator/truth';

const positive = (v: string) => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
};
const duration = (v: string) => {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s, 15m, 7d');
  return ms;
};

/** The collectors' ports as a simulator must reach them: a configured 0 means "the kernel's pick", unknown here. */
function targetOf(cfg: Config): ScenarioRun['target'] {
  const c = cfg.collectors;
  if (c.ipfixPort === 0 || c.sflowPort === 0) throw new UserError('EASTWATCH_IPFIX_PORT and EASTWATCH_SFLOW_PORT must name the collectors\' ports (not 0) to simulate against them');
  return {
    host: c.host, ipfixPort: c.ipfixPort, sflowPort: c.sflowPort,
    ...(cfg.logs.hubble[0] ? { hubbleFile: cfg.logs.hubble[0] } : {}), ...(cfg.logs.squid[0] ? { squidFile: cfg.logs.squid[0] } : {}),
  };
}

export function registerSimulate(program: Command, config: () => Config): void {
  program.command('simulate')
    .description('play a simulated AI cluster with injected attacks into eastwatch (its collectors, followed files and allocations topic), writing the ground truth')
    .option('--scenario <file>', 'scenario YAML (simulator/scenarios/default.yaml)')
    .option('--truth-out <file>', 'ground truth as JSON lines (attacks and benign traps)', 'truth.jsonl')
    .addOption(new Option('--speed <x>', 'simulated seconds per wall second (144: a simulated day in 10 minutes)').argParser(positive).conflicts('rate'))
    .option('--rate <flows>', 'flows per wall second, for load tests (simulated time runs as fast as that takes)', positive)
    .option('--backfill <duration>', 'history emitted first, as fast as the pipeline takes it, with past event times (e.g. 7d)', duration)
    .option('--seed <n>', 'override the scenario\'s seed', (v) => Math.trunc(positive(v)))
    .option('--inventory-out <file>', 'write the inventory of the simulated cluster (of --scenario, or of --nodes/--rails) and exit')
    .option('--nodes <n>', 'training nodes of a generated cluster (with --inventory-out)', (v) => Math.trunc(positive(v)))
    .option('--rails <n>', 'back-end rails of a generated cluster (with --inventory-out)', (v) => Math.trunc(positive(v)), 8)
    .action(async (o: { scenario?: string; truthOut: string; speed?: number; rate?: number; backfill?: number; seed?: number; inventoryOut?: string; nodes?: number; rails: number }) => {
      if (o.inventoryOut) return void writeInventory(o.inventoryOut, o);
      if (!o.scenario) throw new UserError('--scenario FILE is needed (or --inventory-out FILE --nodes N)');
      const scenario = loadScenario(o.scenario);
      if (o.seed !== undefined) scenario.seed = o.seed;
      const cfg = config();
      const log = createLogger(cfg.logLevel);
      const outcome = await runScenario(cfg.kafka, {
        scenario, target: targetOf(cfg), ...(o.speed !== undefined ? { speed: o.speed } : {}), ...(o.rate !== undefined ? { rate: o.rate } : {}),
        ...(o.backfill ? { backfill: o.backfill } : {}), onProgress: progressLogger(log),
      });
      writeTruth(o.truthOut, outcome.truth);
      console.log(JSON.stringify({
        flows: outcome.result.flows, backfillFlows: outcome.result.backfillFlows, allocations: outcome.result.allocations, byVia: outcome.result.byVia, emitted: outcome.result.byEmitter,
        labels: outcome.truth.length, since: new Date(outcome.since).toISOString(), until: new Date(outcome.until).toISOString(),
        wallSeconds: Math.round(outcome.result.wallMs / 100) / 10, flowsPerSecond: Math.round(outcome.result.flows / (outcome.result.wallMs / 1000)),
        truth: o.truthOut, notes: outcome.notes,
      }));
    });
}

/** Progress at most every 10 wall seconds. */
function progressLogger(log: Logger): (p: Progress) => void {
  let last = 0;
  return (p) => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    log.info({ phase: p.phase, time: new Date(p.time).toISOString(), flows: p.flows, lagMs: Math.round(p.lagMs) }, 'simulating');
  };
}

function writeInventory(file: string, o: { scenario?: string; nodes?: number; rails: number }): void {
  if (o.scenario) {
    const s = loadScenario(o.scenario);
    if (s.cluster.inventory !== undefined) return void copyFileSync(s.cluster.inventory, file);
    return void writeFileSync(file, inventoryYaml(clusterInventory(s.cluster.generate!), `eastwatch simulate --scenario ${o.scenario} --inventory-out ${file}`));
  }
  if (o.nodes === undefined) throw new UserError('--inventory-out needs --scenario FILE or --nodes N');
  writeFileSync(file, inventoryYaml(clusterInventory({ nodes: o.nodes, rails: o.rails }), `eastwatch simulate --inventory-out ${file} --nodes ${o.nodes} --rails ${o.rails}`));
}
