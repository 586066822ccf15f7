/**
 * scan: one source contacting many distinct hosts, or many ports of one host, within a sliding window of event
 * time. Hosts of the source's own job do not count (an all-to-all job talks to all of them), nor shared
 * services it merely uses, nor connections a cross-zone allow rule names (a gateway to its model servers); a
 * probe (a bare SYN, a dropped attempt) counts wherever it goes. Shared services themselves (the
 * monitoring server scrapes every node) are not judged as sources. State is bounded: so many sources, so many
 * targets each; a spoofed flood evicts the oldest, it cannot grow memory.
 */
import type { Flow } from '../core/flow';
import { forwarded, jobNote, nameOf } from './context';
import type { Judged, StreamingDetector } from './detector';
import { Finding, flowKey, scaledBytes } from './finding';
import { sourceInitiated } from './initiator';
import { whereOf } from './sql';

const MAX_SOURCES = 20_000;

interface Source {
  /** Target host -> last event time it was contacted. */
  hosts: Map<string, number>;
  /** Target host -> its ports -> last event time. */
  ports: Map<string, Map<number, number>>;
}

export interface ScanOptions {
  windowMs: number;
  hosts: number;
  ports: number;
}

/** A connection attempt that carried nothing: a bare SYN, or anything dropped on the way. */
export const isProbe = (f: Flow) => (f.protocol === 6 && (f.tcp_flags & 0x12) === 0x02) || !forwarded(f);

/** Drops entries older than `before` from a recency map (kept in insertion = recency order). */
function expireMap<V>(m: Map<string, V> | Map<number, V>, before: number, time: (v: V) => number): void {
  for (const [k, v] of m as Map<unknown, V>) {
    if (time(v) >= before) break;
    (m as Map<unknown, V>).delete(k);
  }
}

function touch<K, V>(m: Map<K, V>, k: K, v: V): void {
  m.delete(k);
  m.set(k, v);
}

export class Scan implements StreamingDetector {
  readonly name = 'scan' as const;
  private readonly sources = new Map<string, Source>();

  constructor(private readonly o: ScanOptions) {}

  judge({ flow, src, dst, inv }: Judged, out: Finding[]): void {
    if (flow.source_kind === 'proxy' || src.service !== undefined || !sourceInitiated(flow)) return;
    if (dst.jobs.some((j) => src.jobs.includes(j))) return;
    // A connection a cross-zone allow rule names is a known service path (a gateway to its model servers).
    const probe = isProbe(flow);
    if (!probe && (dst.service !== undefined || (src.zone !== dst.zone && inv.allows(src.zone, dst.zone, flow.protocol, flow.dst_port)))) return;
    const id = src.node ?? src.addr;
    const host = dst.node ?? dst.addr;
    const t = flow.time_start;
    let s = this.sources.get(id);
    if (!s) {
      if (this.sources.size >= MAX_SOURCES) this.sources.delete(this.sources.keys().next().value!);
      s = { hosts: new Map(), ports: new Map() };
    }
    touch(this.sources, id, s);
    const before = t - this.o.windowMs;
    expireMap(s.hosts, before, (v: number) => v);
    touch(s.hosts, host, t);
    if (s.hosts.size > this.o.hosts * 4) s.hosts.delete(s.hosts.keys().next().value!);
    let ports = s.ports.get(host);
    if (!ports) {
      ports = new Map();
      if (s.ports.size > this.o.hosts * 4) s.ports.delete(s.ports.keys().next().value!);
    }
    touch(s.ports, host, ports);
    expireMap(ports, before, (v: number) => v);
    touch(ports, flow.dst_port, t);
    if (ports.size > this.o.ports * 4) ports.delete(ports.keys().next().value!);
    // Both maps are touched together, so hosts that left the window lead the port map too.
    for (const h of s.ports.keys()) {
      if (s.hosts.has(h)) break;
      s.ports.delete(h);
    }

    const horizontal = s.hosts.size >= this.o.hosts;
    const vertical = ports.size >= this.o.ports;
    if (!horizontal && !vertical) return;
    const what = horizontal ? `${s.hosts.size} hosts` : `${ports.size} ports of ${nameOf(dst)}`;
    out.push({
      detector: this.name, severity: 'warning', key: [id], time: flow.time_end, first: flow.time_start, last: flow.time_end,
      flows: 1, bytes: scaledBytes(flow), counts: 'increment',
      summary: `${nameOf(src)}${jobNote(src)} contacted ${what} outside its job within ${Math.round(this.o.windowMs / 1000)} s`,
      entities: {
        src_addr: src.addr, src_zone: src.zone, ...(src.node ? { src_node: src.node } : {}), ...(src.pod ? { src_pod: src.pod } : {}),
        ...(src.jobs[0] ? { src_job: src.jobs[0] } : {}),
        ...(vertical && !horizontal ? { dst_addr: dst.addr, ...(dst.node ? { dst_node: dst.node } : {}) } : {}),
      },
      flow: flowKey(flow), received: flow.time_received,
      details: { hosts: s.hosts.size, targets: [...s.hosts.keys()].slice(-50), ports_of_busiest: ports.size },
      where: whereOf({ src_addr: src.addr }),
    });
  }

  expire(now: number): void {
    const before = now - this.o.windowMs;
    for (const [id, s] of this.sources) {
      expireMap(s.hosts, before, (v: number) => v);
      if (s.hosts.size === 0) this.sources.delete(id);
    }
  }
}
