/**
 * Writes what eastwatch ships to Prometheus from one definition (alerts/rules/catalog.ts): the rules file, the
 * PrometheusRule and docs/runbooks/. `npm run gen:monitoring`; test/unit/monitoring-files.test.ts fails while
 * the committed files differ from what this writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { monitoringFiles } from '../alerts/rules/render';

const ROOT = path.resolve(__dirname, '../..');

if (require.main === module) {
  for (const [file, text] of monitoringFiles()) {
    const to = path.join(ROOT, file);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, text);
    console.log(`wrote ${file}`);
  }
}
