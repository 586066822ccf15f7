/**
 * Reads a topic from the beginning up to its end as of the call, then stops: a process rebuilding state
 * others produced (the alerts still firing). A group of its own that never commits, so nothing is consumed
 * away from anyone.
 */
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { KafkaContext, retrying } from './kafka';

export async function readToEnd(kafka: KafkaContext, topic: string, onMessage: (m: KafkaMessage) => void, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.client.admin();
  await admin.connect();
  const ends = await retrying(() => admin.fetchTopicOffsets(topic)).finally(() => admin.disconnect());
  const pending = new Map(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]));
  if (pending.size === 0) return;
  const consumer = kafka.client.consumer({ groupId: `eastwatch-snapshot-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const high = pending.get(batch.partition);
        if (high === undefined) return;
        for (const m of batch.messages) if (Number(m.offset) < high) onMessage(m);
        if (Number(batch.lastOffset()) + 1 >= high) pending.delete(batch.partition);
        if (pending.size === 0) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`reading ${topic} to its end took over ${timeoutMs / 1000} s`)), timeoutMs)));
    await Promise.race([finished, timedOut]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
}
