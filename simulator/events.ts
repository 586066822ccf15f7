/**
 * What the cluster simulator's model produces and its emitters put on the wire: flows as the fabric would see
 * them (before any exporter encodes them), allocation events at their times, and the ground truth. The model
 * (simulator/model/) decides what happens; the emitters (simulator/emit/) decide only how it travels: IPFIX from
 * a node's DPU, sFlow from a leaf switch, a Hubble flow line, a Squid access-log line.
 */
import type { AllocationEventInput } from '../allocations/event';

/** The path a flow takes into eastwatch. */
export type Via =
  /** IPFIX over UDP from the DPU of `exporter` (a node name): flows that node sends. */
  | 'dpu'
  /** sFlow v5 from the leaf switch `exporter` (a switch node name), packet-sampled 1 in N. */
  | 'switch'
  /** A Hubble flow line (pods of Kubernetes workloads), written to the followed Hubble file. */
  | 'hubble'
  /** A Squid access-log line for a request through the egress proxy, written to the followed Squid log. */
  | 'proxy';

export interface PodEndpoint {
  namespace: string;
  pod: string;
  /** The node the pod runs on. */
  node: string;
  labels?: Record<string, string>;
  workload?: { name: string; kind: string };
}

export interface SimFlow {
  /** First and last packet, ms since the epoch (simulated time). */
  start: number;
  end: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP). */
  protocol: number;
  /** What actually crossed the wire; an emitter that samples (sFlow) scales it down itself. */
  bytes: number;
  packets: number;
  /** Union of TCP flags (0 for UDP). */
  tcpFlags: number;
  via: Via;
  /** The node whose DPU exports it ('dpu'), or the switch that samples it ('switch'). */
  exporter?: string;
  /** Pod context of a 'hubble' flow; verdict DROPPED with a drop reason for a policy-denied attempt. */
  hubble?: { src?: PodEndpoint; dst?: PodEndpoint; verdict: 'FORWARDED' | 'DROPPED'; dropReason?: string; node: string };
  /**
   * The request of a 'proxy' flow: the proxy's own address is `dst`, the origin `host`; `bytes` is what the
   * client sent (the request, Squid's %>st), `replyBytes` what the proxy sent back (%<st), `server` the address
   * the proxy connected to (%<a).
   */
  proxy?: { host: string; method: 'CONNECT' | 'GET' | 'PUT' | 'POST'; status: number; server?: string; replyBytes?: number };
  /** The truth label (attack or trap id) the flow belongs to; never emitted, for tests and debugging. */
  label?: string;
}

export type SimEvent =
  /**
   * `time` is when the exporter sends the record: the flow's end, or later for a flow that arrives late (the
   * late-flows trap), whose start and end stay when it happened.
   */
  | { kind: 'flow'; time: number; flow: SimFlow }
  /** An allocation event as a scheduler hook publishes it, at `time` (a job's start, or its end). */
  | { kind: 'allocation'; time: number; event: AllocationEventInput };

export const ATTACK_KINDS = [
  'lateral-ssh', 'scan', 'collective-intruder', 'rail-crossing', 'bmc-access', 'exfil-proxy-slow', 'exfil-proxy-fast',
  'proxy-bypass', 'policy-denied', 'weights-new-destination',
] as const;
export const TRAP_KINDS = ['checkpoint-burst', 'approved-model-upload', 'job-edges', 'late-flows', 'node-reassigned'] as const;

export type AttackKind = (typeof ATTACK_KINDS)[number];
export type TrapKind = (typeof TRAP_KINDS)[number];

/** One line of the ground-truth file (JSON lines): an injected attack, or a benign trap no detector may alert on. */
export interface TruthLabel {
  id: string;
  class: 'attack' | 'benign';
  kind: AttackKind | TrapKind;
  /** Nodes and addresses at fault (attack) or involved (trap): what an alert must name to match. */
  nodes: string[];
  addresses: string[];
  /** The first and last offending flow's times, ms since the epoch. */
  start: number;
  end: number;
  /** The job concerned, when there is one. */
  job?: string;
  /** Detectors expected to catch it (attacks), for the score's per-detector view. */
  detectors?: string[];
  description: string;
}
