/** `eastwatch alerts`: list, show and triage the stored alerts. */
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../app/config';
import { ALERT_STATUSES, AlertStatus } from '../core/records';
import { getAlert, listAlerts, setStatus } from '../alerts/store';
import { DETECTOR_NAMES } from '../detectors/finding';
import { withStore } from './store';
import { time } from './time';

const status = (v: string): AlertStatus => {
  if (!(ALERT_STATUSES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${ALERT_STATUSES.join(', ')}`);
  return v as AlertStatus;
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
      for (const a of await listAlerts(store, o)) {
        console.log(o.json ? JSON.stringify(a) : `${a.time}  ${a.alert_id}  ${String(a.severity).padEnd(8)} ${String(a.state).padEnd(6)} ${a.status.padEnd(12)} ${String(a.detector).padEnd(18)} ${a.summary}`);
      }
    }));
  alerts.command('show')
    .description('one alert with its evidence, as JSON')
    .argument('<id>', 'alert id')
    .action((id: string) => withStore(config(), async (store) => console.log(JSON.stringify(await getAlert(store, id), null, 2))));
  alerts.command('status')
    .description('set an alert\'s triage status (the detector\'s later updates keep it)')
    .argument('<id>', 'alert id')
    .argument('<status>', ALERT_STATUSES.join(', '), status)
    .option('--note <text>', 'why', '')
    .option('--actor <name>', 'who', process.env.USER ?? 'cli')
    .action((id: string, s: AlertStatus, o: { note: string; actor: string }) => withStore(config(), (store) => setStatus(store, id, s, o.actor, o.note)));
}
