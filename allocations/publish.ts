/**
 * Sends allocation events to the allocations topic, keyed by job (the topic is compacted by that key), after
 * validating each one completely, hostlist expansion included: a bad event is refused here with its reason
 * instead of being dead-lettered later.
 */
import { Partitioners, Producer } from 'kafkajs';
import type { KafkaContext } from '../core/kafka';
import { UserError, zodDetail } from '../core/error-text';
import { AllocationEvent, AllocationEventInput, AllocationEventSchema, allocationRows } from './event';

export class AllocationEventError extends UserError {}

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
  private readonly topic: string;

  constructor(kafka: KafkaContext) {
    this.topic = kafka.topics.allocations;
    // One partition, keyed by job: the default partitioner's choice does not matter (named to keep kafkajs quiet).
    this.producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async publish(inputs: AllocationEventInput[]): Promise<number> {
    const events = validateEvents(inputs);
    if (events.length === 0) return 0;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: events.map((e) => ({ key: e.job_id, value: JSON.stringify(e) })),
    });
    return events.length;
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}
