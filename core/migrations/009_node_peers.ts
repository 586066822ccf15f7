import { Migration } from './migration';

/**
 * Who each node talked to, per 5 minutes: every flow counted once from each end it has (out from its source,
 * in to its destination), keyed by that end, so a node's timeline (or a job's, through the node's job) is a
 * read of one key range. An end without an inventory node is keyed by its address. Bytes are scaled by
 * sampling. Existing flows are folded in before the view exists (only into an empty table, so a rerun after a
 * crash does not count them twice; a writer running elsewhere meanwhile may leave a few flows out). A minmax index on time_end lets the evidence of an alert (its
 * flows, by event time) skip the parts outside it.
 */
export const nodePeers: Migration = {
  version: 9,
  name: 'node peers rollup and flow event-time index',
  statements: ({ tbl }) => {
    const select = `SELECT toStartOfFiveMinutes(time_end) AS bucket, e.1 AS node, e.2 AS dir, e.3 AS zone, e.4 AS job, e.5 AS peer, e.6 AS peer_node,
  e.7 AS peer_zone, e.8 AS peer_job, dst_port AS port, protocol, count() AS flows, sum(ifNull(bytes, 0) * sampling_rate) AS bytes
FROM ${tbl('flows')}
ARRAY JOIN [
  (if(src_node != '', src_node, toString(src_addr)), 'out', src_zone, src_job, dst_addr, dst_node, dst_zone, dst_job),
  (if(dst_node != '', dst_node, toString(dst_addr)), 'in', dst_zone, dst_job, src_addr, src_node, src_zone, src_job)
] AS e
%WHERE%GROUP BY bucket, node, dir, zone, job, peer, peer_node, peer_zone, peer_job, port, protocol`;
    return [
      `CREATE TABLE IF NOT EXISTS ${tbl('node_peers_5m')} (
  bucket DateTime COMMENT '5 minutes the flows ended in',
  node LowCardinality(String) COMMENT 'The node (or, without one, the address) this row is about',
  dir LowCardinality(String) COMMENT 'out: the node sent (it was the source); in: it received',
  zone LowCardinality(String), job LowCardinality(String) COMMENT 'The node''s job at the time',
  peer IPv6 COMMENT 'The other end''s address', peer_node LowCardinality(String), peer_zone LowCardinality(String), peer_job LowCardinality(String),
  port UInt16 COMMENT 'Destination port of the flows', protocol UInt8,
  flows UInt64, bytes UInt64 COMMENT 'Octets scaled by sampling rate',
  INDEX job_bloom job TYPE bloom_filter GRANULARITY 4
) ENGINE = SummingMergeTree((flows, bytes))
PARTITION BY toYYYYMM(bucket)
ORDER BY (node, bucket, dir, peer_node, peer, port, protocol, zone, job, peer_zone, peer_job)
TTL bucket + toIntervalDay(400)
SETTINGS non_replicated_deduplication_window = 10000`,
      `INSERT INTO ${tbl('node_peers_5m')} ${select.replace('%WHERE%', `WHERE (SELECT count() FROM ${tbl('node_peers_5m')}) = 0\n`)}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${tbl('node_peers_5m_mv')} TO ${tbl('node_peers_5m')} AS ${select.replace('%WHERE%', '')}`,
      `ALTER TABLE ${tbl('flows')} ADD INDEX IF NOT EXISTS time_end_minmax time_end TYPE minmax GRANULARITY 1`,
    ];
  },
};
