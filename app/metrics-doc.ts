/**
 * The README's metrics table, from the registry itself: every eastwatch_ metric with its type, labels, help and
 * the bound on its series. A metric without a stated bound fails the docs test, so none can grow unbounded
 * unnoticed (spoofed packets must not be able to multiply series).
 */
import { registry } from '../core/metrics';
// Registered on import: every module that defines metrics.
import '../alerts/metrics';
import '../allocations/metrics';
import '../detectors/metrics';
import '../ingest/metrics';
import '../inventory/metrics';

const DETECTORS = 'detectors (8)';
const EXPORTERS = 'exporters with their own series, at most `EASTWATCH_MAX_EXPORTERS` (the rest are `other`)';

/** The most series each metric can have, and why. */
export const SERIES_BOUNDS: Record<string, string> = {
  eastwatch_records_in_total: 'stages x sources: fixed names in code (collector sources are protocols)',
  eastwatch_records_out_total: 'stages (fixed)',
  eastwatch_records_failed_total: `stages x reasons (fixed) x sources: ${EXPORTERS}`,
  eastwatch_records_dropped_total: 'stages x reasons (fixed)',
  eastwatch_dead_letter_total: 'stages x reasons (fixed)',
  eastwatch_kafka_consumer_lag: 'consumer groups x topics x partitions (configured)',
  eastwatch_clickhouse_insert_seconds: 'tables (fixed) x buckets',
  eastwatch_clickhouse_inserted_rows_total: 'tables (fixed)',
  eastwatch_collector_packets_total: `protocols (4) x ${EXPORTERS}`,
  eastwatch_collector_lost_total: `protocols (4) x ${EXPORTERS}`,
  eastwatch_collector_receive_drops_total: 'UDP protocols (3) x where (kernel, reader)',
  eastwatch_collector_exporters_forgotten_total: 'reasons (fixed)',
  eastwatch_collector_tcp_sessions_closed_total: 'reasons (fixed)',
  eastwatch_collector_exporters: 'one',
  eastwatch_collector_templates: 'one',
  eastwatch_inventory_reloads_total: 'results (2)',
  eastwatch_inventory_stale: 'one',
  eastwatch_inventory_loaded_timestamp_seconds: 'one',
  eastwatch_allocation_last_event_timestamp_seconds: 'feeds (enrich, detectors)',
  eastwatch_detector_findings_total: DETECTORS,
  eastwatch_detector_windowed_runs_total: `${DETECTORS} x results (2)`,
  eastwatch_detector_lag_seconds: 'one',
  eastwatch_egress_bytes_total: "inventory zones x namespaces (at most 100 with their own series, the rest `other`)",
  eastwatch_egress_baseline_bytes_per_second: "inventory zones x namespaces (at most 100, the rest `other`)",
  eastwatch_alerts_raised_total: `${DETECTORS} x severities (3) x (inventory zones + 1)^2 (zone names come from the inventory)`,
  eastwatch_alerts_firing: `${DETECTORS} x severities (3)`,
  eastwatch_alertmanager_alerts_total: 'results (3)',
  eastwatch_alerts_suppressed_total: DETECTORS,
  eastwatch_suppressions_active: 'one',
  eastwatch_webhook_deliveries_total: 'results (4)',
};

/** prom-client's default process and Node.js metrics, under the same prefix. */
const isDefault = (name: string) => /^eastwatch_(process_|nodejs_)/.test(name);

interface Described {
  name: string;
  help: string;
  type: string;
  labelNames?: readonly string[];
}

export function eastwatchMetrics(): Described[] {
  return (registry.getMetricsAsArray() as unknown as Described[])
    .filter((m) => !isDefault(m.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function metricsMarkdown(): string {
  const rows = eastwatchMetrics().map((m) =>
    `| \`${m.name}\` | ${m.type} | ${(m.labelNames ?? []).map((l) => `\`${l}\``).join(', ') || '-'} | ${m.help} | ${SERIES_BOUNDS[m.name] ?? '(unstated)'} |`);
  return ['| metric | type | labels | meaning | series, at most |', '|---|---|---|---|---|', ...rows].join('\n');
}
