/**
 * The Kafka stage every process starts first (after the bundled broker, when there is one): it creates the
 * topics that are missing and connects the dead-letter producer the other stages share.
 */
import { Partitioners, type Producer } from 'kafkajs';
import { DeadLetter } from './dead-letter';
import { ensureTopics, KafkaContext } from './kafka';
import type { Logger } from './log';
import type { Stage } from './stage';

export class KafkaStage implements Stage {
  readonly name = 'kafka';
  readonly deadLetter: DeadLetter;
  private readonly producer: Producer;

  constructor(private readonly kafka: KafkaContext, private readonly log: Logger) {
    // Keyed by source; which partition does not matter (named to keep kafkajs quiet).
    this.producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    this.deadLetter = new DeadLetter(this.producer, kafka.topics.deadLetter, log);
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, this.log);
    await this.producer.connect();
  }

  stop(): Promise<void> {
    return this.producer.disconnect();
  }
}
