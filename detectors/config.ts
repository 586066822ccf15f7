/** The detectors' config section: which run, and each one's thresholds. */
import { z } from 'zod';
import { leaf } from '../core/config';
import { DETECTOR_NAMES } from './finding';

const ms = (min: number, max: number) => z.number().int().min(min).max(max);
const MIN = 60_000;
const DAY = 24 * 3600e3;

export const DetectorsConfigSchema = z.strictObject({
  enabled: leaf(
    z.array(z.enum(DETECTOR_NAMES)).default(DETECTOR_NAMES.filter((d) => d !== 'seed-egress-volume')),
    'EASTWATCH_DETECTORS',
    `Detectors to run (${DETECTOR_NAMES.join(', ')}); seed-egress-volume, the seed's rule kept for comparison, is off by default`,
  ),
  groupId: leaf(z.string().min(1).default('eastwatch-detectors'), 'EASTWATCH_DETECTORS_GROUP', 'Kafka consumer group of the streaming detectors (scale out: more processes in the group)'),
  settleMs: leaf(ms(0, 60_000).default(2000), 'EASTWATCH_DETECTORS_SETTLE_MS', 'A flow is judged once it has been this long in Kafka, so allocation events published late (a job end from an epilog) are in the timeline first'),
  graceMs: leaf(ms(0, 10 * MIN).default(15_000), 'EASTWATCH_DETECTORS_JOB_GRACE_MS', 'A node counts as its job\'s this long before the allocation starts and after it ends'),
  quietMs: leaf(ms(MIN, DAY).default(15 * MIN), 'EASTWATCH_ALERT_QUIET_MS', 'An alert\'s episode ends after this long without offending traffic (event time); more traffic after that is a new alert'),
  scanWindowMs: leaf(ms(1000, 3600e3).default(MIN), 'EASTWATCH_SCAN_WINDOW_MS', 'scan: the sliding window (event time) targets are counted in'),
  scanHosts: leaf(z.number().int().min(2).max(100_000).default(16), 'EASTWATCH_SCAN_HOSTS', 'scan: distinct hosts outside the source\'s job, probed or reached in one window, that make a scan'),
  scanPorts: leaf(z.number().int().min(2).max(65_536).default(24), 'EASTWATCH_SCAN_PORTS', 'scan: distinct ports probed on one host in one window that make a scan'),
  topologyLearnMs: leaf(ms(10_000, DAY).default(2 * MIN), 'EASTWATCH_TOPOLOGY_LEARN_MS', 'topology-mismatch: a job\'s back-end edges seen in its first this-long are its pattern (when no expected graph came with the allocation)'),
  topologyMinFlows: leaf(z.number().int().min(1).max(10_000).default(2), 'EASTWATCH_TOPOLOGY_MIN_FLOWS', 'topology-mismatch: records of a new edge before it is reported'),
  topologyShareFactor: leaf(z.number().min(1.5).max(1000).default(5), 'EASTWATCH_TOPOLOGY_SHARE_FACTOR', 'topology-mismatch: a node sending this many times its job\'s median back-end volume in 5 minutes departs from its peers'),
  topologyShareMinBytes: leaf(z.number().int().min(0).default(1 << 30), 'EASTWATCH_TOPOLOGY_SHARE_MIN_BYTES', 'topology-mismatch: ...and sent at least this much'),
  windowedIntervalMs: leaf(ms(1000, 3600e3).default(15_000), 'EASTWATCH_WINDOWED_INTERVAL_MS', 'How often the windowed detectors query the rollups'),
  egressLookbackMs: leaf(ms(MIN, 30 * DAY).default(DAY), 'EASTWATCH_EGRESS_LOOKBACK_MS', 'egress-spike: volume to a destination first seen within this long is summed (the slow case)'),
  egressHistoryMs: leaf(ms(MIN, 400 * DAY).default(7 * DAY), 'EASTWATCH_EGRESS_HISTORY_MS', 'egress-spike and new-destination: how far back a destination counts as seen before'),
  egressNewBytes: leaf(z.number().int().min(1).default(16 << 20), 'EASTWATCH_EGRESS_NEW_BYTES', 'egress-spike: bytes to a destination neither approved nor seen before that make an alert, however slowly sent'),
  egressSpikeBytes: leaf(z.number().int().min(1).default(256 << 20), 'EASTWATCH_EGRESS_SPIKE_BYTES', 'egress-spike: the least volume in 5 minutes that can be a spike against the seasonal baseline'),
  egressSpikeMads: leaf(z.number().min(1).max(1000).default(8), 'EASTWATCH_EGRESS_SPIKE_MADS', 'egress-spike: a spike is above the baseline median by this many (scaled) median absolute deviations'),
  egressMinSamples: leaf(z.number().int().min(1).max(1000).default(3), 'EASTWATCH_EGRESS_MIN_SAMPLES', 'egress-spike: hour-of-week samples the baseline needs before it judges (the warm-up)'),
  newDestinationWindowMs: leaf(ms(MIN, DAY).default(5 * MIN), 'EASTWATCH_NEW_DESTINATION_WINDOW_MS', 'new-destination: a pair first seen within this window is new'),
  newDestinationWarmupMs: leaf(ms(0, 30 * DAY).default(10 * MIN), 'EASTWATCH_NEW_DESTINATION_WARMUP_MS', 'new-destination: a node is judged once its history is this long (a fresh install learns first)'),
});

export type DetectorsConfig = z.infer<typeof DetectorsConfigSchema>;
