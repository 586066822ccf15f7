/**
 * The default scenario's first minutes put straight into a test's topics, as the collectors and a scheduler
 * hook would: allocation events on the allocations topic, then the flows enriched (so partitioned by source
 * node) on the flows topic. The same every time for the same start: runs can be compared alert for alert.
 */
import { AllocationPublisher } from '../allocations/publish';
import { eventRows } from '../allocations/stream';
import { AllocationTimeline } from '../allocations/timeline';
import { validateEvents } from '../allocations/publish';
import { ensureTopics, kafkaContext } from '../core/kafka';
import { createLogger } from '../core/log';
import { RecordProducer } from '../core/record-producer';
import { FLOWS } from '../core/streams';
import { Enricher } from '../enrich/enricher';
import { ExporterAddresses } from '../simulator/emit/emitter';
import { toFlow } from '../simulator/emit/flows';
import type { TruthLabel } from '../simulator/events';
import { ClusterModel } from '../simulator/model/model';
import { DEFAULT_SCENARIO, loadScenario, scenarioInventory } from '../simulator/scenario';
import type { TestEnv } from './helpers';
import { loadConfig } from '../app/config';

export async function produceScenario(t: TestEnv, start: number, minutes: number): Promise<{ flows: number; truth: TruthLabel[] }> {
  const scenario = loadScenario(DEFAULT_SCENARIO);
  const inventory = scenarioInventory(scenario);
  const model = new ClusterModel(scenario, inventory, { start });
  const end = start + minutes * 60_000;
  const events = [...model.events(start, end)];
  const log = createLogger('warn');
  const kafka = kafkaContext(loadConfig(t.env).kafka, log);
  await ensureTopics(kafka, log);
  const allocations = events.flatMap((e) => (e.kind === 'allocation' ? [e.event] : []));
  const publisher = new AllocationPublisher(kafka);
  await publisher.connect();
  await publisher.publish(allocations);
  await publisher.disconnect();
  const timeline = new AllocationTimeline();
  for (const e of validateEvents(allocations)) timeline.apply(eventRows(e));
  const enricher = new Enricher(() => inventory, timeline);
  const addresses = new ExporterAddresses(inventory.nodes.keys());
  const producer = new RecordProducer(kafka, FLOWS, log, { stage: 'ingest' });
  await producer.connect();
  let flows = 0;
  for (const e of events) {
    if (e.kind !== 'flow') continue;
    producer.push(enricher.enrich(toFlow(e.flow, addresses, Date.now())));
    flows++;
  }
  await producer.close();
  return { flows, truth: model.truth(start, end) };
}
