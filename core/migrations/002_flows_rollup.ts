import { Migration } from './migration';

/**
 * Per-minute traffic by (src, dst, zone pair, job pair), kept by a materialized view on inserts into flows.
 * Bytes and packets are scaled by the sampling rate here, so volume queries never forget to. Hubble flows
 * have NULL bytes and count as flows only. The deduplication window lets a writer's replayed insert be
 * dropped here too, not only in flows.
 */
export const flowsRollup: Migration = {
  version: 2,
  name: 'flows per-minute rollup',
  statements: ({ tbl }) => [
    `CREATE TABLE IF NOT EXISTS ${tbl('flows_1m')} (
  minute DateTime COMMENT 'Minute the flow ended in',
  src_addr IPv6, dst_addr IPv6,
  src_zone LowCardinality(String), dst_zone LowCardinality(String),
  src_job LowCardinality(String), dst_job LowCardinality(String),
  flows UInt64 COMMENT 'Flow records',
  bytes UInt64 COMMENT 'Octets scaled by sampling rate',
  packets UInt64 COMMENT 'Packets scaled by sampling rate'
) ENGINE = SummingMergeTree((flows, bytes, packets))
PARTITION BY toDate(minute)
ORDER BY (minute, src_zone, dst_zone, src_job, dst_job, src_addr, dst_addr)
TTL minute + toIntervalDay(400)
SETTINGS non_replicated_deduplication_window = 10000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${tbl('flows_1m_mv')} TO ${tbl('flows_1m')} AS
SELECT toStartOfMinute(time_end) AS minute, src_addr, dst_addr, src_zone, dst_zone, src_job, dst_job,
  count() AS flows,
  sum(ifNull(bytes, 0) * sampling_rate) AS bytes,
  sum(ifNull(packets, 0) * sampling_rate) AS packets
FROM ${tbl('flows')}
GROUP BY minute, src_addr, dst_addr, src_zone, dst_zone, src_job, dst_job`,
  ],
};
