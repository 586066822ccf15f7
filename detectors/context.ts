/**
 * What the streaming detectors judge a flow by: the inventory (zones, nodes, shared services) and the
 * detectors' own allocation timeline, read at the flow's own time. The job columns enrichment wrote are not
 * used: they say which job held a node when the flow arrived, and an allocation event (a job's end from the
 * scheduler's epilog) can arrive seconds after the flows it governs. The detectors read the flows topic a
 * settle delay behind its head, so by the time they judge a flow its allocation events are in the timeline.
 */
import type { Flow } from '../core/flow';
import type { AllocationTimeline } from '../allocations/timeline';
import type { Inventory } from '../inventory/inventory';

export interface DetectorContext {
  /** The current inventory snapshot; undefined until one is loaded (nothing is judged without it). */
  inventory(): Inventory | undefined;
  timeline: AllocationTimeline;
}

/** One end of a flow as the detectors see it. */
export interface Side {
  addr: string;
  /** The inventory node owning the address, the node a source reported (Hubble), or the pod's node. */
  node?: string;
  zone: string;
  /** The pod holding the address (allocations), or the one the source reported (Hubble). */
  pod?: string;
  /** On the out-of-band network (BMCs, switch management). */
  oob: boolean;
  /** Jobs holding the node or pod at the flow's time, or within the grace before or after it. */
  jobs: string[];
  /** The shared service the address belongs to (dns, storage, proxy, monitoring, control-plane). */
  service?: string;
  /** The node's expected back-end peers at the flow's time, when its allocation came with a collective graph. */
  peers?: string[];
}

/**
 * Jobs holding the address (by its pod, else its node) at t, t - grace or t + grace: a job's first and last
 * seconds (clocks and teardown are never exact) count as the job's. With them, the node's expected peers at t.
 */
function jobsAround(timeline: AllocationTimeline, addr: string, node: string | undefined, t: number, graceMs: number): { jobs: string[]; pod?: string; node?: string; peers?: string[] } {
  const jobs: string[] = [];
  let pod: string | undefined;
  let podNode: string | undefined;
  let peers: string[] | undefined;
  for (const at of graceMs > 0 ? [t, t - graceMs, t + graceMs] : [t]) {
    const p = timeline.podAt(addr, at);
    // The node's span at t is read even under a pod: it carries the expected peers.
    const n = node === undefined || (p && at !== t) ? undefined : timeline.nodeAt(node, at);
    if (at === t) peers = n?.peers;
    if (p) {
      pod ??= p.pod;
      podNode ??= p.node;
      if (!jobs.includes(p.job)) jobs.push(p.job);
    } else if (n && !jobs.includes(n.job)) jobs.push(n.job);
  }
  return { jobs, ...(pod !== undefined ? { pod } : {}), ...(podNode !== undefined ? { node: podNode } : {}), ...(peers ? { peers } : {}) };
}

/** Both ends of a flow, judged at its start. */
export function sidesOf(inv: Inventory, timeline: AllocationTimeline, f: Flow, graceMs: number): [Side, Side] {
  const side = (addr: string, reported: string | undefined, reportedPod: string | undefined): Side => {
    const endpoint = inv.endpointOf(addr);
    const node = endpoint?.node ?? reported;
    const j = jobsAround(timeline, addr, node, f.time_start, graceMs);
    const service = inv.serviceOf(addr);
    const pod = j.pod ?? reportedPod;
    return {
      addr, zone: inv.zoneOf(addr), jobs: j.jobs, oob: endpoint?.fabric === 'oob',
      ...((node ?? j.node) !== undefined ? { node: node ?? j.node } : {}),
      ...(pod ? { pod } : {}),
      ...(service !== undefined ? { service } : {}),
      ...(j.peers ? { peers: j.peers } : {}),
    };
  };
  return [side(f.src_addr, f.src_node, f.src_pod), side(f.dst_addr, f.dst_node, f.dst_pod)];
}

/** A side's name for people: its node, else its address. */
export const nameOf = (s: Side): string => s.pod ?? s.node ?? s.addr;

/** " (job 88213)" or " (jobs 1, 2)" or "" */
export function jobNote(s: Side): string {
  if (s.jobs.length === 0) return '';
  return ` (job${s.jobs.length > 1 ? 's' : ''} ${s.jobs.join(', ')})`;
}

/** The flow was forwarded (or the source has no verdict): it crossed the network. */
export const forwarded = (f: Flow): boolean => f.verdict === undefined || f.verdict === 'FORWARDED';

const SERVICE_NAMES: Record<number, Record<number, string>> = {
  6: { 22: 'SSH', 80: 'HTTP', 443: 'HTTPS', 623: 'IPMI', 2049: 'NFS', 3128: 'proxy', 6443: 'Kubernetes API', 10250: 'kubelet' },
  17: { 53: 'DNS', 123: 'NTP', 623: 'IPMI', 4791: 'RoCEv2' },
};

/** "SSH (tcp/22)", "udp/623 (IPMI)"... */
export function serviceName(protocol: number, port: number): string {
  const proto = protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : protocol === 1 ? 'icmp' : `ip/${protocol}`;
  const name = SERVICE_NAMES[protocol]?.[port];
  return protocol === 6 || protocol === 17 ? `${name ? `${name} ` : ''}(${proto}/${port})` : proto;
}
