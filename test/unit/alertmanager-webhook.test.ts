/**
 * Alertmanager's webhook payloads (version 4, as Alertmanager 0.25 sends them) to eastwatch alerts: one alert
 * per Alertmanager alert and episode, the same id on every repeat, ended by the resolved notification; an
 * eastwatch detector rule's alert is skipped (the detector raised it already).
 */
import { alertsFromWebhook, type WebhookPayload } from '../../alerts/alertmanager';
import { AlertSchema } from '../../core/records';

const NOW = Date.parse('2026-12-02T14:31:00Z');
const payload = (status: 'firing' | 'resolved', endsAt = '0001-01-01T00:00:00Z', o: Partial<WebhookPayload['alerts'][0]> = {}): WebhookPayload => ({
  version: '4', groupKey: '{}:{alertname="TrainingPodUnexpectedEgress"}', status, receiver: 'eastwatch', externalURL: 'http://127.0.0.1:9093',
  alerts: [{
    status, labels: { alertname: 'TrainingPodUnexpectedEgress', severity: 'warning', destination: '198.51.100.9' },
    annotations: { summary: 'Training pod attempted blocked egress to 198.51.100.9' },
    startsAt: '2026-12-02T14:30:21.231Z', endsAt, generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=x', fingerprint: '7d52a6b3fe3d99b6', ...o,
  }],
});

describe("Alertmanager's webhook", () => {
  it('makes a firing alert, the same one on a repeated notification, and ends it on the resolved one', () => {
    const { alerts: [a], own } = alertsFromWebhook(payload('firing'), NOW);
    expect(own).toBe(0);
    expect(AlertSchema.parse(a)).toEqual(a);
    expect(a).toMatchObject({
      detector: 'alertmanager', severity: 'warning', state: 'firing', first_seen: Date.parse('2026-12-02T14:30:21.231Z'), last_seen: NOW,
      summary: 'TrainingPodUnexpectedEgress: Training pod attempted blocked egress to 198.51.100.9',
    });
    expect(JSON.parse(a!.evidence).alertmanager).toMatchObject({ fingerprint: '7d52a6b3fe3d99b6', labels: { destination: '198.51.100.9' } });
    const again = alertsFromWebhook(payload('firing'), NOW + 60_000).alerts[0]!;
    expect([again.alert_id, again.fingerprint]).toEqual([a!.alert_id, a!.fingerprint]);
    const resolved = alertsFromWebhook(payload('resolved', '2026-12-02T14:40:00Z'), NOW + 600_000).alerts[0]!;
    expect(resolved).toMatchObject({ alert_id: a!.alert_id, state: 'ended', last_seen: Date.parse('2026-12-02T14:40:00Z') });
    expect(resolved.updated_at).toBeGreaterThan(again.updated_at);
  });

  it('makes a new alert for a new episode of the same alert, and reads an unknown severity as warning', () => {
    const a = alertsFromWebhook(payload('firing'), NOW).alerts[0]!;
    const b = alertsFromWebhook(payload('firing', undefined, { startsAt: '2026-12-02T16:00:00Z', labels: { alertname: 'X', severity: 'page' } }), NOW).alerts[0]!;
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.alert_id).not.toBe(a.alert_id);
    expect(b.severity).toBe('warning');
  });

  it("skips eastwatch's own detector rules", () => {
    const p = payload('firing', undefined, { labels: { alertname: 'EastwatchScan', detector: 'scan', severity: 'warning' } });
    expect(alertsFromWebhook(p, NOW)).toEqual({ alerts: [], own: 1 });
  });
});
