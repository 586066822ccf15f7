/**
 * Produces Flows to the flows topic. Flows are partitioned by a hash of the source address, so every flow of
 * one source lands in one partition (streaming detectors keep per-source state per partition), and up to
 * kafka.flowsPerMessage flows of one partition share a message: Kafka's per-record overhead is paid once per
 * batch of flows rather than per flow. The producer is idempotent with acks=all, batched (linger) and compressed.
 */
import { Kafka, Message, Producer } from 'kafkajs';
import { encodeFlows } from './codec';
import { Config, topics } from './config';
import type { Flow } from './flow';
import { compressionOf } from './kafka';
import type { Logger } from './log';
import { recordsOut } from './metrics';

/** FNV-1a over the address text: stable across processes and releases, which partition placement needs. */
export function partitionOf(address: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

export class FlowProducer {
  private readonly producer: Producer;
  private readonly topic: string;
  private partitions = 0;
  private buckets: Flow[][] = [];
  /** Flows in buckets, not yet handed to a send. */
  private queued = 0;
  /** Flows handed to a send and not yet acknowledged. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    kafka: Kafka,
    private readonly cfg: Config,
    private readonly log: Logger,
    private readonly stage = 'ingest',
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.topic = topics(cfg).flows;
  }

  async connect(kafka: Kafka): Promise<void> {
    await this.producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [this.topic] });
      this.partitions = meta.topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect();
    }
    if (this.partitions < 1) throw new Error(`topic ${this.topic} has no partitions`);
    this.buckets = Array.from({ length: this.partitions }, () => []);
  }

  /** Flows buffered and not yet acknowledged by Kafka. */
  get buffered(): number {
    return this.queued + this.inFlight;
  }

  /** Buffers a flow; it is sent within kafka.lingerMs or as soon as a full message batch is ready. */
  push(flow: Flow): void {
    if (this.failure) throw this.failure;
    this.buckets[partitionOf(flow.src_addr, this.partitions)]!.push(flow);
    this.queued++;
    if (this.queued >= this.cfg.kafka.flowsPerMessage * this.partitions * 4) this.flushInBackground();
    else this.timer ??= setTimeout(() => this.flushInBackground(), this.cfg.kafka.lingerMs);
  }

  /** A failure is kept and thrown by the next push() or flush(), so the caller learns of it. */
  private flushInBackground(): void {
    this.flush().catch(() => undefined);
  }

  /** Sends every buffered flow; resolves once Kafka acknowledged them (acks=all). */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const messages: Message[] = [];
    let count = 0;
    const per = this.cfg.kafka.flowsPerMessage;
    this.buckets.forEach((bucket, partition) => {
      for (let i = 0; i < bucket.length; i += per) {
        messages.push({ partition, value: encodeFlows(bucket.slice(i, i + per)) });
      }
      count += bucket.length;
    });
    this.buckets = this.buckets.map(() => []);
    this.queued = 0;
    this.inFlight += count;
    if (messages.length > 0) {
      this.chain = this.chain.then(async () => {
        await this.producer.sendBatch({
          topicMessages: [{ topic: this.topic, messages }],
          acks: -1,
          compression: compressionOf(this.cfg),
        });
        this.inFlight -= count;
        recordsOut.inc({ stage: this.stage }, count);
      }).catch((e: Error) => {
        this.failure = e;
        this.log.error({ err: e }, 'producing flows failed');
        throw e;
      });
    }
    return this.chain;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.producer.disconnect();
  }
}
