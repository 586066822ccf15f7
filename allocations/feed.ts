/**
 * Keeps a process's allocation timeline current: reads the whole allocations topic (compacted: every job's
 * latest statement) from the beginning under a group of its own that never commits, then follows it. Collector
 * processes wait for the initial catch-up before they take flows, so the first flows already find their jobs.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { KafkaContext, retrying } from '../core/kafka';
import type { Logger } from '../core/log';
import { recordsFailed } from '../core/metrics';
import { allocationEventAt } from './metrics';
import { decodeAllocationEvent, eventRows } from './stream';
import { AllocationTimeline } from './timeline';

export class AllocationFeed {
  readonly timeline = new AllocationTimeline();
  private readonly consumer: Consumer;
  private readonly topic: string;
  /** Kafka time of the newest event applied. */
  private newest = 0;

  /** `user` names the stage the feed serves, in its metric. */
  constructor(private readonly kafka: KafkaContext, private readonly log: Logger, private readonly user: string) {
    this.topic = kafka.topics.allocations;
    // A short fetch wait: stopping waits for the fetch in flight, and kafkajs's default holds it 5 s when idle.
    this.consumer = kafka.client.consumer({ groupId: `eastwatch-allocations-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  }

  /**
   * Resolves once everything the topic held at call time is in the timeline (or after timeoutMs, logged).
   * `fatal` hears of a consumer crash kafkajs does not recover from: the timeline would silently go stale.
   */
  async start(fatal: (e: Error) => void, timeoutMs = 60_000): Promise<void> {
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
        for (const m of batch.messages) {
          try {
            this.timeline.apply(eventRows(decodeAllocationEvent(m.value ?? Buffer.alloc(0))));
          } catch (e) {
            // The writer dead-letters it with the reason; here it is only counted.
            recordsFailed.inc({ stage: 'enrich', source: 'allocations', reason: 'invalid-allocation-event' });
            this.log.debug({ err: e, offset: m.offset }, 'skipped allocation event');
          }
        }
        const last = batch.messages.at(-1);
        if (last && Number(last.timestamp) > this.newest) {
          this.newest = Number(last.timestamp);
          allocationEventAt.set({ feed: this.user }, this.newest / 1000);
        }
        done.set(batch.partition, Number(batch.lastOffset()) + 1);
        check();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(() => {
      this.log.warn({ topic: this.topic }, 'allocations not fully loaded in time; flows until then may lack their job');
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
