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

export const alertsSuppressed = new client.Counter({
  name: 'eastwatch_alerts_suppressed_total',
  help: "Episodes an analyst's suppression held back (counted once each), by detector",
  labelNames: ['detector'] as const,
  registers: [registry],
});

let countActive: () => number = () => 0;
/** The suppression feed of the process, counted at scrape time (an expiry changes it without any event). */
export const countSuppressionsWith = (f: () => number): void => {
  countActive = f;
};

export const suppressionsActive = new client.Gauge({
  name: 'eastwatch_suppressions_active',
  help: 'Analysts\' suppressions this detectors process holds as active (they hold matching alerts back)',
  registers: [registry],
  collect() {
    this.set(countActive());
  },
});

export const webhookDeliveries = new client.Counter({
  name: 'eastwatch_webhook_deliveries_total',
  help: 'Webhook delivery attempts, by outcome: delivered, retry (failed, tried again later), failed (given up or subscription disabled), gone (410: subscription disabled)',
  labelNames: ['result'] as const,
  registers: [registry],
});
