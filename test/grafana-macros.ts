/**
 * The grafana-clickhouse-datasource plugin's macros and Grafana's variable interpolation, as they expand before
 * a query reaches ClickHouse (plugin v4, pkg/macros/macros.go; $__conditionalAll in its frontend): so a panel's
 * query can run on chDB as Grafana would send it.
 */
export interface Expansion {
  from: number;
  to: number;
  /** Grafana's $__interval for the panel, in seconds. */
  intervalSec: number;
  /** Variable values; an array for a multi-value selection, '$__all' for All. */
  vars: Record<string, string | string[]>;
}

const secs = (ms: number) => Math.floor(ms / 1000);
const isAll = (v: string | string[] | undefined) => v === undefined || v === '$__all' || (Array.isArray(v) && (v.length === 0 || v.includes('$__all')));

export function expandClickHouse(sql: string, e: Expansion): string {
  const value = (name: string, format?: string): string => {
    const v = e.vars[name];
    if (v === undefined) throw new Error(`variable ${name} has no value`);
    const list = Array.isArray(v) ? v : [v];
    return format === 'singlequote' ? list.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(',') : list.join(',');
  };
  return sql
    // $__conditionalAll(cond, $var): the condition only when the variable is not All.
    .replace(/\$__conditionalAll\(([\s\S]*?),\s*\$\{?(\w+)\}?\)/g, (_m, cond: string, name: string) => (isAll(e.vars[name]) ? '1=1' : cond))
    .replace(/\$__timeFilter\((\w+)\)/g, (_m, c: string) => `${c} >= toDateTime(${secs(e.from)}) AND ${c} <= toDateTime(${secs(e.to)})`)
    .replace(/\$__timeInterval\((\w+)\)/g, (_m, c: string) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${Math.max(1, e.intervalSec)} second)`)
    .replace(/\$__interval_s\b/g, String(Math.max(1, e.intervalSec)))
    .replace(/\$__fromTime\b/g, `toDateTime(${secs(e.from)})`)
    .replace(/\$__toTime\b/g, `toDateTime(${secs(e.to)})`)
    .replace(/\$\{(\w+)(?::(\w+))?\}/g, (_m, name: string, format?: string) => value(name, format))
    .replace(/\$(\w+)/g, (_m, name: string) => value(name));
}

/** Grafana's own variables in a Prometheus panel query. */
export const expandPrometheus = (expr: string, rateInterval: string) => expr.replace(/\$__rate_interval/g, rateInterval);
