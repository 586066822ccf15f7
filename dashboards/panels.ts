/**
 * What the dashboards share: the two data sources, a ClickHouse query for the official plugin
 * (grafana-clickhouse-datasource, SQL editor: its macros $__timeFilter, $__timeInterval, $__interval_s and
 * $__conditionalAll), Prometheus queries, and the template variables. The foundation SDK has no query type
 * for the ClickHouse plugin: its Dataquery is a marker interface, implemented here by a plain object.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  ConstantVariableBuilder, DashboardBuilder, DashboardCursorSync, QueryVariableBuilder, TextBoxVariableBuilder, VariableRefresh, VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PrometheusQuery } from '@grafana/grafana-foundation-sdk/prometheus';

export const CLICKHOUSE: DataSourceRef = { type: 'grafana-clickhouse-datasource', uid: 'eastwatch-clickhouse' };
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'eastwatch-prometheus' };
/** The plugin version the queries are written for (v4: editorType sql, queryType table or timeseries). */
const PLUGIN_VERSION = '4.11.0';

export interface ClickHouseQuery extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  rawSql: string;
  /** 0: time series, 1: table. */
  format: 0 | 1;
  queryType: 'timeseries' | 'table';
  editorType: 'sql';
  pluginVersion: string;
}

/** A ClickHouse panel query; tables are `${database}.name` (the dashboards' database variable). */
export function clickhouse(rawSql: string, kind: 'timeseries' | 'table', refId = 'A'): cog.Builder<cog.Dataquery> {
  const q: ClickHouseQuery = {
    refId, datasource: CLICKHOUSE, rawSql, format: kind === 'table' ? 1 : 0, queryType: kind, editorType: 'sql', pluginVersion: PLUGIN_VERSION,
    _implementsDataqueryVariant() {},
  };
  return { build: () => q };
}

export function prometheus(expr: string, legend: string, refId = 'A'): PrometheusQuery {
  return new PrometheusQuery().expr(expr).legendFormat(legend).refId(refId).datasource(PROMETHEUS);
}

/** A dashboard with eastwatch's defaults and the `database` constant every ClickHouse query names its tables with. */
export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title).uid(uid).description(description).tags(['eastwatch']).tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' }).refresh('1m').timezone('utc').editable()
    .withVariable(new ConstantVariableBuilder('database').value('eastwatch').description('ClickHouse database of eastwatch (CLICKHOUSE_DATABASE)'));
}

/** A multi-value variable over a ClickHouse column, with All (empty selection means All to $__conditionalAll). */
export function chVariable(name: string, label: string, sql: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name).label(label).datasource(CLICKHOUSE).query({ rawSql: sql, editorType: 'sql', format: 1 })
    .multi(true).includeAll(true).refresh(VariableRefresh.OnTimeRangeChanged).sort(VariableSort.AlphabeticalAsc);
}

/** The inventory's default zone (the internet): egress is traffic to it. */
export const defaultZoneVariable = () => new TextBoxVariableBuilder('default_zone').label('Default zone').defaultValue('internet')
  .description("The inventory's defaultZone: traffic to it is egress");
