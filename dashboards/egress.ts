/** Egress: per zone and namespace against the baseline, top destinations, denied requests and policy drops. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { chVariable, clickhouse, CLICKHOUSE, dashboard, defaultZoneVariable, prometheus, PROMETHEUS } from './panels';

/** Egress as the detectors count it: through the proxy, or straight to the default zone. */
const EGRESS = "(via = 'proxy' OR dst_zone = '${default_zone}') AND $__conditionalAll(src_zone IN (${zone:singlequote}), $zone)";

export function egressDashboard(): Dashboard {
  return dashboard('eastwatch-egress', 'eastwatch / Egress', 'Egress per zone and namespace against its 7-day baseline, top destinations, denied requests and policy drops')
    .withVariable(chVariable('zone', 'Source zone', 'SELECT DISTINCT src_zone FROM ${database}.egress_5m WHERE $__timeFilter(bucket)'))
    .withVariable(defaultZoneVariable())
    .withPanel(new TimeSeries().id(1).title('Egress per zone and namespace, and its baseline').description('eastwatch_egress_bytes_total against eastwatch_egress_baseline_bytes_per_second (7-day average of the hourly rollup)')
      .datasource(PROMETHEUS).unit('Bps').gridPos({ h: 9, w: 24, x: 0, y: 0 })
      .withTarget(prometheus('sum by (zone, namespace) (rate(eastwatch_egress_bytes_total[$__rate_interval]))', '{{zone}} {{namespace}}'))
      .withTarget(prometheus('max by (zone, namespace) (eastwatch_egress_baseline_bytes_per_second)', 'baseline {{zone}} {{namespace}}', 'B')))
    .withPanel(new TimeSeries().id(2).title('Egress per zone (rollup)').description('From the 5-minute egress rollup: fit for long ranges')
      .datasource(CLICKHOUSE).unit('Bps').gridPos({ h: 8, w: 12, x: 0, y: 9 })
      .withTarget(clickhouse(`SELECT $__timeInterval(bucket) AS time, src_zone, sum(bytes) / $__interval_s AS bytes_per_second
FROM \${database}.egress_5m WHERE $__timeFilter(bucket) AND ${EGRESS}
GROUP BY time, src_zone ORDER BY time`, 'timeseries')))
    .withPanel(new Table().id(3).title('Top destinations').datasource(CLICKHOUSE).gridPos({ h: 8, w: 12, x: 12, y: 9 })
      .withTarget(clickhouse(`SELECT destination, via, groupUniqArray(10)(src_zone) AS zones, sum(bytes) AS bytes, sum(flows) AS requests
FROM \${database}.egress_5m WHERE $__timeFilter(bucket) AND ${EGRESS}
GROUP BY destination, via ORDER BY bytes DESC LIMIT 20`, 'table')))
    .withPanel(new TimeSeries().id(4).title('Denied requests and policy drops').description('Requests the egress proxy refused, and Hubble policy drops')
      .datasource(CLICKHOUSE).unit('short').gridPos({ h: 8, w: 24, x: 0, y: 17 })
      .withTarget(clickhouse(`SELECT $__timeInterval(time_end) AS time,
  countIf(source_kind = 'proxy' AND verdict = 'DENIED') AS proxy_denied,
  countIf(verdict = 'DROPPED' AND drop_reason LIKE 'POLICY_DEN%') AS policy_dropped
FROM \${database}.flows WHERE $__timeFilter(time_end) AND verdict IN ('DENIED', 'DROPPED') AND $__conditionalAll(src_zone IN (\${zone:singlequote}), $zone)
GROUP BY time ORDER BY time`, 'timeseries')))
    .build();
}
