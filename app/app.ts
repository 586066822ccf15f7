/**
 * The composition root: which stages a process runs for its roles, in which order, wired to what. Stages
 * start in the order below and stop in reverse, so sources stop before the producers flush, and the
 * producers before the writer and the broker go: the bundled broker (when KAFKA_BROKERS is unset), Kafka
 * (topics, dead-letter producer), ClickHouse (only where a role needs it), the writer, the allocation sources,
 * enrichment, the collectors' producers and sources, and HTTP last, so /healthz answers for every stage.
 */
import * as path from 'node:path';
import type { Store } from '../core/clickhouse';
import { ClickHouseStage } from '../core/clickhouse-stage';
import { KafkaContext, kafkaContext } from '../core/kafka';
import { KafkaStage } from '../core/kafka-stage';
import { KafkaPublisher } from '../core/kafka-publisher';
import type { Alert } from '../core/records';
import type { Logger } from '../core/log';
import { ManagedKafka } from '../core/managed-kafka';
import { StageRunner } from '../core/stage';
import { COUNTERS, FLOWS, StoredStream } from '../core/streams';
import { AllocationSources } from '../allocations/sources';
import { ALLOCATIONS } from '../allocations/stream';
import { alertmanagerToken, tokensFile } from '../api/config';
import { HttpStage } from '../api/server';
import { AlertPublisher } from '../alerts/publisher';
import { ALERTS, encodeAlert } from '../alerts/stream';
import { WebhookDispatcher } from '../alerts/webhooks/dispatcher';
import { streamingDetectors, windowedDetectors } from '../detectors/registry';
import { StreamingDetectors } from '../detectors/stream';
import { WindowedDetectors } from '../detectors/windowed';
import { EnrichmentStage } from '../enrich/stage';
import { InventoryStage } from '../inventory/stage';
import { HubbleRelay } from '../ingest/hubble/relay';
import { FlowListeners, Listener } from '../ingest/listeners';
import { lineHandler, LogFollowers } from '../ingest/logs/collector';
import { PositionStore } from '../ingest/logs/positions';
import { TopicLineSource } from '../ingest/logs/topic';
import { FlowProducers } from '../ingest/producers';
import { Writer } from '../writer/writer';
import type { Config } from './config';
import type { Role } from './roles';

/** Every stream the writer stores. */
export const STORED_STREAMS: StoredStream[] = [FLOWS, COUNTERS, ALLOCATIONS, ALERTS];

export interface App {
  kafka: KafkaContext;
  runner: StageRunner;
  /** Open when a role of the process needs ClickHouse. */
  store?: Store;
  /** The enrichment of a collectors process. */
  enrichment?: EnrichmentStage;
  /** The detectors of a detectors process, and where their alerts go. */
  detectors?: StreamingDetectors;
  windowed?: WindowedDetectors;
  alerts?: AlertPublisher;
  listeners: readonly Listener[];
  httpPort?: number;
  /** Stops every stage in reverse order, draining what each holds. */
  stop(): Promise<void>;
}

/**
 * Starts the stages of `roles`; a stage that fails to start stops the ones before it and the error is thrown.
 * `onFatal` runs after a stage failed fatally and every stage stopped: the process should exit non-zero.
 */
