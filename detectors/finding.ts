/**
 * What a detector reports: one observation that belongs to an episode. A detector names the episode by its
 * `key` (the entities that define it); alerts/ turns findings into alerts, one per episode, and keeps their
 * lifecycle. Detectors never build alert records themselves, so every detector's alerts look the same.
 */
import type { Flow } from '../core/flow';
import type { Severity } from '../core/records';

/** The detectors, by the names alerts, metrics and rules carry. */
export const DETECTOR_NAMES = [
  'outside-allocation', 'topology-mismatch', 'egress-spike', 'seed-egress-volume', 'zone-violation', 'policy-denied', 'scan',
  'new-destination',
] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** The endpoints an alert names; every field optional, set where it applies. */
export interface Entities {
  src_addr?: string;
  src_node?: string;
  src_zone?: string;
  src_job?: string;
  src_pod?: string;
  dst_addr?: string;
  dst_node?: string;
  dst_zone?: string;
  dst_job?: string;
  dst_port?: number;
  protocol?: number;
}

/** A flow as evidence: the keys an analyst looks it up by, and its volume (scaled by sampling). */
export interface FlowKey {
  time_start: number;
  time_end: number;
  exporter: string;
  src_addr: string;
  src_port: number;
  dst_addr: string;
  dst_port: number;
  protocol: number;
  bytes: number | null;
  verdict?: string;
  proxy_host?: string;
}

export interface Finding {
  detector: DetectorName;
  severity: Severity;
  /** The entities that define the episode: the fingerprint is the detector and these. */
  key: string[];
  /** Event time of the traffic that made the finding (a flow's end, a window's end). */
  time: number;
  /** Event times of the offending traffic the finding covers. */
  first: number;
  last: number;
  flows: number;
  /** Bytes scaled by sampling; 0 when the source does not count bytes (Hubble). */
  bytes: number;
  /**
   * Increments add to the episode's counts (a streaming detector's flow); totals replace them when larger (a
   * windowed detector re-reads the whole window, and must not count it twice).
   */
  counts: 'increment' | 'total';
  /** One human line without the counts, e.g. "gpu012 (job 88213) opened SSH to gpu031, outside its allocation". */
  summary: string;
  entities: Entities;
  /** The offending flow, kept among the episode's top flows. */
  flow?: FlowKey;
  /** When eastwatch received the flow that made the finding (wall clock): detection latency starts there. */
  received?: number;
  /** Values the analyst compares: observed and baseline volumes, expected edges, peers... */
  details?: Record<string, unknown>;
  /** WHERE clause over the flows table selecting every flow behind the episode (values inlined, quoted). */
  where: string;
}

/** The evidence key of a flow. */
export function flowKey(f: Flow): FlowKey {
  return {
    time_start: f.time_start, time_end: f.time_end, exporter: f.exporter_address,
    src_addr: f.src_addr, src_port: f.src_port, dst_addr: f.dst_addr, dst_port: f.dst_port, protocol: f.protocol,
    bytes: f.bytes === null ? null : f.bytes * f.sampling_rate,
    ...(f.verdict ? { verdict: f.verdict } : {}),
    ...(f.proxy_host ? { proxy_host: f.proxy_host } : {}),
  };
}

/** Bytes a flow stands for: as exported, scaled up by the sampling rate; 0 when it has none. */
export const scaledBytes = (f: Flow): number => (f.bytes ?? 0) * f.sampling_rate;
