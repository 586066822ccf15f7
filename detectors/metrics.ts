/** The detectors' metrics: findings per detector (bounded by the detector names). */
import * as client from 'prom-client';
import { registry } from '../core/metrics';

export const findingsTotal = new client.Counter({
  name: 'eastwatch_detector_findings_total',
  help: 'Findings detectors reported (each joins an alert\'s episode), by detector',
  labelNames: ['detector'] as const,
  registers: [registry],
});

export const windowedRuns = new client.Counter({
  name: 'eastwatch_detector_windowed_runs_total',
  help: 'Evaluations of the windowed detectors over the rollups, by detector and result (ok, error)',
  labelNames: ['detector', 'result'] as const,
  registers: [registry],
});

/** Zones come from the inventory, namespaces are capped (egress-meter.ts): zones x 101 series at most. */
export const egressBytes = new client.Counter({
  name: 'eastwatch_egress_bytes_total',
  help: 'Bytes sent out of the cluster (through the proxy, or straight to the default zone), scaled by sampling rate, by source zone and Kubernetes namespace ("" outside Kubernetes)',
  labelNames: ['zone', 'namespace'] as const,
  registers: [registry],
});

export const egressBaseline = new client.Gauge({
  name: 'eastwatch_egress_baseline_bytes_per_second',
  help: 'Average egress rate over the last 7 days of the hourly rollup (the hours it holds), by source zone and namespace: the baseline of eastwatch_egress_bytes_total',
  labelNames: ['zone', 'namespace'] as const,
  registers: [registry],
});

export const detectorLag = new client.Gauge({
  name: 'eastwatch_detector_lag_seconds',
  help: 'Wall-clock time from a flow reaching the flows topic to the streaming detectors judging it (the settle delay included), for the last batch',
  registers: [registry],
});
