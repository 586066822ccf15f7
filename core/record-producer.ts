/**
 * Produces records of one stream (core/streams.ts) to its topic. Records are partitioned by a hash of the
 * stream's partition key (flows: the source address, so per-source detector state stays in one partition),
 * and up to kafka.flowsPerMessage records of one partition share a message: Kafka's per-record overhead is
 * paid once per batch. The producer is idempotent with acks=all, batched (linger) and compressed.
 */
import { Kafka, Message, Producer } from 'kafkajs';
import type { Config } from './config';
import { compressionOf } from './kafka';
import type { Logger } from './log';
import { recordsOut } from './metrics';
import type { RecordStream } from './streams';

/** FNV-1a over the key text: stable across processes and releases, which partition placement needs. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/**
 * Records as Kafka messages: grouped by partition, up to `perMessage` records of one partition per message.
 * Shared by the buffering producer and the transactional topic sources.
 */
export function toMessages<T>(stream: RecordStream<T>, records: Iterable<T>, partitions: number, perMessage: number): { messages: Message[]; count: number } {
  const buckets: T[][] = Array.from({ length: partitions }, () => []);
  let count = 0;
  for (const r of records) {
    buckets[partitionOf(stream.partitionKey(r), partitions)]!.push(r);
    count++;
  }
  return { messages: bucketsToMessages(stream, buckets, perMessage), count };
}

function bucketsToMessages<T>(stream: RecordStream<T>, buckets: T[][], perMessage: number): Message[] {
  const messages: Message[] = [];
  buckets.forEach((bucket, partition) => {
    for (let i = 0; i < bucket.length; i += perMessage) {
      messages.push({ partition, value: stream.codec.encode(bucket.slice(i, i + perMessage)) });
    }
  });
  return messages;
}

/** Partitions of a topic, from the cluster's metadata. */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const n = meta.topics[0]?.partitions.length ?? 0;
    if (n < 1) throw new Error(`topic ${topic} has no partitions`);
    return n;
  } finally {
    await admin.disconnect();
  }
}

export class RecordProducer<T> {
  private readonly producer: Producer;
  private readonly topic: string;
  private partitions = 0;
  private buckets: T[][] = [];
  /** Records in buckets, not yet handed to a send. */
  private queued = 0;
  /** Records handed to a send and not yet acknowledged. */
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(
    kafka: Kafka,
    private readonly cfg: Config,
    private readonly log: Logger,
    private readonly stream: RecordStream<T>,
    private readonly stage = 'ingest',
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.topic = stream.topic(cfg);
  }

  async connect(kafka: Kafka): Promise<void> {
    await this.producer.connect();
    this.partitions = await partitionCount(kafka, this.topic);
    this.buckets = Array.from({ length: this.partitions }, () => []);
  }

  /** Records buffered and not yet acknowledged by Kafka. */
  get buffered(): number {
    return this.queued + this.inFlight;
  }

  /** Buffers a record; it is sent within kafka.lingerMs or as soon as a full message batch is ready. */
  push(record: T): void {
    if (this.failure) throw this.failure;
    this.buckets[partitionOf(this.stream.partitionKey(record), this.partitions)]!.push(record);
    this.queued++;
    if (this.queued >= this.cfg.kafka.flowsPerMessage * this.partitions * 4) this.flushInBackground();
    else this.timer ??= setTimeout(() => this.flushInBackground(), this.cfg.kafka.lingerMs);
  }

  /** A failure is kept and thrown by the next push() or flush(), so the caller learns of it. */
  private flushInBackground(): void {
    this.flush().catch(() => undefined);
  }

  /** Sends every buffered record; resolves once Kafka acknowledged them (acks=all). */
  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const messages = bucketsToMessages(this.stream, this.buckets, this.cfg.kafka.flowsPerMessage);
    const count = this.queued;
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
        this.log.error({ err: e, topic: this.topic }, 'producing records failed');
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
