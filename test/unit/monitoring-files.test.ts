/**
 * What eastwatch ships to Prometheus and Grafana is generated (`npm run gen:monitoring`): the committed rules
 * file, PrometheusRule, runbooks, dashboards and provisioning must be exactly what the generator writes, and every alert
 * must carry the annotations the monitoring-mixin conventions ask for, its runbook among the files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ALERT_RULES } from '../../alerts/rules/catalog';
import { monitoringFiles } from '../../alerts/rules/render';
import { dashboardFiles } from '../../dashboards';

const ROOT = path.resolve(__dirname, '../..');

describe('the generated monitoring files', () => {
  const files = new Map([...monitoringFiles(), ...dashboardFiles()]);

  it.each([...files.keys()])('%s is committed as generated', (file) => {
    const p = path.join(ROOT, file);
    expect(existsSync(p) ? readFileSync(p, 'utf8') : `(${file} is missing: run npm run gen:monitoring)`).toBe(files.get(file));
  });

  it.each(['docs/runbooks', 'dashboards/json'])('leaves nothing stale behind in %s', (dir) => {
    expect(readdirSync(path.join(ROOT, dir)).map((f) => `${dir}/${f}`).filter((f) => !files.has(f))).toEqual([]);
  });

  it('names every alert EastwatchCamelCase (the seed\'s own names aside) with severity, summary, description and a runbook_url to its runbook', () => {
    const groups = parse(files.get('alerts/rules/eastwatch.rules.yml')!).groups as { name: string; rules: Record<string, any>[] }[];
    const rules = groups.flatMap((g) => g.rules);
    expect(rules).toHaveLength(ALERT_RULES.length);
    for (const r of rules) {
      if (!r.alert.startsWith('Training')) expect(r.alert).toMatch(/^Eastwatch[A-Z][A-Za-z]+$/);
      // A detector's alerts carry severity and detector from their series: its expression keeps both labels.
      expect([r.alert, r.labels?.severity !== undefined || /by \(detector, severity\)/.test(r.expr)]).toEqual([r.alert, true]);
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
      expect(files.has(`docs/runbooks/${r.annotations.runbook_url.split('/').at(-1)}`)).toBe(true);
    }
  });
});
