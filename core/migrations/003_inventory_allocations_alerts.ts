import { AllocationSchema, InventoryAddressSchema } from '../records';
import { Migration, createTableSql } from './migration';

/**
 * Tables the inventory and allocation stages fill; latest version of a row wins (ReplacingMergeTree). It made a
 * first alerts table too, which no release ever wrote: migration 6 replaces it.
 */
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
  ],
};
