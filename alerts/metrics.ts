/** Alert metrics: bounded by the detector names and the three severities. */
import * as client from 'prom-client';
import { registry } from '../core/metrics';

export const alertsRaised = new client.Counter({
  name: 'eastwatch_alerts_raised_total',
  help: 'Alerts raised (new episodes), by detector and severity',
  labelNames: ['detector', 'severity'] as const,
  registers: [registry],
});

export const alertsFiring = new client.Gauge({
  name: 'eastwatch_alerts_firing',
  help: 'Alerts this process holds as firing (episodes not yet quiet)',
  registers: [registry],
});
