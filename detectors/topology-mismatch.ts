/**
 * topology-mismatch: a job's back-end traffic against its collective pattern. The expected graph comes with the
 * allocation when it was imported (`eastwatch allocations import --format nccl`: each node's peers from NCCL's
 * log), and is otherwise learned from each member's first minutes on the back end (what NCCL set up: ring
 * neighbours, tree parents and children, expert groups, pipeline stages). A back-end edge into the job outside
 * it, with a few records, is reported, and so is any rail crossing (PXN keeps NIC i talking to NIC i), at once.
 *
 * Back-end traffic is what goes between back-end (rail) addresses, or RoCEv2 (udp/4791) anywhere. RoCEv2's
 * source port is an entropy hash of the queue pair: nothing is keyed on it, edges are node to node. Native
 * InfiniBand is not IP: it is seen only where a DPU or switch exports it as flows.
 */
import type { Flow } from '../core/flow';
import type { Inventory } from '../inventory/inventory';
import { nameOf } from './context';
import type { Judged, StreamingDetector } from './detector';
import { Finding, flowKey, scaledBytes } from './finding';
import { whereOf } from './sql';

export const ROCE_PORT = 4791;
const MAX_JOBS = 10_000;
const MAX_EDGES = 100_000;

interface JobGraph {
  /**
   * Per member: until when its edges are learned, from its own first back-end flow. Per node, not per job: a
   * node's flows are in order (one partition), while partitions judged side by side can be minutes apart in event
   * time, so a job-wide window could close before a lagging member was ever seen.
   */
  learnUntil: Map<string, number>;
  lastSeen: number;
  edges: Set<string>;
  /** New edges seen after learning, with their records so far. */
  candidates: Map<string, number>;
}

export interface TopologyOptions {
  learnMs: number;
  minFlows: number;
}

const backend = (inv: Inventory, f: Flow) => (f.protocol === 17 && f.dst_port === ROCE_PORT)
  || (inv.endpointOf(f.src_addr)?.fabric === 'backend' && inv.endpointOf(f.dst_addr)?.fabric === 'backend');

export class TopologyMismatch implements StreamingDetector {
  readonly name = 'topology-mismatch' as const;
  private readonly jobs = new Map<string, JobGraph>();

  constructor(private readonly o: TopologyOptions) {}

  judge({ flow, src, dst, inv }: Judged, out: Finding[]): void {
    if (!backend(inv, flow) || src.node === undefined || dst.node === undefined || src.node === dst.node) return;
    const job = dst.jobs.find((j) => src.jobs.includes(j)) ?? dst.jobs[0];
    if (job === undefined) return;
    const t = flow.time_start;
    let g = this.jobs.get(job);
    if (!g) {
      if (this.jobs.size >= MAX_JOBS) this.jobs.delete(this.jobs.keys().next().value!);
      g = { learnUntil: new Map(), lastSeen: t, edges: new Set(), candidates: new Map() };
      this.jobs.set(job, g);
    }
    g.lastSeen = Math.max(g.lastSeen, t);
    const member = src.jobs.includes(job);
    const edge = `${src.node}>${dst.node}`;
    const srcRail = inv.endpointOf(flow.src_addr)?.rail;
    const dstRail = inv.endpointOf(flow.dst_addr)?.rail;
    const base = {
      detector: this.name, severity: 'warning' as const, time: flow.time_end, first: flow.time_start, last: flow.time_end,
      flows: 1, bytes: scaledBytes(flow), counts: 'increment' as const, flow: flowKey(flow), received: flow.time_received,
      entities: {
        src_addr: src.addr, dst_addr: dst.addr, src_zone: src.zone, dst_zone: dst.zone, src_node: src.node, dst_node: dst.node,
        dst_job: job, dst_port: flow.dst_port, protocol: flow.protocol, ...(src.jobs[0] ? { src_job: src.jobs[0] } : {}),
      },
    };
    if (srcRail !== undefined && dstRail !== undefined && srcRail !== dstRail) {
      out.push({
        ...base, key: [job, src.node, 'rail-crossing'],
        summary: `${nameOf(src)} sent from rail ${srcRail} to rail ${dstRail} of ${nameOf(dst)} in job ${job}: rails should stay aligned`,
        details: { src_rail: srcRail, dst_rail: dstRail },
        where: `${whereOf({ src_node: src.node })} AND src_rail != dst_rail`,
      });
      return;
    }
    // The graph that came with the allocation, when one did (either direction: acknowledgements flow back).
    const given = src.peers !== undefined || dst.peers !== undefined;
    if (given) {
      if (member && (src.peers?.includes(dst.node) || dst.peers?.includes(src.node))) return;
    } else {
      let until = g.learnUntil.get(src.node);
      if (member && until === undefined && g.learnUntil.size < MAX_EDGES) g.learnUntil.set(src.node, (until = t + this.o.learnMs));
      if (member && until !== undefined && t < until) {
        if (g.edges.size < MAX_EDGES) g.edges.add(edge);
        return;
      }
      if (g.edges.has(edge)) return;
    }
    const seen = (g.candidates.get(edge) ?? 0) + 1;
    if (g.candidates.size < MAX_EDGES) g.candidates.set(edge, seen);
    if (seen < this.o.minFlows) return;
    const peers = src.peers ?? [...g.edges].filter((e) => e.startsWith(`${src.node}>`)).map((e) => e.slice(src.node!.length + 1));
    out.push({
      ...base, key: [job, src.node, 'edge'],
      summary: member
        ? `${nameOf(src)} sent back-end traffic to ${nameOf(dst)}, not one of its collective peers in job ${job}`
        : `${nameOf(src)}, not a member, joined job ${job}'s back-end traffic to ${nameOf(dst)}`,
      details: { expected_peers: peers, expected_from: given ? 'allocation' : 'learned', learned_edges: g.edges.size, new_edge: edge },
      where: `${whereOf({ src_node: src.node, dst_node: dst.node })}`,
    });
  }

  /** A job silent on the back end for an hour has ended (or its graph is relearned when it speaks again). */
  expire(now: number): void {
    for (const [job, g] of this.jobs) if (g.lastSeen < now - 3600e3) this.jobs.delete(job);
  }
}
