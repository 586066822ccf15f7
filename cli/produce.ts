/** `eastwatch produce`: synthetic flows into the flows topic, as a collector would send them. */
import type { Config } from '../app/config';
import { RecordProducer } from '../core/record-producer';
import { FLOWS } from '../core/streams';
import { ensureTopics, kafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import { SyntheticCluster } from '../ingest/synthetic';
import { EXAMPLE_INVENTORY } from '../inventory/example';
import { loadInventory } from '../inventory/holder';

export interface ProduceReport {
  flows: number;
  bytes: number;
  packets: number;
  seconds: number;
}

export async function produceSynthetic(cfg: Config, log: Logger, flows: number, seed = 42): Promise<ProduceReport> {
  // The inventory the enrichment stage uses, so the flows are of its cluster.
  const gen = new SyntheticCluster(loadInventory(cfg.inventory.file ?? EXAMPLE_INVENTORY), { seed });
  const kafka = kafkaContext(cfg.kafka, log);
  await ensureTopics(kafka, log);
  const producer = new RecordProducer(kafka, FLOWS, log, { stage: 'ingest' });
  await producer.connect();
  const t0 = Date.now();
  let bytes = 0;
  let packets = 0;
  try {
    for (let i = 0; i < flows; i++) {
      const f = gen.next();
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
