/**
 * The generated Grafana dashboards: valid dashboard JSON (test/grafana-dashboard.ts), panels that neither
 * overlap nor leave the grid, unique ids and refIds, every data source one the provisioning defines, every
 * variable a query names defined, ClickHouse queries on eastwatch's tables with the plugin's macros, and the
 * rollups (not raw flows) behind the panels meant for long ranges. Running every query is the integration test's.
 */
import { parse } from 'yaml';
import { dashboardFiles, DASHBOARDS } from '../../dashboards';
import { DashboardSchema } from '../grafana-dashboard';

const files = dashboardFiles();
const dashboards = DASHBOARDS.map((build) => DashboardSchema.parse(JSON.parse(files.get(`dashboards/json/${build().uid}.json`)!)));
const provisioned = parse(files.get('dashboards/provisioning/datasources/eastwatch.yaml')!).datasources as { uid: string; type: string }[];
const BUILTIN = new Set(['__timeFilter', '__timeInterval', '__interval_s', '__conditionalAll', '__fromTime', '__toTime', '__rate_interval']);

describe('the dashboards', () => {
  it('are the four views: fabric health, egress, jobs, alerts', () => {
    expect(dashboards.map((d) => d.uid)).toEqual(['eastwatch-fabric', 'eastwatch-egress', 'eastwatch-jobs', 'eastwatch-alerts']);
    // The schema refuses what Grafana would: a panel off the grid, a dashboard without its schema version.
    const [d] = dashboards;
    expect(DashboardSchema.safeParse({ ...d, panels: [{ ...d!.panels[0]!, gridPos: { h: 8, w: 30, x: 0, y: 0 } }] }).success).toBe(false);
    expect(DashboardSchema.safeParse({ ...d, schemaVersion: undefined }).success).toBe(false);
  });

  it.each(dashboards.map((d) => [d.uid, d] as const))('%s: panels on the grid without overlap, unique ids and refIds', (_uid, d) => {
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    for (const p of d.panels) expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect([p.title, cells.has(`${x},${y}`)]).toEqual([p.title, false]);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it.each(dashboards.map((d) => [d.uid, d] as const))('%s: provisioned data sources, defined variables, eastwatch tables by the database variable', (_uid, d) => {
    const vars = new Set(d.templating.list.map((v) => v.name));
    for (const p of d.panels) {
      for (const t of p.targets) {
        expect(provisioned).toContainEqual(expect.objectContaining(t.datasource));
        expect(t.datasource).toEqual(p.datasource);
        const text = 'rawSql' in t ? t.rawSql : t.expr;
        for (const [, name] of text.matchAll(/\$\{?(\w+)/g)) expect([p.title, name, vars.has(name!) || BUILTIN.has(name!)]).toEqual([p.title, name, true]);
        if ('rawSql' in t) {
          expect(t.rawSql).toMatch(/\$__timeFilter\(|\$__fromTime/);
          for (const [, table] of t.rawSql.matchAll(/FROM (\S+)/g)) if (!table!.startsWith('(')) expect(table).toMatch(/^\$\{database\}\.\w+$/);
          if (t.format === 0) expect(t.rawSql).toMatch(/^SELECT (\$__timeInterval\(\w+\) AS )?time\b/);
        }
      }
    }
  });

  it('reads the rollups for traffic volumes, raw flows only where a rollup lacks the columns', () => {
    const sql = dashboards.flatMap((d) => d.panels.flatMap((p) => p.targets.flatMap((t) => ('rawSql' in t ? [[`${d.uid}/${p.title}`, t.rawSql] as const] : []))));
    const raw = sql.filter(([, s]) => /\$\{database\}\.flows\b/.test(s)).map(([k]) => k);
    expect(raw).toEqual([
      'eastwatch-fabric/Flows/s by fabric', 'eastwatch-egress/Denied requests and policy drops', 'eastwatch-jobs/Observed back-end edges',
    ]);
  });
});
