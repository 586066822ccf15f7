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
