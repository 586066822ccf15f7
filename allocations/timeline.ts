/**
 * Which job held a node, or which pod held an address, at a given time. Flows are matched by their own time
 * (time_start), not by when they arrive, so the timeline keeps history: a flow arriving late is still
 * attributed to the job that held the node when it happened.
 *
 * Node rows (Slurm, or Kubernetes nodes given whole to a job) are indexed by node; pod rows by pod address,
 * since on Kubernetes several jobs' pods can share a node and the node alone says nothing about the job.
 */
import ipaddr from 'ipaddr.js';
import type { Allocation } from '../core/records';

export interface Span {
  job: string;
  node: string;
  pod?: string;
  start: number;
  /** Infinity while the allocation is open. */
  end: number;
  pattern: Allocation['pattern'];
  /** The node's expected back-end peers, when the allocation came with its collective graph. */
  peers?: string[];
  updated: number;
}

/** An address as the pod map keys it: IPv4 plain (also when written IPv4-mapped), IPv6 in RFC 5952 form. */
export function addressKey(addr: string): string {
  if (!addr.includes(':')) return addr;
  if (addr.startsWith('::ffff:') && addr.includes('.')) return addr.slice(7);
  try {
    const a = ipaddr.parse(addr);
    return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address().toString() : (a as ipaddr.IPv6).toRFC5952String();
  } catch {
    return addr;
  }
}

/** Spans that start at or before t and overlap it are looked for this far back (overlaps are rare and short). */
const MAX_OVERLAP_SCAN = 64;

function insert(list: Span[], s: Span): void {
  const same = list.findIndex((x) => x.job === s.job && x.start === s.start && x.pod === s.pod);
  if (same >= 0) {
    if (s.updated >= list[same]!.updated) list[same] = s;
    return;
  }
  let i = list.length;
  while (i > 0 && list[i - 1]!.start > s.start) i--;
  list.splice(i, 0, s);
}

function at(list: Span[] | undefined, t: number): Span | undefined {
  if (!list) return undefined;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.start <= t) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo - 1; i >= 0 && i >= lo - MAX_OVERLAP_SCAN; i--) {
    if (list[i]!.end > t) return list[i];
  }
  return undefined;
}

export class AllocationTimeline {
  private readonly byNode = new Map<string, Span[]>();
  private readonly byPod = new Map<string, Span[]>();

  apply(rows: Iterable<Allocation>): void {
    for (const r of rows) {
      const span: Span = {
        job: r.job_id, node: r.node, start: r.start, end: r.end ?? Infinity, pattern: r.pattern, updated: r.updated_at,
        ...(r.pod ? { pod: r.pod } : {}),
        ...(r.peers?.length ? { peers: r.peers } : {}),
      };
      if (!r.pod) this.push(this.byNode, r.node, span);
      else if (r.pod_ip) this.push(this.byPod, addressKey(r.pod_ip), span);
    }
  }

  private push(map: Map<string, Span[]>, key: string, span: Span): void {
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    insert(list, span);
  }

  /** The node-level allocation holding `node` at time t. */
  nodeAt(node: string, t: number): Span | undefined {
    return at(this.byNode.get(node), t);
  }

  /** The pod holding address `addr` at time t. */
  podAt(addr: string, t: number): Span | undefined {
    return at(this.byPod.get(addressKey(addr)), t);
  }

  /** Forgets allocations that ended before `before` (flows older than that are not enriched with a job). */
  prune(before: number): void {
    for (const map of [this.byNode, this.byPod]) {
      for (const [k, list] of map) {
        const kept = list.filter((s) => s.end >= before);
        if (kept.length === 0) map.delete(k);
        else if (kept.length !== list.length) map.set(k, kept);
      }
    }
  }
}
