/**
 * Alerts raised elsewhere (the seed's Hubble rules, any Prometheus rule) join eastwatch's alert store through
 * Alertmanager's webhook (payload version 4). One eastwatch alert per Alertmanager alert and episode: the
 * fingerprint is Alertmanager's, the alert id is derived from it and the episode's start, so a notification
 * repeated (repeat_interval, a retry, a second Alertmanager of a cluster) updates the same alert; a resolved
 * notification ends it. eastwatch's own detector rules are skipped: their alerts are in the store already.
 */
import { z } from 'zod';
import { type Alert, SEVERITIES, type Severity } from '../core/records';
import { alertIdOf, fingerprintOf } from './lifecycle';
import { DETECTORS } from '../detectors/registry';
import { detectorAlertName } from './rules/catalog';

/** The detector name of alerts that came through Alertmanager. */
export const ALERTMANAGER = 'alertmanager';

const text = z.string().max(4096);
const labelSet = z.record(z.string().max(256), text).refine((o) => Object.keys(o).length <= 64, 'at most 64 labels');

/** The fields of a webhook notification eastwatch reads; Alertmanager's others (and newer ones) pass. */
export const WebhookPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: text,
  status: z.enum(['firing', 'resolved']),
  receiver: text.optional(),
  externalURL: text.optional(),
  alerts: z.array(z.object({
    status: z.enum(['firing', 'resolved']),
    labels: labelSet,
    annotations: labelSet,
    startsAt: z.iso.datetime({ offset: true }),
    endsAt: z.iso.datetime({ offset: true }),
    generatorURL: text.optional(),
    fingerprint: z.string().regex(/^[0-9a-f]{1,32}$/),
  })).max(1000),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;

/** Alerts of eastwatch's own detector rules: already alerts in eastwatch, raised by the detectors. */
const OWN = new Set(DETECTORS.map((d) => detectorAlertName(d.name)));

const severityOf = (s: string | undefined): Severity => (SEVERITIES as readonly string[]).includes(s ?? '') ? (s as Severity) : 'warning';

/** Alertmanager's "no end" (a firing alert's endsAt). */
const ZERO_TIME = /^0001-01-01/;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The eastwatch alerts a webhook payload stands for, and how many of its alerts were eastwatch's own. */
export function alertsFromWebhook(p: WebhookPayload, now: number): { alerts: Alert[]; own: number } {
  const alerts: Alert[] = [];
  let own = 0;
  for (const a of p.alerts) {
    const name = a.labels.alertname ?? '(unnamed)';
    if (OWN.has(name)) {
      own++;
      continue;
    }
    const startsAt = Date.parse(a.startsAt);
    const endsAt = ZERO_TIME.test(a.endsAt) ? NaN : Date.parse(a.endsAt);
    const resolved = a.status === 'resolved';
    const fingerprint = fingerprintOf(ALERTMANAGER, [a.fingerprint]);
    const last = resolved && Number.isFinite(endsAt) ? endsAt : now;
    alerts.push({
      alert_id: alertIdOf(fingerprint, startsAt),
      fingerprint,
      detector: ALERTMANAGER,
      severity: severityOf(a.labels.severity),
      state: resolved ? 'ended' : 'firing',
      time: startsAt,
      first_seen: startsAt,
      last_seen: Math.max(startsAt, last),
      raised_at: now,
      summary: clip(`${name}: ${a.annotations.summary ?? a.annotations.description ?? 'raised through Alertmanager'}`, 1024),
      bytes: 0,
      flows: 0,
      evidence: clip(JSON.stringify({ alertmanager: { fingerprint: a.fingerprint, labels: a.labels, annotations: a.annotations, generatorURL: a.generatorURL, groupKey: p.groupKey, externalURL: p.externalURL } }), 65536),
      updated_at: now,
    });
  }
  return { alerts, own };
}
