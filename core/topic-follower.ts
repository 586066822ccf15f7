/**
 * Follows a compacted topic (every key's latest statement) into a process's memory: reads it from the
 * beginning under a group of its own that never commits, then keeps following. start() resolves once
 * everything the topic held at call time has been handed over, so a process starts with the whole state.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { KafkaContext, retrying } from './kafka';
import type { Logger } from './log';

export class TopicFollower {
  private readonly consumer: Consumer;

  /** `name` tells the follower's group apart (eastwatch-NAME-<uuid>). */
  constructor(private readonly kafka: KafkaContext, private readonly topic: string, name: string, private readonly log: Logger) {
    // A short fetch wait: stopping waits for the fetch in flight, and kafkajs's default holds it 5 s when idle.
    this.consumer = kafka.client.consumer({ groupId: `eastwatch-${name}-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  }

  /**
   * Hands every message to `onBatch`, in order per partition; resolves once the topic's content at call time
   * is in (or after timeoutMs, logged). `fatal` hears of a consumer crash kafkajs does not recover from: the
   * state would silently go stale.
   */
  async start(onBatch: (messages: KafkaMessage[]) => void, fatal: (e: Error) => void, timeoutMs = 60_000): Promise<void> {
    const admin = this.kafka.client.admin();
    await admin.connect();
    const ends = await retrying(() => admin.fetchTopicOffsets(this.topic)).finally(() => admin.disconnect());
    const target = new Map(ends.map((p) => [p.partition, Number(p.high)]));
    const done = new Map<number, number>();
    let caughtUp: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    const check = () => {
      if ([...target].every(([p, high]) => high === 0 || (done.get(p) ?? 0) >= high)) caughtUp();
    };
    check();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fatal(payload.error);
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        onBatch(batch.messages);
        done.set(batch.partition, Number(batch.lastOffset()) + 1);
        check();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(() => {
      this.log.warn({ topic: this.topic }, 'topic not fully read in time; going on with what was read');
      resolve();
    }, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Nothing is committed, so a consumer still joining its group (a broker just started) is not waited for long. */
  async stop(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.consumer.disconnect(), new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
  }
}
