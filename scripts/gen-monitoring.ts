/**
 * Writes what eastwatch ships to Prometheus and Grafana: from alerts/rules/catalog.ts the rules file, the
 * PrometheusRule and docs/runbooks/; from dashboards/ the dashboards' JSON and Grafana's provisioning.
 * `npm run gen:monitoring`; test/unit/monitoring-files.test.ts fails while the committed files differ.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { monitoringFiles } from '../alerts/rules/render';
import { dashboardFiles } from '../dashboards';

const ROOT = path.resolve(__dirname, '../..');

if (require.main === module) {
  for (const [file, text] of [...monitoringFiles(), ...dashboardFiles()]) {
    const to = path.join(ROOT, file);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, text);
    console.log(`wrote ${file}`);
  }
}
