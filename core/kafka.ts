/**
 * Kafka plumbing shared by every stage: the client (TLS/SASL from config), the LZ4 codec, topic layout.
 */
import { readFileSync } from 'node:fs';
import { CompressionCodecs, CompressionTypes, type Consumer, type ConsumerRunConfig, Kafka, KafkaConfig as KafkaJsConfig, logLevel, SASLOptions } from 'kafkajs';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import type { KafkaConfig } from './config';
import type { Logger } from './log';
import { topicNames, Topics } from './topics';

/**
 * kafkajs ships gzip only. LZ4 (frame format, which Kafka's v2 record batches use) comes from lz4-napi, a
 * prebuilt Rust binding; kafkajs-lz4 needs a node-gyp build of an unmaintained native module.
 */
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => compressFrameSync(encoder.buffer),
  decompress: async (buffer: Buffer) => decompressFrameSync(buffer),
});

export const compressionOf = (cfg: KafkaConfig): CompressionTypes =>
  ({ lz4: CompressionTypes.LZ4, gzip: CompressionTypes.GZIP, none: CompressionTypes.None })[cfg.compression];

export function brokersOf(cfg: KafkaConfig): string[] {
  return cfg.brokers.length > 0 ? cfg.brokers : [`127.0.0.1:${cfg.managedPort}`];
}

/** What every stage that talks to Kafka shares: the client, the Kafka section of the config, the topic names. */
export interface KafkaContext {
  client: Kafka;
  cfg: KafkaConfig;
  topics: Topics;
}

export function kafkaContext(cfg: KafkaConfig, log: Logger, clientId = cfg.clientId): KafkaContext {
  return { client: createKafka(cfg, log, clientId), cfg, topics: topicNames(cfg.topicPrefix) };
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * kafkajs logs every connection attempt: while a broker is down that is several lines a second from every
 * client. The same message is logged at most once per window, with how often it was held back since.
 */
export class RepeatFilter {
  private readonly seen = new Map<string, { at: number; held: number }>();

  constructor(private readonly windowMs: number, private readonly maxKeys = 1000) {}

  /** undefined: hold this one back; otherwise log it, noting the repeats held back since the last one. */
  admit(key: string, now: number): number | undefined {
    const s = this.seen.get(key);
    if (s && now - s.at < this.windowMs) {
      s.held++;
      return undefined;
    }
    if (!s && this.seen.size >= this.maxKeys) this.seen.clear();
    this.seen.set(key, { at: now, held: 0 });
    return s?.held ?? 0;
  }
}

export function createKafka(k: KafkaConfig, log: Logger, clientId = k.clientId): Kafka {
  const conf: KafkaJsConfig = {
    clientId,
    brokers: brokersOf(k),
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 10 },
    logLevel: logLevel.WARN,
    logCreator: () => {
      const quiet = new RepeatFilter(10_000);
      return ({ namespace, level, log: entry }) => {
        const { message, ...extra } = entry;
        // Our producers keep kafkajs' retries short on purpose (RecordProducer retries the outage itself).
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        const repeats = quiet.admit(`${namespace}\0${message}`, Date.now());
        if (repeats !== undefined) log[levels[level] ?? 'info']({ kafka: namespace, ...extra, ...(repeats ? { repeated: repeats } : {}) }, message);
      };
    },
  };
  if (k.ssl) {
    conf.ssl = {
      ...(k.sslCaFile ? { ca: [readFileSync(k.sslCaFile, 'utf8')] } : {}),
      ...(k.sslCertFile ? { cert: readFileSync(k.sslCertFile, 'utf8') } : {}),
      ...(k.sslKeyFile ? { key: readFileSync(k.sslKeyFile, 'utf8') } : {}),
    };
  }
  if (k.saslMechanism && k.saslUsername !== undefined && k.saslPassword !== undefined) {
    conf.sasl = { mechanism: k.saslMechanism, username: k.saslUsername, password: k.saslPassword } as SASLOptions;
  }
  return new Kafka(conf);
}

