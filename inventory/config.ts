/** The inventory's config section. */
import { z } from 'zod';
import { leaf } from '../core/config';

export const InventoryConfigSchema = z.strictObject({
  file: leaf(z.string().optional(), 'EASTWATCH_INVENTORY', 'Inventory YAML (zones, allowed zone pairs, nodes, proxies); reloaded when it changes or on SIGHUP'),
  historyDays: leaf(z.number().int().min(1).max(3650).default(30), 'EASTWATCH_ALLOCATION_HISTORY_DAYS', 'Allocations that ended this long ago are forgotten by enrichment (flows later than that get no job)'),
});

export type InventoryConfig = z.infer<typeof InventoryConfigSchema>;
