/** Alerts: raised over time by detector and severity, firing now, and the open queue. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { clickhouse, CLICKHOUSE, dashboard, prometheus, PROMETHEUS } from './panels';

export function alertsDashboard(): Dashboard {
  return dashboard('eastwatch-alerts', 'eastwatch / Alerts', 'Alerts raised over time by detector and severity, firing now, and the open ones')
    .withPanel(new Stat().id(1).title('Firing now').description('Alerts the detectors hold as firing, by severity').datasource(PROMETHEUS)
      .gridPos({ h: 5, w: 8, x: 0, y: 0 })
      .withTarget(prometheus('sum by (severity) (max by (detector, severity) (eastwatch_alerts_firing))', '{{severity}}')))
    .withPanel(new TimeSeries().id(2).title('Raised per detector (Prometheus)').datasource(PROMETHEUS).unit('short').gridPos({ h: 5, w: 16, x: 8, y: 0 })
      .withTarget(prometheus('sum by (detector, severity) (increase(eastwatch_alerts_raised_total[$__rate_interval]))', '{{detector}} {{severity}}')))
    .withPanel(new TimeSeries().id(3).title('Raised over time by detector and severity').description('By the event time of the traffic that made each alert')
      .datasource(CLICKHOUSE).unit('short').gridPos({ h: 8, w: 24, x: 0, y: 5 })
      .withTarget(clickhouse(`SELECT $__timeInterval(time) AS time, concat(detector, ' ', severity) AS detector_severity, count() AS alerts
FROM \${database}.alerts FINAL WHERE $__timeFilter(time)
GROUP BY time, detector_severity ORDER BY time`, 'timeseries')))
    .withPanel(new Table().id(4).title('Open alerts').description('Not yet acknowledged or closed by an analyst (eastwatch alerts status)')
      .datasource(CLICKHOUSE).gridPos({ h: 12, w: 24, x: 0, y: 13 })
      .withTarget(clickhouse(`SELECT a.time, a.severity, a.detector, a.state, a.summary, a.src_node, a.dst_node, a.flows, a.bytes, a.alert_id
FROM (SELECT * FROM \${database}.alerts FINAL WHERE $__timeFilter(time)) AS a
LEFT JOIN (SELECT alert_id, argMax(status, updated_at) AS status FROM \${database}.alert_triage GROUP BY alert_id) AS t ON a.alert_id = t.alert_id
WHERE t.status = '' OR t.status = 'open'
ORDER BY a.time DESC LIMIT 200`, 'table')))
    .build();
}
