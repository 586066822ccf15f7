/**
 * Alert metrics: bounded by the detector names, the three severities and the inventory's zones (zone names come
 * from the inventory, never from a packet): detectors x 3 x (zones + 1)^2 series at most.
 */
import * as client from 'prom-client';
import { registry } from '../core/metrics';

export const alertsRaised = new client.Counter({
  name: 'eastwatch_alerts_raised_total',
  help: 'Alerts raised (new episodes), by detector, severity and the zones of their ends ("" where an alert names none)',
  labelNames: ['detector', 'severity', 'src_zone', 'dst_zone'] as const,
  registers: [registry],
});

export const alertsFiring = new client.Gauge({
  name: 'eastwatch_alerts_firing',
  help: 'Alerts this process holds as firing (episodes not yet quiet), by detector and severity; processes of one group each count those they restored, so aggregate with max',
  labelNames: ['detector', 'severity'] as const,
  registers: [registry],
});

export const alertmanagerAlerts = new client.Counter({
  name: 'eastwatch_alertmanager_alerts_total',
  help: "Alerts in Alertmanager's webhook notifications, by what became of them: firing, resolved (stored), own (an eastwatch detector rule's, skipped)",
  labelNames: ['result'] as const,
  registers: [registry],
});
