import { FlowSchema } from '../flow';
import { Migration, createTableSql } from './migration';

/**
 * Flows, partitioned by day of receipt (TTL drops whole parts). The sort key puts the hour first so every
 * time-bounded query prunes granules, then the zone pair and the endpoints, which is what detectors
 * (per source, per zone crossing) and analysts (who talked to whom) filter on.
 * The deduplication window lets the writer re-insert a batch after a crash without duplicating rows.
 */
export const flows: Migration = {
  version: 1,
  name: 'flows table',
  statements: ({ tbl, cfg }) => [
    createTableSql(
      tbl('flows'),
      FlowSchema,
      `ENGINE = MergeTree
PARTITION BY toDate(time_received)
ORDER BY (toStartOfHour(time_received), src_zone, dst_zone, src_addr, dst_addr, time_received)
TTL toDateTime(time_received) + toIntervalDay(${cfg.flowsTtlDays})
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1`,
    ),
  ],
};
