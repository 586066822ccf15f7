import { InterfaceCounterSchema } from '../records';
import { Migration, createTableSql } from './migration';

/** Interface counters from sFlow counter samples: fabric health beside the flows, kept as long as flows. */
export const interfaceCounters: Migration = {
  version: 5,
  name: 'interface counters table',
  statements: ({ tbl, cfg }) => [
    createTableSql(
      tbl('interface_counters'),
      InterfaceCounterSchema,
      `ENGINE = MergeTree
PARTITION BY toDate(time_received)
ORDER BY (exporter_address, if_index, time_received)
TTL toDateTime(time_received) + toIntervalDay(${cfg.flowsTtlDays})
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1`,
    ),
  ],
};
