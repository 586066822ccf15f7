/**
 * Produces records of one stream (core/streams.ts) to its topic. Records are partitioned by a hash of the
 * stream's partition key (flows: the source address, so per-source detector state stays in one partition),
 * and up to kafka.flowsPerMessage records of one partition share a message: Kafka's per-record overhead is
 * paid once per batch. The producer is idempotent with acks=all, batched (linger) and compressed.
 *
 * Kafka outages: a send that fails is retried, with the same messages, until Kafka takes it, however long the
 * outage; meanwhile new records queue up to `maxBacklog`, and records beyond it are dropped and counted
 * (eastwatch_records_dropped_total{reason="kafka-backlog-full"}) rather than growing memory without bound;
 * sources that can wait (followed files) pause on hasRoom()/room() instead.
 * health() reports the outage. Each partition is sent on its own: kafkajs keeps a partition's sequence number
 * unchanged when a send fails, so re-sending exactly the failed messages lets the idempotent broker drop what
 * it had already written; a send that spans several brokers could partly succeed and then be repeated.
 *
 * An idempotent kafkajs producer has one request in flight per broker connection, so one producer delivers
 * one send per round trip however many partitions wait; each partition is therefore sent by one of up to
 * PRODUCERS producers (always the same one: its sequence numbers stay in order), which overlaps their round trips.
 */
import type { Message, Producer } from 'kafkajs';
import { compressionOf, KafkaContext } from './kafka';
import type { Logger } from './log';
import { recordsDropped, recordsOut } from './metrics';
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
  const messages = buckets.flatMap((bucket, partition) => encode(stream, bucket, partition, perMessage));
  return { messages, count };
}

function encode<T>(stream: RecordStream<T>, records: T[], partition: number, perMessage: number): Message[] {
  const messages: Message[] = [];
  for (let i = 0; i < records.length; i += perMessage) {
    messages.push({ partition, value: stream.codec.encode(records.slice(i, i + perMessage)) });
  }
  return messages;
}