/**
 * Topic layout. flows: partitioned by source address (see RecordProducer), the unit of scale-out for the writer
 * and the streaming detectors. counters: interface counters, partitioned by exporter. dead-letter: few partitions, bad input is rare by construction. alerts: keyed
 * by the source at fault so one node's alerts stay ordered. allocations: one partition, compacted by job; suppressions likewise, by id.
 */
export async function ensureTopics({ client, cfg, topics: t }: KafkaContext, log: Logger): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const rf = cfg.replicationFactor;
    const wanted = [
      { topic: t.flows, numPartitions: cfg.partitions, replicationFactor: rf, configEntries: [{ name: 'retention.ms', value: String(24 * 3600e3) }] },
      { topic: t.counters, numPartitions: 3, replicationFactor: rf, configEntries: [{ name: 'retention.ms', value: String(24 * 3600e3) }] },
      { topic: t.deadLetter, numPartitions: 3, replicationFactor: rf, configEntries: [{ name: 'retention.ms', value: String(7 * 24 * 3600e3) }] },
      // Allocation events keyed by job: compaction keeps each job's latest statement, which is what the
      // enrichment timeline is rebuilt from at start.
      { topic: t.allocations, numPartitions: 1, replicationFactor: rf, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      // Suppressions keyed by id: every suppression's latest version, read whole by each detectors process.
      { topic: t.suppressions, numPartitions: 1, replicationFactor: rf, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: t.alerts, numPartitions: 3, replicationFactor: rf, configEntries: [{ name: 'retention.ms', value: String(30 * 24 * 3600e3) }] },
    ].filter((w) => !existing.has(w.topic));
    if (wanted.length > 0) {
      await admin.createTopics({ topics: wanted, waitForLeaders: false });
      // kafkajs' own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a broker may answer right after
      // the creation: wait here until metadata shows every partition with a leader.
      const names = wanted.map((w) => w.topic);
      for (let attempt = 0; ; attempt++) {
        const meta = await admin.fetchTopicMetadata({ topics: names }).catch(() => undefined);
        if (meta?.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break;
        if (attempt >= 100) throw new Error(`topics ${names.join(', ')} have no leaders after creation`);
        await new Promise((r) => setTimeout(r, 100));
      }
      log.info({ topics: names }, 'created topics');
    }
  } finally {
    await admin.disconnect();
  }
}

/** Messages in a topic and how many of them a consumer group has committed, summed over partitions. */
export async function groupProgress(kafka: Kafka, topic: string, groupId: string): Promise<{ end: number; committed: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return {
      end: ends.reduce((s, p) => s + Number(p.high), 0),
      committed: (committed?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0),
    };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Connects a stage's consumer group member, subscribes it to `topics` from the beginning and runs it. kafkajs
 * restarts a consumer after retriable errors (a broker outage): logged. Any other crash leaves the consumer dead
 * for good: `fatal` hears of it, so the stage stops the process rather than run blind.
 */
export async function runConsumer(consumer: Consumer, topics: string[], what: string, log: Logger, fatal: (e: Error) => void, run: ConsumerRunConfig): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) log.warn({ err: payload.error }, `${what} consumer crashed; kafkajs restarts it`);
    else fatal(payload.error);
  });
  await consumer.run(run);
}

/** Runs `f`, again while it fails with a retriable Kafka error (a broker still loading, a topic just made). */
export async function retrying<T>(f: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Resolves once the group has committed everything the topic held when called. */
export async function waitCaughtUp(kafka: Kafka, topic: string, groupId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let target = -1;
  for (;;) {
    try {
      const p = await groupProgress(kafka, topic, groupId);
      if (target < 0) target = p.end;
      if (p.committed >= target) return;
    } catch (e) {
      if (!(e as { retriable?: boolean }).retriable) throw e; // the coordinator is loading or moving
    }
    if (Date.now() > deadline) throw new Error(`consumer group ${groupId} did not catch up on ${topic} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
