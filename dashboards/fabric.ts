/** Fabric health: what the exporters send and what is lost on the way, interface errors, top talkers, zone pairs. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { chVariable, clickhouse, CLICKHOUSE, dashboard, prometheus, PROMETHEUS } from './panels';

const ZONE = '$__conditionalAll(src_zone IN (${zone:singlequote}), $zone)';

export function fabricDashboard(): Dashboard {
  return dashboard('eastwatch-fabric', 'eastwatch / Fabric health', 'Flows per exporter and fabric, drops and sequence loss, interface errors and discards, top talkers and the zone-pair matrix')
    .withVariable(chVariable('zone', 'Source zone', 'SELECT DISTINCT src_zone FROM ${database}.flows_1m WHERE $__timeFilter(minute)'))
    .withPanel(new TimeSeries().id(1).title('Flows/s by fabric').description('Flow records by where they were observed (dpu, switch, hubble, proxy)')
      .datasource(CLICKHOUSE).unit('reqps').gridPos({ h: 8, w: 12, x: 0, y: 0 })
      .withTarget(clickhouse(`SELECT $__timeInterval(time_end) AS time, observation_point AS fabric, count() / $__interval_s AS flows_per_second
FROM \${database}.flows WHERE $__timeFilter(time_end) AND ${ZONE}
GROUP BY time, fabric ORDER BY time`, 'timeseries')))
    .withPanel(new TimeSeries().id(2).title('Export packets/s per exporter').description('From the collectors: exporters without their own series count as other')
      .datasource(PROMETHEUS).unit('pps').gridPos({ h: 8, w: 12, x: 12, y: 0 })
      .withTarget(prometheus('sum by (protocol, exporter) (rate(eastwatch_collector_packets_total[$__rate_interval]))', '{{protocol}} {{exporter}}')))
    .withPanel(new TimeSeries().id(3).title('Dropped and rejected records/s').datasource(PROMETHEUS).unit('reqps').gridPos({ h: 8, w: 12, x: 0, y: 8 })
      .withTarget(prometheus('sum by (stage, reason) (rate(eastwatch_records_dropped_total[$__rate_interval]))', 'dropped {{stage}} {{reason}}'))
      .withTarget(prometheus('sum by (stage, reason) (rate(eastwatch_records_failed_total[$__rate_interval]))', 'rejected {{stage}} {{reason}}', 'B')))
    .withPanel(new TimeSeries().id(4).title('Sequence loss/s per exporter').description('Records (IPFIX) or export packets (NetFlow v9, sFlow) missing by sequence numbers')
      .datasource(PROMETHEUS).unit('short').gridPos({ h: 8, w: 12, x: 12, y: 8 })
      .withTarget(prometheus('sum by (protocol, exporter) (rate(eastwatch_collector_lost_total[$__rate_interval]))', '{{protocol}} {{exporter}}')))
    .withPanel(new TimeSeries().id(5).title('Interface errors and discards').description('From the switches\' sFlow counter samples: increases per interval over every port')
      .datasource(CLICKHOUSE).unit('short').gridPos({ h: 8, w: 12, x: 0, y: 16 })
      .withTarget(clickhouse(`SELECT time, sum(errors) AS errors, sum(discards) AS discards FROM (
  SELECT $__timeInterval(time_received) AS time, exporter_address, if_index,
    max(in_errors + out_errors) - min(in_errors + out_errors) AS errors,
    max(in_discards + out_discards) - min(in_discards + out_discards) AS discards
  FROM \${database}.interface_counters WHERE $__timeFilter(time_received)
  GROUP BY time, exporter_address, if_index)
GROUP BY time ORDER BY time`, 'timeseries')))
    .withPanel(new Table().id(6).title('Top talkers').description('Bytes sent, scaled by sampling, from the per-minute rollup').datasource(CLICKHOUSE)
      .gridPos({ h: 8, w: 12, x: 12, y: 16 })
      .withTarget(clickhouse(`SELECT replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS source, any(src_zone) AS zone, any(src_job) AS job, sum(bytes) AS bytes, sum(flows) AS flows
FROM \${database}.flows_1m WHERE $__timeFilter(minute) AND ${ZONE}
GROUP BY source ORDER BY bytes DESC LIMIT 20`, 'table')))
    .withPanel(new Table().id(7).title('Zone-pair matrix').description('Bytes between zones, from the per-minute rollup').datasource(CLICKHOUSE)
      .gridPos({ h: 10, w: 24, x: 0, y: 24 })
      .withTarget(clickhouse(`SELECT src_zone, dst_zone, sum(bytes) AS bytes, sum(flows) AS flows
FROM \${database}.flows_1m WHERE $__timeFilter(minute) AND ${ZONE}
GROUP BY src_zone, dst_zone ORDER BY bytes DESC`, 'table')))
    .build();
}
