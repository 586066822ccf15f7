/**
 * `eastwatch produce`: flows of a simulator scenario straight into the flows topic, as collectors would send them
 * (no sockets, no enrichment): load for the writer alone. `eastwatch simulate` plays the whole ingest path.
 */
import type { Config } from '../app/config';
import { RecordProducer } from '../core/record-producer';
import { FLOWS } from '../core/streams';
import { ensureTopics, kafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import { loadScenario } from '../simulator/scenario';
import { simulatedFlows } from '../simulator/sample';

export interface ProduceReport {
  flows: number;
  bytes: number;
  packets: number;
  seconds: number;
}

export async function produceSimulated(cfg: Config, log: Logger, flows: number, o: { scenario?: string; seed?: number } = {}): Promise<ProduceReport> {
  const gen = simulatedFlows({ ...(o.scenario ? { scenario: loadScenario(o.scenario) } : {}), ...(o.seed !== undefined ? { seed: o.seed } : {}) });
  const kafka = kafkaContext(cfg.kafka, log);
  await ensureTopics(kafka, log);
  const producer = new RecordProducer(kafka, FLOWS, log, { stage: 'ingest' });
  await producer.connect();
  const t0 = Date.now();
  let bytes = 0;
  let packets = 0;
  try {
    for (let i = 0; i < flows; i++) {
      const f = gen.next().value!.flow;
      bytes += f.bytes ?? 0;
      packets += f.packets ?? 0;
      producer.push(f);
      if (producer.buffered > 200_000) await producer.flush();
    }
  } finally {
    await producer.close();
  }
  return { flows, bytes, packets, seconds: (Date.now() - t0) / 1000 };
}
