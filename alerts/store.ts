/**
 * Reading alerts and recording their triage. The detector's view (alerts) and the analyst's (alert_triage) are
 * separate tables joined on read: each writer only ever adds versions of its own rows.
 */
import type { Store } from '../core/clickhouse';
import { UserError } from '../core/error-text';
import { ALERT_STATUSES, AlertStatus, AlertTriageSchema } from '../core/records';

export class AlertNotFound extends UserError {}

export interface AlertFilter {
  since?: number;
  until?: number;
  detector?: string;
  status?: AlertStatus;
  id?: string;
}

/** An alert as `eastwatch alerts` and the API print it: times in ISO 8601 UTC, evidence parsed, triage joined. */
export type AlertView = Record<string, unknown> & { alert_id: string; status: AlertStatus; evidence: unknown };

const TIMES = ['time', 'first_seen', 'last_seen', 'raised_at', 'updated_at'] as const;

export async function listAlerts(store: Store, f: AlertFilter = {}): Promise<AlertView[]> {
  const rows = await store.rows<Record<string, unknown>>(
    `SELECT a.* EXCEPT (${TIMES.join(', ')}), ${TIMES.map((t) => `toUnixTimestamp64Milli(a.${t}) AS ${t}_ms`).join(', ')},
        if(t.status = '', 'open', t.status) AS status, t.actor AS status_by, t.note AS status_note
      FROM (SELECT * FROM ${store.tbl('alerts')} FINAL
            WHERE time >= fromUnixTimestamp64Milli({since:Int64}) AND time <= fromUnixTimestamp64Milli({until:Int64})
              AND ({detector:String} = '' OR detector = {detector:String})
              AND ({id:String} = '' OR toString(alert_id) = {id:String})) AS a
      LEFT JOIN (SELECT alert_id, argMax(status, updated_at) AS status, argMax(actor, updated_at) AS actor, argMax(note, updated_at) AS note
                 FROM ${store.tbl('alert_triage')} GROUP BY alert_id) AS t ON a.alert_id = t.alert_id
      WHERE {status:String} = '' OR status = {status:String}
      ORDER BY time_ms, alert_id`,
    { since: f.since ?? 0, until: f.until ?? 8.64e15, detector: f.detector ?? '', status: f.status ?? '', id: f.id ?? '' },
  );
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (k.endsWith('_ms')) continue;
      if (v === null || v === '') continue; // a field that does not apply is left out
      out[k] = k === 'evidence' ? JSON.parse(String(v)) : k === 'bytes' || k === 'flows' ? Number(v) : v;
    }
    for (const t of TIMES) out[t] = new Date(Number(r[`${t}_ms`])).toISOString();
    return out as AlertView;
  });
}

export async function getAlert(store: Store, id: string): Promise<AlertView> {
  const [a] = await listAlerts(store, { id });
  if (!a) throw new AlertNotFound(`no alert ${id}`);
  return a;
}

/** Records an analyst's status change; the detector's later updates of the alert leave it as it is. */
export async function setStatus(store: Store, id: string, status: AlertStatus, actor: string, note = '', now = Date.now()): Promise<void> {
  if (!(ALERT_STATUSES as readonly string[]).includes(status)) throw new UserError(`unknown status ${status}; one of ${ALERT_STATUSES.join(', ')}`);
  await getAlert(store, id);
  const row = AlertTriageSchema.parse({ alert_id: id, status, actor, note, updated_at: now });
  await store.client.insert({ table: store.tbl('alert_triage'), values: [row], format: 'JSONEachRow' });
}
