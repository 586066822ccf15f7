/**
 * Where each information element goes: straight into a Flow column, or into the record scratch when it needs
 * context first (times relative to the export header or system init time, sampling, totals used only when
 * delta counters are absent). Elements not listed here are skipped at no cost. Elements sharing a target are
 * alternatives (the IPv4 and IPv6 source address): compileTemplate keeps an all-zero one from overwriting.
 */
import type { RecordScratch } from './template';

/**
 * `read` replaces the type's reader (code over `buf`, the field offset and length expressions). `zeroIsAbsent`:
 * all-zero bytes mean the exporter has no value (a next hop of 0.0.0.0), so the optional column stays unset.
 */
export type Target =
  | { kind: 'flow'; key: string; convert?: (expr: string) => string; read?: (o: string, len: string) => string; zeroIsAbsent?: boolean }
  | { kind: 'scratch'; key: keyof RecordScratch; read?: undefined; zeroIsAbsent?: undefined };

const flow = (key: string, convert?: (expr: string) => string, read?: (o: string, len: string) => string): Target => ({ kind: 'flow', key, convert, read });
const scratch = (key: keyof RecordScratch): Target => ({ kind: 'scratch', key });
const unlessZero = (key: string): Target => ({ kind: 'flow', key, zeroIsAbsent: true });

export const FIELD_TARGETS: Record<string, Target> = {
  octetDeltaCount: flow('bytes'),
  packetDeltaCount: flow('packets'),
  octetTotalCount: scratch('octetTotal'),
  packetTotalCount: scratch('packetTotal'),
  protocolIdentifier: flow('protocol'),
  tcpControlBits: flow('tcp_flags', (e) => `(${e}) & 0xffff`),
  sourceTransportPort: flow('src_port'),
  destinationTransportPort: flow('dst_port'),
  sourceIPv4Address: flow('src_addr'),
  destinationIPv4Address: flow('dst_addr'),
  sourceIPv6Address: flow('src_addr'),
  destinationIPv6Address: flow('dst_addr'),
  ipNextHopIPv4Address: unlessZero('next_hop'),
  ipNextHopIPv6Address: unlessZero('next_hop'),
  ingressInterface: flow('in_if'),
  egressInterface: flow('out_if'),
  vlanId: flow('vlan', (e) => `(${e}) & 0xfff`),
  dot1qVlanId: flow('vlan', (e) => `(${e}) & 0xfff`),
  // layer2SegmentId: the top byte is the segment type (0x01 VXLAN), the VNI is the low 24 bits.
  layer2SegmentId: flow('vni', undefined, (o, len) => `(${len} >= 3 ? buf.readUIntBE(${o} + ${len} - 3, 3) : h.uint(buf, ${o}, ${len}))`),
  flowDirection: flow('direction', (e) => `((${e}) === 0 ? 'ingress' : (${e}) === 1 ? 'egress' : 'unknown')`),
  flowStartSeconds: scratch('startSec'),
  flowEndSeconds: scratch('endSec'),
  flowStartMilliseconds: scratch('startMs'),
  flowEndMilliseconds: scratch('endMs'),
  flowStartMicroseconds: scratch('startNtp'),
  flowEndMicroseconds: scratch('endNtp'),
  flowStartNanoseconds: scratch('startNtp'),
  flowEndNanoseconds: scratch('endNtp'),
  flowStartDeltaMicroseconds: scratch('startDeltaUs'),
  flowEndDeltaMicroseconds: scratch('endDeltaUs'),
  flowStartSysUpTime: scratch('startUptime'),
  flowEndSysUpTime: scratch('endUptime'),
  systemInitTimeMilliseconds: scratch('systemInitMs'),
  flowDurationMilliseconds: scratch('durationMs'),
  samplingInterval: scratch('samplingInterval'),
  samplerRandomInterval: scratch('samplerRandomInterval'),
  samplingPacketInterval: scratch('samplingPacketInterval'),
  samplingPacketSpace: scratch('samplingPacketSpace'),
  samplerId: scratch('selectorId'),
  selectorId: scratch('selectorId'),
};
