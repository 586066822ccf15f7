import { Migration } from './migration';

/**
 * Egress rollups for the windowed detectors: what each source sent to each destination outside the inventory's
 * nodes, per 5 minutes (kept 90 days) and per hour (kept 400 days, the seasonal baseline's history). A request
 * through the egress proxy counts once, from its access-log line, toward the host the client asked for; the
 * client's own connection to the proxy (to a node) is not egress. Bytes are scaled by the sampling rate.
 * The hourly table is fed from the 5-minute one, so a writer's replayed insert deduplicated there is not
 * counted twice here either.
 */
export const egressRollups: Migration = {
  version: 7,
  name: 'egress rollups',
  statements: ({ tbl }) => {
    const columns = `src_zone LowCardinality(String), src_namespace LowCardinality(String), src_node LowCardinality(String), src_addr IPv6,
  dst_zone LowCardinality(String),
  destination String COMMENT 'The host asked of the proxy, or the address sent to',
  via LowCardinality(String) COMMENT 'proxy or direct',
  flows UInt64, bytes UInt64 COMMENT 'Octets sent, scaled by sampling rate'`;
    const key = 'src_zone, src_node, src_addr, destination, via, src_namespace, dst_zone';
    return [
      `CREATE TABLE IF NOT EXISTS ${tbl('egress_5m')} (bucket DateTime COMMENT '5 minutes the flows ended in', ${columns})
ENGINE = SummingMergeTree((flows, bytes)) PARTITION BY toYYYYMM(bucket) ORDER BY (bucket, ${key})
TTL bucket + toIntervalDay(90)
SETTINGS non_replicated_deduplication_window = 10000`,
      `CREATE TABLE IF NOT EXISTS ${tbl('egress_1h')} (hour DateTime COMMENT 'Hour the flows ended in', ${columns})
ENGINE = SummingMergeTree((flows, bytes)) PARTITION BY toYYYYMM(hour) ORDER BY (hour, ${key})
TTL hour + toIntervalDay(400)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${tbl('egress_5m_mv')} TO ${tbl('egress_5m')} AS
SELECT toStartOfFiveMinutes(time_end) AS bucket, src_zone, src_namespace, src_node, src_addr, dst_zone,
  if(source_kind = 'proxy', lower(proxy_host), replaceRegexpOne(toString(dst_addr), '^::ffff:', '')) AS destination,
  if(source_kind = 'proxy', 'proxy', 'direct') AS via,
  count() AS flows, sum(ifNull(bytes, 0) * sampling_rate) AS bytes
FROM ${tbl('flows')}
WHERE source_kind = 'proxy' OR dst_node = ''
GROUP BY bucket, ${key}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${tbl('egress_1h_mv')} TO ${tbl('egress_1h')} AS
SELECT toStartOfHour(bucket) AS hour, ${key}, sum(flows) AS flows, sum(bytes) AS bytes
FROM ${tbl('egress_5m')}
GROUP BY hour, ${key}`,
    ];
  },
};
