/**
 * `eastwatch ingest --format hubble|squid|envoy`: lines on stdin (`hubble observe -o json --follow | eastwatch
 * ingest --format hubble`, a log replay) through the same parsers and enrichment into the flows topic. Resolves once every
 * flow is acknowledged by Kafka; the summary goes to stderr.
 */
import { createInterface } from 'node:readline';
import type { Config } from '../app/config';
import type { Flow } from '../core/flow';
import { kafkaContext } from '../core/kafka';
import { KafkaStage } from '../core/kafka-stage';
import type { Logger } from '../core/log';
import { recordsFailed, recordsIn } from '../core/metrics';
import { RecordProducer } from '../core/record-producer';
import { StageRunner } from '../core/stage';
import { FLOWS } from '../core/streams';
import { EnrichmentStage } from '../enrich/stage';
import { LogFormat, lineHandler } from '../ingest/logs/collector';

export interface IngestSummary {
  lines: number;
  flows: number;
  errors: number;
}

export async function ingestStdin(cfg: Config, log: Logger, format: LogFormat, input: NodeJS.ReadableStream = process.stdin): Promise<IngestSummary> {
  const kafka = kafkaContext(cfg.kafka, log);
  const runner = new StageRunner(log, () => process.exit(1)); // the fatal failure is logged by then
  try {
    await runner.start(new KafkaStage(kafka, log));
    const { enricher } = await runner.start(new EnrichmentStage(cfg.inventory, kafka, log));
    const producer = new RecordProducer<Flow>(kafka, FLOWS, log, { stage: 'collector' });
    await producer.connect();
    const before = { flows: await counter(recordsIn), errors: await counter(recordsFailed) };
    const handle = lineHandler(format, 'stdin', { proxyAddress: cfg.logs.proxyAddress, flow: (f) => producer.push(enricher.enrich(f)), log });
    let lines = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lines++;
      handle(line);
      if (producer.buffered > 100_000) await producer.flush();
    }
    await producer.close();
    return { lines, flows: (await counter(recordsIn)) - before.flows, errors: (await counter(recordsFailed)) - before.errors };
  } finally {
    await runner.stop();
  }
}

const counter = async (c: typeof recordsIn | typeof recordsFailed) => (await c.get()).values.reduce((s, v) => s + v.value, 0);
