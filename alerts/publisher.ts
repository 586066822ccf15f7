/**
 * The alert publisher of a detectors process: findings in, alerts out on the alerts topic (the writer stores
 * them in ClickHouse). At start it reads the alerts topic back, so the episodes still firing go on under their
 * alert ids instead of being raised again. Flushes are serialized: the streaming detectors' partitions and the
 * windowed detectors flush from concurrent tasks.
 */
import { Partitioners, type Producer } from 'kafkajs';
import type { KafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import { type Alert, SEVERITIES } from '../core/records';
import type { Stage, StageContext } from '../core/stage';
import { readToEnd } from '../core/topic-snapshot';
import type { FindingSink } from '../detectors/detector';
import { DETECTOR_NAMES, type Finding } from '../detectors/finding';
import { AlertLifecycle } from './lifecycle';
import { alertsFiring, alertsRaised, alertsSuppressed } from './metrics';
import { SuppressionFeed } from './suppressions';
import { decodeAlert, encodeAlert } from './stream';

export interface PublisherOptions {
  quietMs: number;
  updateMs: number;
  flowsTable: string;
}

export class AlertPublisher implements Stage, FindingSink {
  readonly name = 'alert-publisher';
  readonly lifecycle: AlertLifecycle;
  private readonly producer: Producer;
  private flushing: Promise<void> = Promise.resolve();

  private readonly suppressions: SuppressionFeed;

  constructor(o: PublisherOptions, private readonly kafka: KafkaContext, private readonly log: Logger) {
    this.suppressions = new SuppressionFeed(kafka, log);
    this.lifecycle = new AlertLifecycle({
      ...o,
      held: (a) => this.suppressions.holding(a, Date.now()) !== undefined,
      onHold: (a) => {
        alertsSuppressed.inc({ detector: a.detector });
        const s = this.suppressions.holding(a, Date.now());
        log.info({ alert_id: a.alert_id, detector: a.detector, src_node: a.src_node, suppression_id: s?.suppression_id }, 'alert held back by a suppression');
      },
      onRaise: (a) => {
        alertsRaised.inc({ detector: a.detector, severity: a.severity, src_zone: a.src_zone ?? '', dst_zone: a.dst_zone ?? '' });
        log.info({ alert_id: a.alert_id, detector: a.detector, severity: a.severity, summary: a.summary }, 'alert raised');
      },
    });
    // Keyed by fingerprint: an alert's versions stay in one partition, in order.
    this.producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  }

  async start(ctx: StageContext): Promise<void> {
    await this.suppressions.start((e) => ctx.fatal(e));
    await this.producer.connect();
    const latest = new Map<string, Alert>();
    let bad = 0;
    await readToEnd(this.kafka, this.kafka.topics.alerts, (m) => {
      try {
        const a = decodeAlert(m.value ?? Buffer.alloc(0));
        const have = latest.get(a.alert_id);
        if (!have || a.updated_at >= have.updated_at) latest.set(a.alert_id, a);
      } catch {
        bad++; // the writer dead-letters it with the reason
      }
    });
    this.lifecycle.restore([...latest.values()].sort((a, b) => a.updated_at - b.updated_at));
    this.log.info({ alerts: latest.size, firing: this.lifecycle.firing, unreadable: bad }, 'alerts topic read back');
  }

  observe(f: Finding): void {
    this.lifecycle.observe(f);
  }

  flush(watermark: number, all = false): Promise<void> {
    const run = this.flushing.then(async () => {
      this.lifecycle.endQuiet(watermark);
      const alerts = this.lifecycle.take(all);
      // Every detector and severity has a series, 0 when nothing fires: a rule's alert resolves on a value.
      for (const detector of DETECTOR_NAMES) for (const severity of SEVERITIES) alertsFiring.set({ detector, severity }, 0);
      for (const { detector, severity, count } of this.lifecycle.firingBy()) alertsFiring.set({ detector, severity }, count);
      if (alerts.length === 0) return;
      await this.producer.send({ topic: this.kafka.topics.alerts, messages: alerts.map((a) => ({ key: a.fingerprint, value: encodeAlert(a) })) });
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    await this.flush(0, true).catch((e: Error) => this.log.error({ err: e }, 'alerts held back at shutdown could not be published'));
    await this.producer.disconnect();
    await this.suppressions.stop();
  }
}
