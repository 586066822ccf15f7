/**
 * Sends allocation events to the allocations topic, keyed by job (the topic is compacted by that key), after
 * validating each one completely, hostlist expansion included: a bad event is refused here with its reason
 * instead of being dead-lettered later.
 */
import { Kafka, Partitioners, Producer } from 'kafkajs';
import { topics, type Config } from '../core/config';
import { zodDetail } from '../core/error-text';
import { AllocationEvent, AllocationEventInput, AllocationEventSchema, allocationRows } from './event';

export class AllocationEventError extends Error {}

export function validateEvents(inputs: AllocationEventInput[]): AllocationEvent[] {
  return inputs.map((input, i) => {
    const parsed = AllocationEventSchema.safeParse(input);
    if (!parsed.success) {
      throw new AllocationEventError(`event ${i} (job ${String((input as { job_id?: unknown }).job_id)}): ${zodDetail(parsed.error)}`);
    }
    try {
      allocationRows(parsed.data, 0);
    } catch (e) {
      throw new AllocationEventError(`event ${i} (job ${parsed.data.job_id}): ${(e as Error).message}`);
    }
    return parsed.data;
  });
}

export class AllocationPublisher {
  private readonly producer: Producer;

  constructor(kafka: Kafka, private readonly cfg: Config) {
    // One partition, keyed by job: the default partitioner's choice does not matter (named to keep kafkajs quiet).
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async publish(inputs: AllocationEventInput[]): Promise<number> {
    const events = validateEvents(inputs);
    if (events.length === 0) return 0;
    await this.producer.send({
      topic: topics(this.cfg).allocations,
      acks: -1,
      messages: events.map((e) => ({ key: e.job_id, value: JSON.stringify(e) })),
    });
    return events.length;
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
