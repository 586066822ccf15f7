/**
 * The detector registry: every detector with what it is, built from the config. The one list the detectors
 * stage, the docs and the generated alert rules read.
 */
import type { DetectorsConfig } from './config';
import type { StreamingDetector, WindowedDetector } from './detector';
import { EgressSpike } from './egress-spike';
import type { DetectorName } from './finding';
import { NewDestination } from './new-destination';
import { OutsideAllocation } from './outside-allocation';
import { PolicyDenied } from './policy-denied';
import { Scan } from './scan';
import { SeedEgressVolume } from './seed-egress-volume';
import { TopologyMismatch } from './topology-mismatch';
import { TrafficShare } from './traffic-share';
import { ZoneViolation } from './zone-violation';

export interface DetectorInfo {
  name: DetectorName;
  /** Where it runs: on the flows topic, on the rollups, or both halves. */
  kind: 'streaming' | 'windowed' | 'both';
  /** What it flags, in one line. */
  description: string;
  /** Kept to be scored beside another (the seed's rule), not for its own alerts: scores count it apart. */
  comparison?: true;
}

export const DETECTORS: readonly DetectorInfo[] = [
  { name: 'outside-allocation', kind: 'streaming', description: 'a node or pod of a running job exchanges traffic with a node outside its allocation that is no shared service' },
  { name: 'topology-mismatch', kind: 'both', description: "back-end traffic off the job's collective pattern: a new edge, a rail crossing, a node whose share of the job's traffic departs from its peers'" },
  { name: 'egress-spike', kind: 'windowed', description: 'egress to unapproved destinations: a new one however slowly, or a known one above its hour-of-week baseline' },
  { name: 'seed-egress-volume', kind: 'windowed', description: "the seed's rule: a zone's 10-minute egress rate above 1.5x its 7-day average (off by default, for comparison)", comparison: true },
  { name: 'zone-violation', kind: 'streaming', description: "a flow the inventory's zone matrix does not allow, or egress that does not go through the proxy" },
  { name: 'policy-denied', kind: 'streaming', description: 'Hubble policy drops (POLICY_DENIED) and requests the egress proxy refused' },
  { name: 'scan', kind: 'streaming', description: 'one source contacting many hosts, or many ports of one host, outside its job within a window' },
  { name: 'new-destination', kind: 'windowed', description: 'a node of a sensitive zone sending to a destination absent from its history' },
];

export function streamingDetectors(cfg: DetectorsConfig): StreamingDetector[] {
  const all: StreamingDetector[] = [
    new OutsideAllocation(),
    new TopologyMismatch({ learnMs: cfg.topologyLearnMs, minFlows: cfg.topologyMinFlows }),
    new ZoneViolation(),
    new PolicyDenied(),
    new Scan({ windowMs: cfg.scanWindowMs, hosts: cfg.scanHosts, ports: cfg.scanPorts }),
  ];
  return all.filter((d) => cfg.enabled.includes(d.name));
}

export function windowedDetectors(cfg: DetectorsConfig): WindowedDetector[] {
  const all: WindowedDetector[] = [
    new EgressSpike({
      lookbackMs: cfg.egressLookbackMs, historyMs: cfg.egressHistoryMs, newBytes: cfg.egressNewBytes, spikeBytes: cfg.egressSpikeBytes,
      mads: cfg.egressSpikeMads, minSamples: cfg.egressMinSamples,
    }),
    new SeedEgressVolume(),
    new TrafficShare({ factor: cfg.topologyShareFactor, minBytes: cfg.topologyShareMinBytes }),
    new NewDestination({ historyMs: cfg.egressHistoryMs, windowMs: cfg.newDestinationWindowMs, warmupMs: cfg.newDestinationWarmupMs }),
  ];
  return all.filter((d) => cfg.enabled.includes(d.name));
}
