/**
 * Raw flows of a scenario as eastwatch's collectors would produce them, for what produces straight into Kafka:
 * `eastwatch produce`, the pipeline benchmark, the writer's tests. Everything else plays the simulator through
 * the real ingest paths (cli/simulate.ts).
 */
import type { Flow } from '../core/flow';
import { ExporterAddresses } from './emit/emitter';
import { toFlow } from './emit/flows';
import type { SimFlow } from './events';
import { ClusterModel } from './model/model';
import { DEFAULT_SCENARIO, loadScenario, type Scenario, scenarioInventory } from './scenario';

export interface SampleOptions {
  /** Default: simulator/scenarios/default.yaml. */
  scenario?: Scenario;
  seed?: number;
  /**
   * Simulated start, ms since the epoch; default the scenario's, else the start of the current hour: recent
   * enough for the flows table's retention (it goes by receipt time), and the same flows all through the hour.
   */
  start?: number;
}

const STEP = 60_000;

/** The scenario's flows in time order, without end: after the scenario's span, its normal traffic goes on. */
export function* simulatedFlows(o: SampleOptions = {}): Generator<{ flow: Flow; sim: SimFlow }> {
  const scenario = o.scenario ?? loadScenario(DEFAULT_SCENARIO);
  if (o.seed !== undefined) scenario.seed = o.seed;
  const inventory = scenarioInventory(scenario);
  const model = new ClusterModel(scenario, inventory, { start: o.start ?? scenario.start ?? Math.floor(Date.now() / 3_600_000) * 3_600_000 });
  const addresses = new ExporterAddresses(inventory.nodes.keys());
  for (let t = model.start; ; t += STEP) {
    for (const e of model.events(t, t + STEP)) if (e.kind === 'flow') yield { flow: toFlow(e.flow, addresses), sim: e.flow };
  }
}

/** The first `n` flows of simulatedFlows(o). */
export function sampleFlows(n: number, o: SampleOptions = {}): Flow[] {
  const out: Flow[] = [];
  if (n <= 0) return out;
  for (const { flow } of simulatedFlows(o)) {
    out.push(flow);
    if (out.length >= n) break;
  }
  return out;
}
