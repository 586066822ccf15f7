/**
 * Where every collector of a process hands its records: enrichment, then one bounded Kafka producer per
 * stream. While Kafka is unreachable the collectors keep receiving, the producers hold a bounded backlog and
 * count what they cannot hold, /healthz says not ready, and producing resumes by itself when Kafka is back.
 * Started before the collectors and stopped after them, so what they took is flushed.
 */
import type { Flow } from '../core/flow';
import type { KafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import { RecordProducer } from '../core/record-producer';
import type { InterfaceCounter } from '../core/records';
import type { Stage } from '../core/stage';
import { COUNTERS, FLOWS } from '../core/streams';
import type { Sinks } from './collector';
import type { CollectorConfig } from './config';

export interface ProducerDeps {
  kafka: KafkaContext;
  log: Logger;
  /** Enrichment applied to every flow before it is produced. */
  enrich(flow: Flow): Flow;
}

export class FlowProducers implements Stage, Sinks {
  readonly name = 'kafka-producers';
  private readonly flows: RecordProducer<Flow>;
  private readonly counters: RecordProducer<InterfaceCounter>;
  private readonly enrich: (flow: Flow) => Flow;

  constructor(cfg: CollectorConfig, { kafka, log, enrich }: ProducerDeps) {
    const opts = { stage: 'collector', maxBacklog: cfg.maxBacklog };
    this.flows = new RecordProducer(kafka, FLOWS, log, opts);
    this.counters = new RecordProducer(kafka, COUNTERS, log, opts);
    this.enrich = enrich;
  }

  async start(): Promise<void> {
    await this.flows.connect();
    await this.counters.connect();
  }

  /** Bound, so collectors can hold it as a plain function. */
  readonly flow = (flow: Flow): void => void this.flows.push(this.enrich(flow));

  readonly counter = (counter: InterfaceCounter): void => void this.counters.push(counter);

  /** Resolves once every flow handed over so far is acknowledged by Kafka. */
  durable(): Promise<void> {
    return this.flows.flush();
  }

  /** Whether flow() would take a flow now; false while the backlog is full and it would be dropped. */
  hasRoom(): boolean {
    return this.flows.hasRoom();
  }

  /** Resolves when the flows backlog may have room again: sources that can wait pause on it instead of dropping. */
  room(): Promise<void> {
    return this.flows.room();
  }

  health(): void {
    this.flows.health();
    this.counters.health();
  }

  async stop(): Promise<void> {
    await this.flows.close();
    await this.counters.close();
  }
}
