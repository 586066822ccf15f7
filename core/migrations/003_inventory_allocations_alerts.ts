import { AlertSchema, AllocationSchema, InventoryAddressSchema } from '../records';
import { Migration, createTableSql } from './migration';

/** Tables the inventory, allocation and detector stages fill; latest version of a row wins (ReplacingMergeTree). */
export const inventoryAllocationsAlerts: Migration = {
  version: 3,
  name: 'inventory, allocations and alerts tables',
  statements: ({ tbl }) => [
    createTableSql(tbl('inventory_addresses'), InventoryAddressSchema, 'ENGINE = ReplacingMergeTree(updated_at) ORDER BY address'),
    createTableSql(
      tbl('allocations'),
      AllocationSchema,
      'ENGINE = ReplacingMergeTree(updated_at) ORDER BY (node, start, job_id, pod)',
    ),
    createTableSql(
      tbl('alerts'),
      AlertSchema,
      'ENGINE = ReplacingMergeTree(updated_at) PARTITION BY toYYYYMM(time) ORDER BY (detector, alert_id)',
    ),
  ],
};
