/** Produces test flows through the real RecordProducer into a test environment's flows topic. */
import { loadConfig } from '../../app/config';
import type { Flow } from '../../core/flow';
import { RecordProducer } from '../../core/record-producer';
import { FLOWS } from '../../core/streams';
import { ensureTopics, kafkaContext } from '../../core/kafka';
import { createLogger } from '../../core/log';
import type { TestEnv } from '../helpers';

/** Byte and packet sums pass 2^53 (RoCE flows carry gigabytes): summed exactly, as bigints. */
export interface Totals {
  flows: number;
  bytes: bigint;
  packets: bigint;
}

export async function produceFlows(t: TestEnv, flows: Iterable<Flow>): Promise<Totals> {
  const cfg = loadConfig(t.env);
  const log = createLogger('error');
  const kafka = kafkaContext(cfg.kafka, log);
  await ensureTopics(kafka, log);
  const producer = new RecordProducer(kafka, FLOWS, log, { stage: 'test' });
  await producer.connect();
  const totals: Totals = { flows: 0, bytes: 0n, packets: 0n };
  for (const f of flows) {
    producer.push(f);
    totals.flows++;
    totals.bytes += BigInt(f.bytes ?? 0);
    totals.packets += BigInt(f.packets ?? 0);
    if (producer.buffered > 50_000) await producer.flush();
  }
  await producer.close();
  return totals;
}

export async function storedTotals(t: TestEnv, query: (t: TestEnv, sql: string) => Promise<Record<string, unknown>[]>): Promise<Totals> {
  const [row] = await query(t, 'SELECT count() AS flows, toString(sum(bytes)) AS bytes, toString(sum(packets)) AS packets FROM eastwatch.flows');
  return { flows: Number(row!.flows), bytes: BigInt(String(row!.bytes)), packets: BigInt(String(row!.packets)) };
}
