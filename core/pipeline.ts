/**
 * Assembles the stages of one eastwatch process: the bundled broker when no Kafka is configured, topics,
 * migrations, the flow collectors, the writer, the HTTP server. `stop()` drains in reverse order: close the
 * listeners, flush what the collectors produced, stop fetching, finish the insert and commit in flight, close
 * ClickHouse, stop the broker.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Kafka, Producer } from 'kafkajs';
import { startHttp } from '../api/server';
import type { Listener } from '../ingest/listeners';
import { startCollectors } from '../ingest/start';
import { Writer } from '../writer/writer';
import { openStore, Store } from './clickhouse';
import { Config, topics } from './config';
import { DeadLetter } from './dead-letter';
import { createKafka, ensureTopics } from './kafka';
import type { Logger } from './log';
import { ManagedKafka, startManagedKafka } from './managed-kafka';
import { migrate } from './migrations';

export const ROLES = ['collectors', 'writer', 'http'] as const;

export type Role = (typeof ROLES)[number];

export interface Pipeline {
  cfg: Config;
  kafka: Kafka;
  /** Open when the process runs the writer. */
  store?: Store;
  writer?: Writer;
  listeners: Listener[];
  http?: FastifyInstance;
  httpPort?: number;
  stop(): Promise<void>;
}

export async function startPipeline(cfg: Config, log: Logger, roles: readonly Role[] = ROLES): Promise<Pipeline> {
  const closers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const close of closers.reverse().splice(0)) {
      try {
        await close();
      } catch (e) {
        log.error({ err: e }, 'error during shutdown');
      }
    }
  };
  try {
    let managed: ManagedKafka | undefined;
    if (cfg.kafka.brokers.length === 0) {
      managed = await startManagedKafka(cfg, log);
      closers.push(() => managed!.stop());
    }
    const kafka = createKafka(cfg, log);
    await ensureTopics(kafka, cfg, log);

    // Only the writer needs ClickHouse: a collector-only process (on an edge node, or beside a writer that owns
    // the embedded chDB directory) never opens it.
    let store: Store | undefined;
    if (roles.includes('writer')) {
      const opened = openStore(cfg);
      store = opened;
      closers.push(() => opened.close());
      const report = await migrate(opened, cfg, log);
      log.info({ ...report, embedded: opened.embedded }, 'ClickHouse schema up to date');
    }

    const dlqProducer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await dlqProducer.connect();
    closers.push(() => dlqProducer.disconnect());
    const deadLetter = new DeadLetter(dlqProducer, topics(cfg).deadLetter, log);

    const pipeline: Pipeline = { cfg, kafka, store, stop, listeners: [] };
    if (store) {
      const writer = new Writer(kafka, store, cfg, log.child({ stage: 'writer' }), deadLetter);
      await writer.start();
      closers.push(() => writer.stop());
      pipeline.writer = writer;
    }
    // Started after the writer, so they stop first: listeners close, producers flush, then the writer stops.
    if (roles.includes('collectors')) {
      const collectors = await startCollectors(kafka, cfg, log, deadLetter);
      closers.push(...collectors.closers);
      pipeline.listeners = collectors.listeners;
    }
    if (roles.includes('http')) {
      const http = await startHttp(cfg, log, {
        ...(store ? {
          clickhouse: async () => {
            const r = await store.client.ping();
            if (!r.success) throw r.error;
          },
        } : {}),
        ...(pipeline.writer ? { writer: () => { if (!pipeline.writer!.isRunning) throw new Error('writer is not consuming'); } } : {}),
      });
      closers.push(() => http.close());
      pipeline.http = http;
      pipeline.httpPort = (http.server.address() as AddressInfo).port;
    }
    return pipeline;
  } catch (e) {
    await stop();
    throw e;
  }
}
