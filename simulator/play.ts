/**
 * A scenario played against a running eastwatch: the cluster model's events through the emitters (IPFIX and
 * sFlow to the collectors' ports, Hubble and Squid lines into followed files, allocation events to Kafka), with
 * the ground truth of what was played. `eastwatch simulate`, the demo and the benchmarks run it.
 */
import type { KafkaConfig } from '../core/config';
import { ensureTopics, kafkaContext } from '../core/kafka';
import { createLogger } from '../core/log';
import { openEmitters, type OpenEmittersOptions } from './emit/emitters';
import type { TruthLabel } from './events';
import { ClusterModel } from './model/model';
import { type Progress, type RunResult, runSimulation } from './run';
import { type Scenario, scenarioInventory } from './scenario';

export interface ScenarioRun {
  scenario: Scenario;
  /** Where eastwatch listens and what it follows: the collectors' ports must be real ones (not 0). */
  target: { host: string; ipfixPort: number; sflowPort: number; hubbleFile?: string; squidFile?: string };
  speed?: number;
  rate?: number;
  /** Simulated ms of history before the live part. */
  backfill?: number;
  /** Live start, ms since the epoch; default the scenario's start, else now. */
  start?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** The exporters' batching (e.g. a longer flush, in simulated ms, for a render replayed faster than it was made). */
  exporters?: Pick<OpenEmittersOptions, 'ipfix' | 'sflow'>;
}

export interface ScenarioOutcome {
  result: RunResult;
  truth: TruthLabel[];
  /** The simulated span emitted, backfill included. */
  since: number;
  until: number;
  notes: string[];
}

/** Runs a scenario against a running eastwatch: allocations already in force first, then the events in time order. */
export async function runScenario(kafkaCfg: KafkaConfig, o: ScenarioRun): Promise<ScenarioOutcome> {
  const inventory = scenarioInventory(o.scenario);
  // Sped up from now, simulated time would run ahead of the wall clock; started this far back it reaches now
  // at the end, so no flow is from the future.
  const start = o.start ?? o.scenario.start ?? Date.now() - (o.speed !== undefined && o.speed > 1 ? o.scenario.duration * (1 - 1 / o.speed) : 0);
  const model = new ClusterModel(o.scenario, inventory, { start });
  const since = start - (o.backfill ?? 0);
  const kafka = kafkaContext(kafkaCfg, createLogger('warn'));
  await ensureTopics(kafka, createLogger('warn'));
  const emitters = await openEmitters({
    nodes: inventory.nodes.keys(), collector: { host: o.target.host, ipfixPort: o.target.ipfixPort, sflowPort: o.target.sflowPort },
    ...(o.target.hubbleFile ? { hubbleFile: o.target.hubbleFile } : {}), ...(o.target.squidFile ? { squidFile: o.target.squidFile } : {}), kafka, ...o.exporters,
  });
  try {
    // Jobs that started before the simulated span: announced first, as a scheduler's state would already hold them.
    for (const e of model.activeAllocations(since)) await emitters.emit(e);
    const result = await runSimulation({
      events: (from, to) => model.events(from, to), start, duration: o.scenario.duration, emitters,
      ...(o.speed !== undefined ? { speed: o.speed } : {}), ...(o.rate !== undefined ? { rate: o.rate } : {}),
      ...(o.backfill ? { backfill: o.backfill } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}), ...(o.signal ? { signal: o.signal } : {}),
    });
    return { result, truth: model.truth(since, result.end), since, until: result.end, notes: model.notes };
  } finally {
    await emitters.close();
  }
}
