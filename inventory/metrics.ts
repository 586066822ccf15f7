/** Metrics of the inventory holder. */
import { Counter } from 'prom-client';
import { registry } from '../core/metrics';

export const inventoryReloads = new Counter({
  name: 'eastwatch_inventory_reloads_total',
  help: 'Inventory file loads, by result: ok, or invalid (the previous inventory stays in use)',
  labelNames: ['result'] as const,
  registers: [registry],
});