/** Partitions of a topic, from the cluster's metadata. */
export async function partitionCount({ client }: KafkaContext, topic: string): Promise<number> {
  const admin = client.admin();
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

export interface RecordProducerOptions {
  /** The `stage` label of the producer's metrics. */
  stage: string;
  /** Records held (queued and in flight) before new ones are dropped; unbounded by default, for callers that flush themselves. */
  maxBacklog?: number;
  /** How long stop() keeps trying to deliver to an unreachable Kafka before it gives the rest up (counted). */
  stopTimeoutMs?: number;
}

/** Errors after which re-sending the same batch can never succeed: the batch is dropped, counted. */
const BATCH_REJECTED = new Set(['MESSAGE_TOO_LARGE', 'CORRUPT_MESSAGE', 'INVALID_RECORD', 'RECORD_LIST_TOO_LARGE', 'INVALID_REQUIRED_ACKS']);

/** Messages of one send: a few per partition, so a send stays well below the broker's request limits. */
const MESSAGES_PER_SEND = 8;

/** Producers (connections) per stream and process, at most one per partition. */
const PRODUCERS = 4;

interface PartitionQueue<T> {
  index: number;
  producer: Producer;
  records: T[];
  sending: boolean;
  /** Records pushed to this partition so far, and how many of them are settled (acknowledged or given up). */
  pushed: number;
  settled: number;
}

export class RecordProducer<T> {
  private producers: Producer[] = [];
  private readonly topic: string;
  private readonly maxBacklog: number;
  private queues: PartitionQueue<T>[] = [];
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiters: { targets: number[]; givenUp: number; resolve(): void; reject(e: Error): void }[] = [];
  private roomWaiters: (() => void)[] = [];
  private givenUp = 0;
  private outage: { since: number; error: Error } | undefined;
  private stopDeadline = Infinity;

  constructor(
    private readonly kafka: KafkaContext,
    private readonly stream: RecordStream<T>,
    private readonly log: Logger,
    private readonly opts: RecordProducerOptions,
  ) {
    this.topic = kafka.topics[stream.topic];
    this.maxBacklog = opts.maxBacklog ?? Infinity;
  }

  async connect(): Promise<void> {
    const n = await partitionCount(this.kafka, this.topic);
    // kafkajs' own retries stay short: the outage is handled here, where it is visible (health, logs, metrics).
    this.producers = Array.from({ length: Math.min(n, PRODUCERS) }, () => this.kafka.client.producer({
      idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { initialRetryTime: 200, retries: 3, maxRetryTime: 2000 },
    }));
    await Promise.all(this.producers.map((p) => p.connect()));
    this.queues = Array.from({ length: n }, (_, index) => ({ index, producer: this.producers[index % this.producers.length]!, records: [], sending: false, pushed: 0, settled: 0 }));
    // At 0 from the start: "no records dropped" reads as a series at 0, and a rate over it works from the first drop.
    recordsDropped.inc({ stage: this.opts.stage, reason: 'kafka-backlog-full' }, 0);
  }

  /** Records held: queued or sent and not yet acknowledged by Kafka. */
  get buffered(): number {
    return this.held;
  }

  /**
   * Queues a record; it is sent within kafka.lingerMs or as soon as a full send is ready. Returns false when
   * the backlog is full and the record was dropped (counted).
   */
  push(record: T): boolean {
    if (this.held >= this.maxBacklog) {
      recordsDropped.inc({ stage: this.opts.stage, reason: 'kafka-backlog-full' });
      return false;
    }
    const q = this.queues[partitionOf(this.stream.partitionKey(record), this.queues.length)]!;
    q.records.push(record);
    q.pushed++;
    this.held++;
    if (q.records.length >= this.kafka.cfg.flowsPerMessage * MESSAGES_PER_SEND) void this.pump(q);
    else this.timer ??= setTimeout(() => this.pumpAll(), this.kafka.cfg.lingerMs);
    return true;
  }

  /** Whether push() would take a record now rather than drop it. */
  hasRoom(): boolean {
    return this.held < this.maxBacklog;
  }

  /**
   * Resolves once the backlog has room (at once when it has): sources that can wait, such as followed files,
   * pause instead of pushing records that would be dropped. Another source may fill the room first: check
   * hasRoom() again.
   */
  room(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Sends everything queued; resolves once Kafka acknowledged every record pushed before the call, rejects
   * if some of them were given up (stop() while Kafka stayed unreachable).
   */
  flush(): Promise<void> {
    const targets = this.queues.map((q) => q.pushed);
    const givenUp = this.givenUp;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ targets, givenUp, resolve, reject }));
    this.pumpAll();
    this.settle();
    return done;
  }

  /** Throws while Kafka does not take this producer's records. */
  health(): void {
    if (!this.outage) return;
    const secs = Math.round((Date.now() - this.outage.since) / 1000);
    throw new Error(`producing to ${this.topic} fails for ${secs} s (${this.outage.error.message}); holding ${this.held} records`);
  }

  /** Delivers what is held (giving up after stopTimeoutMs if Kafka stays unreachable, counted) and disconnects. */
  async close(): Promise<void> {
    this.stopDeadline = Date.now() + (this.opts.stopTimeoutMs ?? 15_000);
    await this.flush().catch((e: Error) => this.log.error({ err: e, topic: this.topic }, 'records given up at shutdown'));
    await Promise.all(this.producers.map((p) => p.disconnect()));
  }

  private pumpAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const q of this.queues) if (q.records.length > 0) void this.pump(q);
  }

  /** One sender per partition: sends in order, each send retried until Kafka takes it. */
  private async pump(q: PartitionQueue<T>): Promise<void> {
    if (q.sending) return;
    q.sending = true;
    const perSend = this.kafka.cfg.flowsPerMessage * MESSAGES_PER_SEND;
    while (q.records.length > 0) {
      const records = q.records.splice(0, perSend);
      let messages: Message[] | undefined;
      try {
        messages = encode(this.stream, records, q.index, this.kafka.cfg.flowsPerMessage);
      } catch (e) {
        this.giveUp(records.length, 'unencodable', e as Error); // a record the wire schema refuses: a bug upstream
      }
      if (messages) await this.deliver(q.producer, messages, records.length);
      this.held -= records.length;
      q.settled += records.length;
      this.settle();
    }
    q.sending = false;
  }

  private async deliver(producer: Producer, messages: Message[], count: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await producer.sendBatch({ topicMessages: [{ topic: this.topic, messages }], acks: -1, compression: compressionOf(this.kafka.cfg) });
        recordsOut.inc({ stage: this.opts.stage }, count);
        if (this.outage) {
          this.log.info({ topic: this.topic, seconds: Math.round((Date.now() - this.outage.since) / 1000) }, 'Kafka takes records again');
          this.outage = undefined;
        }
        return;
      } catch (e) {
        const error = e as Error & { type?: string; cause?: { type?: string } };
        const rejected = BATCH_REJECTED.has(error.type ?? error.cause?.type ?? '');
        if (rejected || Date.now() >= this.stopDeadline) {
          this.giveUp(count, rejected ? 'kafka-rejected' : 'kafka-unreachable-at-stop', error);
          return;
        }
        if (!this.outage) {
          this.outage = { since: Date.now(), error };
          this.log.error({ err: error, topic: this.topic }, 'producing to Kafka fails; holding records and retrying until it is back');
        } else this.outage.error = error;
        await new Promise((r) => setTimeout(r, Math.min(Math.max(0, this.stopDeadline - Date.now()), Math.min(5000, 250 * 2 ** attempt))));
      }
    }
  }

  private giveUp(count: number, reason: string, error: Error): void {
    recordsDropped.inc({ stage: this.opts.stage, reason }, count);
    this.givenUp += count;
    this.log.error({ err: error, topic: this.topic, records: count, reason }, 'records given up');
  }

  private settle(): void {
    if (this.roomWaiters.length > 0 && this.hasRoom()) {
      for (const resolve of this.roomWaiters.splice(0)) resolve();
    }
    this.waiters = this.waiters.filter((w) => {
      if (!w.targets.every((t, i) => this.queues[i]!.settled >= t)) return true;
      if (this.givenUp > w.givenUp) w.reject(new Error(`${this.givenUp - w.givenUp} records could not be delivered to ${this.topic}`));
      else w.resolve();
      return false;
    });
  }
}
