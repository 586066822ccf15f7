/**
 * Hubble flow lines ('hubble' flows), as `hubble observe -o json` prints them (Cilium 1.16 protojson: proto
 * field names, zero values omitted; see test/hubble-fixtures.ts), appended to a file eastwatch follows. One line
 * per flow, at its first packet. Everything in a line comes from the flow and its place in the stream: the uuid
 * and the sub-millisecond digits of the time are hashed from both, so the same events give the same lines.
 */
import { createHash } from 'node:crypto';
import type { PodEndpoint, SimFlow } from '../events';
import { fnv1a } from './emitter';
import { LineEmitter } from './transport';

/** Numbers Cilium gives the drop reasons it also names (drop_reason, the deprecated numeric field). */
const DROP_REASON_CODES: Record<string, number> = { POLICY_DENIED: 133, POLICY_DENY: 181 };
/** Cilium monitor event types: a dropped packet, a traced (forwarded) one. */
const EVENT_DROP = 1;
const EVENT_TRACE = 4;
/** Cilium's reserved identity of anything outside the cluster. */
const WORLD = { identity: 2, labels: ['reserved:world'] };
/** Cluster-local security identities are allocated from 256 up to 65535. */
const FIRST_IDENTITY = 256;
/** TCPFlags in proto field order, and the order Hubble's summary names them. */
const TCP_FLAGS = [['FIN', 0x01], ['SYN', 0x02], ['RST', 0x04], ['PSH', 0x08], ['ACK', 0x10], ['URG', 0x20], ['ECE', 0x40], ['CWR', 0x80], ['NS', 0x100]] as const;
const SUMMARY_ORDER = ['SYN', 'ACK', 'RST', 'FIN', 'PSH', 'URG', 'ECE', 'CWR', 'NS'];

/** A pod endpoint as Hubble shows it: labels "k8s:key=value" sorted, with the namespace label Cilium adds. */
function endpoint(p: PodEndpoint | undefined): object {
  if (!p) return WORLD;
  const labels = Object.entries({ ...p.labels, 'io.kubernetes.pod.namespace': p.namespace }).map(([k, v]) => `k8s:${k}=${v}`).sort();
  return {
    // one identity per label set, as Cilium allocates them
    identity: FIRST_IDENTITY + (fnv1a(labels.join(',')) % (65536 - FIRST_IDENTITY)),
    namespace: p.namespace,
    labels,
    pod_name: p.pod,
    ...(p.workload ? { workloads: [{ name: p.workload.name, kind: p.workload.kind }] } : {}),
  };
}

/** Ports and type/code the protojson way: zero values left out. */
const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0));

function layer4(f: SimFlow): { l4?: object; summary: string } {
  const ports = nonZero({ source_port: f.srcPort, destination_port: f.dstPort });
  if (f.protocol === 6) {
    const set = TCP_FLAGS.filter(([, bit]) => (f.tcpFlags & bit) !== 0).map(([name]) => name as string);
    const flags = Object.fromEntries(set.map((n) => [n, true]));
    const summary = `TCP Flags: ${SUMMARY_ORDER.filter((n) => set.includes(n)).join(', ')}`;
    return { l4: { TCP: { ...ports, ...(set.length > 0 ? { flags } : {}) } }, summary };
  }
  if (f.protocol === 17) return { l4: { UDP: ports }, summary: 'UDP' };
  if (f.protocol === 1 || f.protocol === 58) {
    const name = f.protocol === 1 ? 'ICMPv4' : 'ICMPv6';
    // dstPort carries type * 256 + code, the NetFlow way eastwatch reads ICMP back
    return { l4: { [name]: nonZero({ type: f.dstPort >> 8, code: f.dstPort & 0xff }) }, summary: name };
  }
  return { summary: `IP protocol ${f.protocol}` };
}

/** RFC 3339 with nanoseconds, as protojson prints a Timestamp with a non-zero sub-microsecond part. */
function rfc3339Nanos(ms: number, subMillisecondNanos: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, m: string) => `.${m}${String(subMillisecondNanos).padStart(6, '0')}Z`);
}

/** The `hubble observe -o json` line of `f` (which has `hubble` context), the `n`th line of its stream. */
export function hubbleLine(f: SimFlow, n: number): string {
  const h = f.hubble;
  if (!h) throw new Error(`hubble flow ${f.src} -> ${f.dst} has no hubble context`);
  const digest = createHash('sha1').update(`${n}|${f.start}|${f.src}|${f.srcPort}|${f.dst}|${f.dstPort}|${f.protocol}|${h.node}`).digest();
  const hex = digest.toString('hex');
  // RFC 4122 version 4 layout, as Hubble's random uuids have
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((digest[8]! & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
  const time = rfc3339Nanos(f.start, digest.readUInt32BE(16) % 1_000_000);
  const dropped = h.verdict === 'DROPPED';
  // the simulator drops only what policy denies, so that is the reason unless the flow names another
  const reason = dropped ? h.dropReason ?? 'POLICY_DENIED' : undefined;
  const code = reason === undefined ? undefined : DROP_REASON_CODES[reason];
  // The agent on the source pod's node sees the connection leave (EGRESS), the destination's sees it arrive.
  const direction = h.src?.node !== h.node && h.dst?.node === h.node ? 'INGRESS' : 'EGRESS';
  const { l4, summary } = layer4(f);
  const flow = {
    time,
    uuid,
    verdict: h.verdict,
    ...(code !== undefined ? { drop_reason: code } : {}),
    IP: { source: f.src, destination: f.dst, ipVersion: f.src.includes(':') ? 'IPv6' : 'IPv4' },
    ...(l4 ? { l4 } : {}),
    source: endpoint(h.src),
    destination: endpoint(h.dst),
    Type: 'L3_L4',
    node_name: h.node,
    event_type: dropped ? { type: EVENT_DROP, ...(code !== undefined ? { sub_type: code } : {}) } : { type: EVENT_TRACE },
    traffic_direction: direction,
    ...(reason !== undefined ? { drop_reason_desc: reason } : {}),
    is_reply: false,
    Summary: summary,
  };
  return JSON.stringify({ flow, node_name: h.node, time });
}

/** A Hubble flow file (the Hubble exporter's, or `hubble observe -o json` redirected), followed by eastwatch. */
export const hubbleEmitter = (path: string): LineEmitter => new LineEmitter('hubble', path, hubbleLine);
