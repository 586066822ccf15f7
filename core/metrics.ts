/** Prometheus metrics shared by every stage (prom-client, one registry per process); a module's own metrics live with it and register here. */
import * as client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'eastwatch_' });

export const recordsIn = new client.Counter({
  name: 'eastwatch_records_in_total',
  help: 'Records received by a stage',
  labelNames: ['stage', 'source'] as const,
  registers: [registry],
});

export const recordsOut = new client.Counter({
  name: 'eastwatch_records_out_total',
  help: 'Records a stage handed on durably (produced to Kafka, inserted into ClickHouse)',
  labelNames: ['stage'] as const,
  registers: [registry],
});

export const recordsFailed = new client.Counter({
  name: 'eastwatch_records_failed_total',
  help: 'Records a stage rejected, by source and reason; a sample of them goes to the dead-letter topic',
  labelNames: ['stage', 'source', 'reason'] as const,
  registers: [registry],
});

export const recordsDropped = new client.Counter({
  name: 'eastwatch_records_dropped_total',
  help: 'Valid records a stage could not hand on and gave up (e.g. its bounded Kafka backlog was full while Kafka was unreachable), by reason',
  labelNames: ['stage', 'reason'] as const,
  registers: [registry],
});

export const deadLettered = new client.Counter({
  name: 'eastwatch_dead_letter_total',
  help: 'Records sent to the dead-letter topic (a rate-limited sample of the failed ones)',
  labelNames: ['stage', 'reason'] as const,
  registers: [registry],
});

export const kafkaLag = new client.Gauge({
  name: 'eastwatch_kafka_consumer_lag',
  help: 'Messages between a consumer group\'s position and the partition end',
  labelNames: ['group', 'topic', 'partition'] as const,
  registers: [registry],
});

export const insertDuration = new client.Histogram({
  name: 'eastwatch_clickhouse_insert_seconds',
  help: 'Duration of ClickHouse inserts',
  labelNames: ['table'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const insertRows = new client.Counter({
  name: 'eastwatch_clickhouse_inserted_rows_total',
  help: 'Rows inserted into ClickHouse',
  labelNames: ['table'] as const,
  registers: [registry],
});