export async function startApp(cfg: Config, log: Logger, roles: readonly Role[], onFatal: (stage: string, error: Error) => void): Promise<App> {
  const runner = new StageRunner(log, onFatal);
  const kafka = kafkaContext(cfg.kafka, log);
  const has = (role: Role) => roles.includes(role);
  const app: App = { kafka, runner, listeners: [], stop: () => runner.stop() };

  /** The writer's store, else a server's opened for this process; embedded chDB allows one process per data directory (the writer's). */
  const sharedStore = async (): Promise<Store | undefined> => {
    if (!app.store && cfg.clickhouse.url) app.store = (await runner.start(new ClickHouseStage(cfg.clickhouse, cfg.home, log))).store;
    return app.store;
  };

  if (cfg.kafka.brokers.length === 0) await runner.start(new ManagedKafka(cfg.kafka, cfg.home, log));
  const { deadLetter } = await runner.start(new KafkaStage(kafka, log));

  if (has('writer')) {
    const { store } = await runner.start(new ClickHouseStage(cfg.clickhouse, cfg.home, log));
    app.store = store;
    await runner.start(new Writer(cfg.writer, { kafka, store, streams: STORED_STREAMS, deadLetter, log: log.child({ stage: 'writer' }) }));
  }

  if (has('allocations')) await runner.start(new AllocationSources(cfg.allocations, kafka, log.child({ stage: 'allocations' })));

  if (has('detectors')) {
    const detectorLog = log.child({ stage: 'detectors' });
    const d = cfg.detectors;
    const flowsTable = `\`${cfg.clickhouse.database}\`.\`flows\``;
    const sink = await runner.start(new AlertPublisher({ quietMs: d.quietMs, updateMs: 5000, flowsTable }, kafka, log.child({ stage: 'alerts' })));
    app.alerts = sink;
    const inventory = (await runner.start(new InventoryStage(cfg.inventory, detectorLog))).current;
    app.detectors = await runner.start(new StreamingDetectors(d, { kafka, inventory, detectors: streamingDetectors(d), sink, log: detectorLog }));
    const windowed = windowedDetectors(d);
    if (windowed.length > 0) {
      const store = await sharedStore();
      if (store) app.windowed = await runner.start(new WindowedDetectors(d.windowedIntervalMs, { store, inventory, detectors: windowed, sink, log: detectorLog }));
      else detectorLog.warn({ detectors: windowed.map((w) => w.name) }, 'windowed detectors need ClickHouse: with embedded chDB run the detectors role in the writer\'s process');
    }
  }

  if (has('collectors')) {
    const enrichment = await runner.start(new EnrichmentStage(cfg.inventory, kafka, log.child({ stage: 'enrich' })));
    app.enrichment = enrichment;
    const collectorLog = log.child({ stage: 'collector' });
    const enrich = enrichment.enricher.enrich.bind(enrichment.enricher);
    const producers = await runner.start(new FlowProducers(cfg.collectors, { kafka, log: collectorLog, enrich }));
    app.listeners = (await runner.start(new FlowListeners(cfg.collectors, { sinks: producers, deadLetter, log: collectorLog }))).listeners;
    const lines = { proxyAddress: cfg.logs.proxyAddress, flow: producers.flow, deadLetter, log: collectorLog };
    if (LogFollowers.configured(cfg.logs)) {
      await runner.start(new LogFollowers(cfg.logs, {
        ...lines, positions: new PositionStore(path.join(cfg.home, 'state')), durable: () => producers.durable(), room: producers,
      }));
    }
    const { relay } = cfg.hubble;
    if (relay) await runner.start(new HubbleRelay({ ...cfg.hubble, relay }, lineHandler('hubble', `relay/${relay}`, lines), collectorLog));
    const h = cfg.hubble;
    if (h.topics.length > 0) {
      await runner.start(new TopicLineSource(kafka, {
        format: 'hubble', topics: h.topics, groupId: h.group, transactionalId: h.transactionalId, proxyAddress: cfg.logs.proxyAddress, deadLetter, enrich,
      }, collectorLog));
    }
  }

  if (has('http')) {
    // What the routes publish: alerts from Alertmanager, analysts' suppressions.
    const publisher = await runner.start(new KafkaPublisher(kafka));
    const publish = publisher.publish.bind(publisher);
    const token = alertmanagerToken(cfg.http);
    const alertmanager = token === undefined ? undefined : {
      token, publish: (alerts: Alert[]) => publish('alerts', alerts.map((a) => ({ key: a.fingerprint, value: encodeAlert(a) }))),
    };
    const store = await sharedStore();
    if (!store) log.warn('the API needs ClickHouse: with embedded chDB run the http role in the writer\'s process; serving health and metrics only');
    if (store) await runner.start(new WebhookDispatcher(cfg.webhooks, { kafka, store, log: log.child({ stage: 'webhooks' }) }));
    const api = store ? {
      store, tokensFile: tokensFile(cfg.http, cfg.home), publish, rotationOverlapMs: cfg.webhooks.rotationOverlapMs, ...(cfg.inventory.file ? { inventoryFile: cfg.inventory.file } : {}),
    } : undefined;
    app.httpPort = (await runner.start(new HttpStage(cfg.http, { log, health: () => runner.health(), ...(alertmanager ? { alertmanager } : {}), ...(api ? { api } : {}) }))).port;
  }
  return app;
}
