/**
 * Alerts raised outside the detectors (Alertmanager's webhook) onto the alerts topic, where the writer stores
 * them like the detectors' own. A publish resolves once Kafka has them: the webhook answers only then, so
 * Alertmanager retries what was not taken.
 */
import { Partitioners, type Producer } from 'kafkajs';
import type { KafkaContext } from '../core/kafka';
import type { Alert } from '../core/records';
import type { Stage } from '../core/stage';
import { encodeAlert } from './stream';

export class ExternalAlerts implements Stage {
  readonly name = 'external-alerts';
  private readonly producer: Producer;

  constructor(private readonly kafka: KafkaContext) {
    this.producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  }

  async start(): Promise<void> {
    await this.producer.connect();
  }

  async publish(alerts: Alert[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.producer.send({ topic: this.kafka.topics.alerts, messages: alerts.map((a) => ({ key: a.fingerprint, value: encodeAlert(a) })) });
  }

  async stop(): Promise<void> {
    await this.producer.disconnect();
  }
}
