/** Jobs: per-job traffic, the observed back-end edges beside the expected ones, and edges outside the allocation. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { chVariable, clickhouse, CLICKHOUSE, dashboard } from './panels';

const JOB = (col: string) => `$__conditionalAll(${col} IN (\${job:singlequote}), $job)`;

export function jobsDashboard(): Dashboard {
  return dashboard('eastwatch-jobs', 'eastwatch / Jobs', "Per-job traffic, the observed collective graph beside the expected one, and traffic outside a job's allocation")
    .withVariable(chVariable('job', 'Job', "SELECT DISTINCT src_job FROM ${database}.flows_1m WHERE $__timeFilter(minute) AND src_job != ''"))
    .withPanel(new TimeSeries().id(1).title('Traffic per job').description('Bytes sent by the members of each job (per-minute rollup)')
      .datasource(CLICKHOUSE).unit('Bps').gridPos({ h: 8, w: 24, x: 0, y: 0 })
      .withTarget(clickhouse(`SELECT $__timeInterval(minute) AS time, src_job, sum(bytes) / $__interval_s AS bytes_per_second
FROM \${database}.flows_1m WHERE $__timeFilter(minute) AND src_job != '' AND ${JOB('src_job')}
GROUP BY time, src_job ORDER BY time`, 'timeseries')))
    .withPanel(new Table().id(2).title('Observed back-end edges').description('Member to member inside a job, with the rails of both ends: a crossing shows as two different rails')
      .datasource(CLICKHOUSE).gridPos({ h: 10, w: 12, x: 0, y: 8 })
      .withTarget(clickhouse(`SELECT src_job AS job, src_node, dst_node, src_rail, dst_rail, sum(ifNull(bytes, 0) * sampling_rate) AS bytes, count() AS flows
FROM \${database}.flows WHERE $__timeFilter(time_end) AND src_job != '' AND src_job = dst_job AND ${JOB('src_job')}
GROUP BY job, src_node, dst_node, src_rail, dst_rail ORDER BY bytes DESC LIMIT 200`, 'table')))
    .withPanel(new Table().id(3).title('Expected edges').description("Each member's peers as imported with the allocation (NCCL's graph); empty where the pattern is learned")
      .datasource(CLICKHOUSE).gridPos({ h: 10, w: 12, x: 12, y: 8 })
      .withTarget(clickhouse(`SELECT job_id AS job, node, arrayJoin(peers) AS expected_peer, pattern
FROM \${database}.allocations FINAL
WHERE start <= $__toTime AND (end IS NULL OR end >= $__fromTime) AND ${JOB('job_id')}
ORDER BY job, node, expected_peer LIMIT 1000`, 'table')))
    .withPanel(new Table().id(4).title('Edges outside the allocation').description("outside-allocation alerts: a job's member and a peer that is neither in its allocation nor a shared service")
      .datasource(CLICKHOUSE).gridPos({ h: 8, w: 24, x: 0, y: 18 })
      .withTarget(clickhouse(`SELECT time, severity, src_job, src_node, dst_node, dst_job, dst_port, flows, bytes, summary
FROM \${database}.alerts FINAL
WHERE detector = 'outside-allocation' AND $__timeFilter(time) AND ${JOB('src_job')}
ORDER BY time DESC LIMIT 100`, 'table')))
    .build();
}
