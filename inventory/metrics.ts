/** Metrics of the inventory holder. */
import { Counter, Gauge } from 'prom-client';
import { registry } from '../core/metrics';

export const inventoryReloads = new Counter({
  name: 'eastwatch_inventory_reloads_total',
  help: 'Inventory file loads, by result: ok, or invalid (the previous inventory stays in use)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const inventoryStale = new Gauge({
  name: 'eastwatch_inventory_stale',
  help: '1 while the inventory file on disk was rejected and an older inventory is in use, else 0',
  registers: [registry],
});

export const inventoryLoadedAt = new Gauge({
  name: 'eastwatch_inventory_loaded_timestamp_seconds',
  help: 'When the inventory in use was loaded (Unix seconds)',
  registers: [registry],
});
