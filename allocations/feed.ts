/**
 * Keeps a process's allocation timeline current from the allocations topic (compacted: every job's latest
 * statement). Collector processes wait for the initial catch-up before they take flows, so the first flows
 * already find their jobs.
 */
import type { KafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import { recordsFailed } from '../core/metrics';
import { TopicFollower } from '../core/topic-follower';
import { allocationEventAt } from './metrics';
import { decodeAllocationEvent, eventRows } from './stream';
import { AllocationTimeline } from './timeline';

export class AllocationFeed {
  readonly timeline = new AllocationTimeline();
  private readonly follower: TopicFollower;
  /** Kafka time of the newest event applied. */
  private newest = 0;

  /** `user` names the stage the feed serves, in its metric. */
  constructor(kafka: KafkaContext, private readonly log: Logger, private readonly user: string) {
    this.follower = new TopicFollower(kafka, kafka.topics.allocations, 'allocations', log);
  }

  /** Resolves once everything the topic held at call time is in the timeline (or after timeoutMs, logged). */
  start(fatal: (e: Error) => void, timeoutMs = 60_000): Promise<void> {
    return this.follower.start((messages) => {
      for (const m of messages) {
        try {
          this.timeline.apply(eventRows(decodeAllocationEvent(m.value ?? Buffer.alloc(0))));
        } catch (e) {
          // The writer dead-letters it with the reason; here it is only counted.
          recordsFailed.inc({ stage: 'enrich', source: 'allocations', reason: 'invalid-allocation-event' });
          this.log.debug({ err: e, offset: m.offset }, 'skipped allocation event');
        }
      }
      const last = messages.at(-1);
      if (last && Number(last.timestamp) > this.newest) {
        this.newest = Number(last.timestamp);
        allocationEventAt.set({ feed: this.user }, this.newest / 1000);
      }
    }, fatal, timeoutMs);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
