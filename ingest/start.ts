/**
 * The collectors of one process: UDP/TCP flow listeners, followed log files, Hubble Relay and Hubble topics,
 * the allocation pollers, and the enrichment every flow passes on its way to Kafka. Returns closers in start
 * order (the caller runs them in reverse: sources stop, then the producers flush).
 */
import * as path from 'node:path';
import type { Kafka } from 'kafkajs';
import { startAllocationSources } from '../allocations/sources';
import type { Config } from '../core/config';
import type { DeadLetter } from '../core/dead-letter';
import type { Flow } from '../core/flow';
import type { Logger } from '../core/log';
import { recordsFailed } from '../core/metrics';
import { RecordProducer } from '../core/record-producer';
import type { InterfaceCounter } from '../core/records';
import { COUNTERS, FLOWS } from '../core/streams';
import { startEnrichment } from '../enrich/stage';
import { Collector } from './collector';
import { followRelay } from './hubble/relay';
import { ExporterStates, DEFAULT_LIMITS } from './ipfix/state';
import { Listener, startListeners } from './listeners';
import { followLogs, lineHandler, LOG_FORMATS } from './logs/collector';
import { PositionStore } from './logs/positions';
import { TopicLineSource } from './logs/topic';

/** Records a collector may hold for Kafka before it drops new ones (counted): memory stays bounded if Kafka is down. */
const MAX_PRODUCER_BACKLOG = 500_000;

export interface Collectors {
  listeners: Listener[];
  closers: (() => Promise<void>)[];
}

export async function startCollectors(kafka: Kafka, cfg: Config, log: Logger, deadLetter: DeadLetter): Promise<Collectors> {
  const closers: (() => Promise<void>)[] = [];
  try {
    return await start(kafka, cfg, log, deadLetter, closers);
  } catch (e) {
    // What started before the failure stops again, in reverse.
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw e;
  }
}

async function start(kafka: Kafka, cfg: Config, log: Logger, deadLetter: DeadLetter, closers: (() => Promise<void>)[]): Promise<Collectors> {
  const flows = new RecordProducer<Flow>(kafka, cfg, log, FLOWS, 'collector');
  const counters = new RecordProducer<InterfaceCounter>(kafka, cfg, log, COUNTERS, 'collector');
  await flows.connect(kafka);
  await counters.connect(kafka);
  closers.push(() => flows.close(), () => counters.close());
  const bounded = <T>(p: RecordProducer<T>) => (record: T) => {
    if (p.buffered < MAX_PRODUCER_BACKLOG) p.push(record);
    else recordsFailed.inc({ stage: 'collector', source: 'kafka', reason: 'kafka-backlog-full' });
  };
  const enrichment = await startEnrichment(kafka, cfg, log.child({ stage: 'enrich' }));
  closers.push(() => enrichment.stop());
  closers.push(await startAllocationSources(kafka, cfg, log.child({ stage: 'allocations' })));
  const { enricher } = enrichment;
  const toFlows = bounded(flows);
  const flowSink = (f: Flow) => toFlows(enricher.enrich(f));
  const states = new ExporterStates({ ...DEFAULT_LIMITS, templateTimeoutMs: cfg.collectors.templateTimeoutSec * 1000 });
  const collector = new Collector({
    states,
    enterpriseNames: new Map(Object.entries(cfg.collectors.enterpriseNames)),
    sinks: { flow: flowSink, counter: bounded(counters) },
    deadLetter,
    log: log.child({ stage: 'collector' }),
  });
  const listeners = await startListeners(cfg, collector, log.child({ stage: 'collector' }));
  closers.push(async () => { await Promise.all(listeners.map((l) => l.close())); });
  const followers = followLogs(
    LOG_FORMATS.flatMap((format) => cfg.logs[format].map((path) => ({ format, path }))),
    {
      proxyAddress: cfg.logs.proxyAddress, flow: flowSink, deadLetter, log: log.child({ stage: 'collector' }),
      positions: new PositionStore(path.join(cfg.home, 'state')), durable: () => flows.flush(),
    },
  );
  closers.push(() => followers.stop());
  if (cfg.hubble.relay) {
    const h = cfg.hubble;
    const relayFlow = lineHandler('hubble', `relay/${h.relay}`, { proxyAddress: cfg.logs.proxyAddress, flow: flowSink, deadLetter, log });
    const relay = followRelay({
      address: h.relay!, tls: h.relayTls, backoff: { initialMs: 500, maxMs: 30_000 }, resumeOverlapMs: h.relayOverlapMs,
      ...(h.relayCaFile ? { caFile: h.relayCaFile } : {}), ...(h.relayCertFile ? { certFile: h.relayCertFile } : {}),
      ...(h.relayKeyFile ? { keyFile: h.relayKeyFile } : {}), ...(h.relayServerName ? { serverName: h.relayServerName } : {}),
    }, (json) => relayFlow(json as object), log.child({ stage: 'collector' }));
    closers.push(() => relay.stop());
  }
  if (cfg.hubble.topics.length > 0) {
    const source = new TopicLineSource(kafka, cfg, {
      format: 'hubble', topics: cfg.hubble.topics, groupId: cfg.hubble.group, transactionalId: cfg.hubble.transactionalId, deadLetter, enrich: (f) => enricher.enrich(f),
    }, log.child({ stage: 'collector' }));
    await source.start();
    closers.push(() => source.stop());
  }
  return { listeners, closers };
}
