import { Migration } from './migration';

/**
 * The writer's intent log: the exact offset range of each insert, written before the insert. After a crash
 * the writer rebuilds those same ranges and re-inserts them with the same deduplication token, so ClickHouse
 * drops what it already has (the pattern of ClickHouse's Kafka Connect sink, with a table as the state store).
 */
export const writerIntents: Migration = {
  version: 4,
  name: 'writer intent log',
  statements: ({ tbl }) => [
    `CREATE TABLE IF NOT EXISTS ${tbl('writer_intents')} (
  group_id LowCardinality(String), topic LowCardinality(String), partition UInt32,
  first_offset UInt64, last_offset UInt64, created_at DateTime64(3) DEFAULT now64(3)
) ENGINE = MergeTree ORDER BY (group_id, topic, partition, first_offset)
TTL toDateTime(created_at) + toIntervalDay(7)`,
  ],
};
