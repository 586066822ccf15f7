/**
 * A process's producer of keyed messages its HTTP routes publish (alerts from Alertmanager, analysts'
 * suppressions): idempotent, every message on all in-sync replicas before publish() resolves, so a route
 * answers only once Kafka has what it took.
 */
import { Partitioners, type Producer } from 'kafkajs';
import type { KafkaContext } from './kafka';
import type { Stage } from './stage';
import type { TopicKind } from './topics';

export class KafkaPublisher implements Stage {
  readonly name = 'kafka-publisher';
  private readonly producer: Producer;

  constructor(private readonly kafka: KafkaContext) {
    this.producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  }

  async start(): Promise<void> {
    await this.producer.connect();
  }

  async publish(topic: TopicKind, messages: { key: string; value: Buffer }[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.send({ topic: this.kafka.topics[topic], acks: -1, messages });
  }

  async stop(): Promise<void> {
    await this.producer.disconnect();
  }
}
