/** `eastwatch alerts`: list, show and triage the stored alerts. */
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../app/config';
import { ALERT_STATUSES, AlertStatus, CLOSE_REASONS, CloseReason } from '../core/records';
import { auditOf } from '../core/audit';
import { AlertQuery, getAlert, listAlerts } from '../alerts/query';
import { triage } from '../alerts/triage';
import { DETECTOR_NAMES } from '../detectors/finding';
import { withStore } from './store';
import { time } from './time';

const status = (v: string): AlertStatus => {
  if (!(ALERT_STATUSES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${ALERT_STATUSES.join(', ')}`);
  return v as AlertStatus;
};
const closeReason = (v: string): CloseReason => {
  if (!(CLOSE_REASONS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${CLOSE_REASONS.join(', ')}`);
  return v as CloseReason;
};

export function registerAlerts(program: Command, config: () => Config): void {
  const alerts = program.command('alerts').description('the alerts the detectors raised: list, show, triage');
  alerts.command('list')
    .description('alerts by the time they were raised, one line each (one JSON object a line with --json)')
    .option('--since <time>', 'raised at or after: ms since the epoch or ISO 8601', time)
    .option('--until <time>', 'raised at or before', time)
    .option('--detector <name>', `only this detector's: ${DETECTOR_NAMES.join(', ')}`)
    .option('--status <status>', `only alerts in this triage status: ${ALERT_STATUSES.join(', ')}`, status)
    .option('--json', 'print every field as JSON lines')
    .action((o: { since?: number; until?: number; detector?: string; status?: AlertStatus; json?: boolean }) => withStore(config(), async (store) => {
      const q: AlertQuery = {
        ...(o.since !== undefined ? { since: o.since } : {}), ...(o.until !== undefined ? { until: o.until } : {}),
        ...(o.detector ? { detector: [o.detector] } : {}), ...(o.status ? { status: [o.status] } : {}),
      };
      let cursor: string | undefined;
      do {
        const page = await listAlerts(store, q, { sort: 'time', limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const a of page.alerts) {
          console.log(o.json ? JSON.stringify(a) : `${a.time}  ${a.alert_id}  ${String(a.severity).padEnd(8)} ${String(a.state).padEnd(6)} ${a.status.padEnd(12)} ${String(a.detector).padEnd(18)} ${a.summary}`);
        }
        cursor = page.next_cursor;
      } while (cursor);
    }));
  alerts.command('show')
    .description('one alert with its evidence, as JSON')
    .argument('<id>', 'alert id')
    .action((id: string) => withStore(config(), async (store) => {
      const alert = await getAlert(store, id);
      console.log(JSON.stringify({ ...alert, audit: (await auditOf(store, 'alert', [id])).get(id) }, null, 2));
    }));
  alerts.command('status')
    .description('set an alert\'s triage status (the detector\'s later updates keep it); audited')
    .argument('<id>', 'alert id')
    .argument('<status>', ALERT_STATUSES.join(', '), status)
    .option('--close-reason <reason>', `why it is closed (closing takes one): ${CLOSE_REASONS.join(', ')}`, closeReason)
    .option('--note <text>', 'why', '')
    .option('--actor <name>', 'who', process.env.USER ?? 'cli')
    .action((id: string, s: AlertStatus, o: { closeReason?: CloseReason; note: string; actor: string }) => withStore(config(), async (store) => {
      await triage(store, [id], { status: s, ...(o.closeReason ? { close_reason: o.closeReason } : {}), ...(o.note ? { reason: o.note } : {}) }, { name: o.actor, role: 'cli' });
    }));
}
