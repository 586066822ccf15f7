/**
 * The catalog as files: a Prometheus rules file, the same groups as a Kubernetes PrometheusRule
 * (monitoring.coreos.com/v1), and a runbook per alert. Pure functions of the catalog: the generator writes
 * what they return and a test keeps the committed files equal to it.
 */
import { stringify } from 'yaml';
import { ALERT_RULES, type AlertRule, RULE_GROUPS, runbookUrl } from './catalog';

const HEADER = '# Generated from alerts/rules/catalog.ts by `npm run gen:monitoring`: edit the catalog, not this file.\n';

function ruleOf(r: AlertRule, base?: string) {
  return {
    alert: r.alert,
    expr: r.expr,
    ...(r.for ? { for: r.for } : {}),
    ...(r.severity ? { labels: { severity: r.severity } } : {}),
    annotations: { summary: r.summary, description: r.description, runbook_url: runbookUrl(r.alert, base) },
  };
}

export function ruleGroups(rules: readonly AlertRule[] = ALERT_RULES, base?: string) {
  return RULE_GROUPS.map((name) => ({ name, rules: rules.filter((r) => r.group === name).map((r) => ruleOf(r, base)) }));
}

const yaml = (doc: unknown) => stringify(doc, { lineWidth: 0 });

/** The Prometheus rules file (rule_files:). */
export function rulesFile(base?: string): string {
  return HEADER + yaml({ groups: ruleGroups(ALERT_RULES, base) });
}

/** The same groups for the Prometheus Operator; its labels must match the Prometheus resource's ruleSelector. */
export function prometheusRule(base?: string): string {
  return HEADER + yaml({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'eastwatch', labels: { 'app.kubernetes.io/name': 'eastwatch', 'app.kubernetes.io/component': 'alert-rules' } },
    spec: { groups: ruleGroups(ALERT_RULES, base) },
  });
}

export function runbook(r: AlertRule): string {
  const labels = r.severity ? `severity \`${r.severity}\`` : 'severity and detector from the alerts behind it';
  return [
    `<!-- ${HEADER.slice(2).trim()} -->`,
    `# ${r.alert}`,
    '',
    `**${r.summary}** Group \`${r.group}\`, ${labels}${r.for ? `, fires after ${r.for}` : ', fires on the first evaluation'}.`,
    '',
    '```promql',
    r.expr,
    '```',
    '',
    '## What it means',
    '',
    r.runbook.meaning,
    '',
    '## Triage',
    '',
    ...r.runbook.triage.map((t, i) => `${i + 1}. ${t}`),
    '',
    '## Evidence',
    '',
    r.runbook.evidence.startsWith('SELECT') ? '```sql' : '```',
    r.runbook.evidence,
    '```',
    '',
    '## Silencing',
    '',
    r.runbook.silence,
    '',
  ].join('\n');
}

export function runbookIndex(): string {
  return [
    `<!-- ${HEADER.slice(2).trim()} -->`,
    '# Runbooks',
    '',
    'One per alert eastwatch ships in `alerts/rules/` (its `runbook_url` points here).',
    '',
    ...RULE_GROUPS.flatMap((g) => [`## ${g}`, '', ...ALERT_RULES.filter((r) => r.group === g).map((r) => `- [${r.alert}](${r.alert}.md): ${r.summary}`), '']),
  ].join('\n');
}

/** Every generated file, by path from the repository root. */
export function monitoringFiles(): Map<string, string> {
  const files = new Map<string, string>([
    ['alerts/rules/eastwatch.rules.yml', rulesFile()],
    ['alerts/rules/eastwatch.prometheusrule.yaml', prometheusRule()],
    ['docs/runbooks/README.md', runbookIndex()],
  ]);
  for (const r of ALERT_RULES) files.set(`docs/runbooks/${r.alert}.md`, runbook(r));
  return files;
}
