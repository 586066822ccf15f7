/**
 * Line sources that users already ship through Kafka (Hubble exporter → Fluent Bit/Vector → a topic): each
 * message is one line or several newline-separated lines. A consumed batch becomes flows on the flows topic in
 * one Kafka transaction together with the batch's offsets, so a crash or restart neither loses nor repeats a
 * flow (the writer reads committed records only, kafkajs' default isolation).
 * kafkajs predates KIP-447: fencing is per transactional id, so each eastwatch instance needs its own.
 */
import type { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import type { DeadLetter } from '../../core/dead-letter';
import type { Flow } from '../../core/flow';
import { failpoint } from '../../core/failpoint';
import { compressionOf, KafkaContext } from '../../core/kafka';
import type { Logger } from '../../core/log';
import { recordsOut } from '../../core/metrics';
import { partitionCount, toMessages } from '../../core/record-producer';
import { FLOWS } from '../../core/streams';
import type { Stage, StageContext } from '../../core/stage';
import { lineHandler, LogFormat } from './collector';

export interface TopicSourceOptions {
  format: LogFormat;
  topics: string[];
  groupId: string;
  transactionalId: string;
  /** exporter_address of proxy flows (the egress proxy's address). */
  proxyAddress: string;
  deadLetter?: DeadLetter;
  /** The enrichment stage, applied to each flow before it is produced. */
  enrich?: (flow: Flow) => Flow;
}

export class TopicLineSource implements Stage {
  readonly name = 'hubble-topics';
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private partitions = 0;

  constructor(
    private readonly kafka: KafkaContext,
    private readonly opts: TopicSourceOptions,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.client.consumer({
      groupId: opts.groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 1 << 20, sessionTimeout: 10_000, heartbeatInterval: 3000,
    });
    this.producer = kafka.client.producer({ transactionalId: opts.transactionalId, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async start(ctx: StageContext): Promise<void> {
    this.partitions = await partitionCount(this.kafka, this.kafka.topics.flows);
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.opts.topics, fromBeginning: true });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) ctx.fatal(payload.error); // kafkajs restarts it after retriable errors
    });
    this.log.info({ topics: this.opts.topics, format: this.opts.format, group: this.opts.groupId }, 'reading lines from Kafka');
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.onBatch(p) });
  }

  private async onBatch({ batch, isRunning, isStale, heartbeat, resolveOffset }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const flows: Flow[] = [];
    const source = `${batch.topic}/${batch.partition}`;
    const handle = lineHandler(this.opts.format, source, { proxyAddress: this.opts.proxyAddress, flow: (f) => flows.push(this.opts.enrich ? this.opts.enrich(f) : f), deadLetter: this.opts.deadLetter, log: this.log });
    for (const m of batch.messages) {
      for (const line of (m.value ?? Buffer.alloc(0)).toString('utf8').split('\n')) {
        if (line.trim() !== '') handle(line);
      }
    }
    const { messages, count } = toMessages(FLOWS, flows, this.partitions, this.kafka.cfg.flowsPerMessage);
    const tx = await this.producer.transaction();
    try {
      if (messages.length > 0) {
        await tx.sendBatch({ topicMessages: [{ topic: this.kafka.topics.flows, messages }], acks: -1, compression: compressionOf(this.kafka.cfg) });
      }
      await tx.sendOffsets({
        consumerGroupId: this.opts.groupId,
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) }] }],
      });
      failpoint('hubble-topic-before-commit'); // flows sent, transaction open: they must never be read
      await tx.commit();
    } catch (e) {
      await tx.abort().catch(() => undefined);
      throw e; // kafkajs re-fetches from the last committed offset
    }
    recordsOut.inc({ stage: 'collector' }, count);
    // The offsets were committed by the transaction; resolving moves the fetch position past the batch.
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
