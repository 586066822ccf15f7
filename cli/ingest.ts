/**
 * `eastwatch ingest --format hubble|squid|envoy`: lines on stdin (`hubble observe -o json --follow | eastwatch
 * ingest --format hubble`, a log replay) through the same parsers and enrichment into the flows topic. Resolves once every
 * flow is acknowledged by Kafka; the summary goes to stderr.
 */
import { createInterface } from 'node:readline';
import type { Config } from '../core/config';
import type { Flow } from '../core/flow';
import { createKafka, ensureTopics } from '../core/kafka';
import type { Logger } from '../core/log';
import { recordsFailed, recordsIn } from '../core/metrics';
import { RecordProducer } from '../core/record-producer';
import { FLOWS } from '../core/streams';
import { startEnrichment } from '../enrich/stage';
import { LogFormat, lineHandler } from '../ingest/logs/collector';

export interface IngestSummary {
  lines: number;
  flows: number;
  errors: number;
}

export async function ingestStdin(cfg: Config, log: Logger, format: LogFormat, input: NodeJS.ReadableStream = process.stdin): Promise<IngestSummary> {
  const kafka = createKafka(cfg, log);
  await ensureTopics(kafka, cfg, log);
  const producer = new RecordProducer<Flow>(kafka, cfg, log, FLOWS, 'collector');
  await producer.connect(kafka);
  const before = { flows: await counter(recordsIn), errors: await counter(recordsFailed) };
  const { enricher, stop } = await startEnrichment(kafka, cfg, log);
  const handle = lineHandler(format, 'stdin', { proxyAddress: cfg.logs.proxyAddress, flow: (f) => producer.push(enricher.enrich(f)), log });
  let lines = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lines++;
    handle(line);
    if (producer.buffered > 100_000) await producer.flush();
  }
  await producer.close();
  await stop();
  return { lines, flows: (await counter(recordsIn)) - before.flows, errors: (await counter(recordsFailed)) - before.errors };
}

const counter = async (c: typeof recordsIn | typeof recordsFailed) => (await c.get()).values.reduce((s, v) => s + v.value, 0);
