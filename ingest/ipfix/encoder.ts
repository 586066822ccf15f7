/**
 * The exporter side of IPFIX (RFC 7011) and NetFlow v9 (RFC 3954): messages, sets, template records and field
 * values built byte by byte, as a flow exporter sends them. Used by the benchmarks and the cluster simulator to
 * emit what DPUs and switches export, and by the decoder's tests.
 */
import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';

export const u8 = (n: number) => Buffer.from([n]);
export const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
export const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
export const ipv4 = (s: string) => {
  if (!isIPv4(s)) throw new TypeError(`not an IPv4 address: ${s}`);
  return Buffer.from(s.split('.').map(Number));
};
export const ipv6 = (s: string) => Buffer.from(ipaddr.IPv6.parse(s).toByteArray());
/** NTP timestamp (RFC 7011 dateTimeMicroseconds) of a ms epoch time. */
export const ntp = (ms: number) => Buffer.concat([u32(Math.floor(ms / 1000) + 2208988800), u32(Math.round(((ms % 1000) / 1000) * 2 ** 32))]);

/** A field spec: [information element id, length] or [id, length, enterprise number]. */
export type FieldSpec = [number, number] | [number, number, number];

function fieldBytes(f: FieldSpec, v9: boolean): Buffer {
  if (f.length === 2) return Buffer.concat([u16(f[0]), u16(f[1])]);
  if (v9) throw new RangeError(`NetFlow v9 has no enterprise elements: ${f.join('/')}`);
  return Buffer.concat([u16(f[0] | 0x8000), u16(f[1]), u32(f[2])]);
}

export const templateRecord = (id: number, fields: FieldSpec[], v9 = false) =>
  Buffer.concat([u16(id), u16(fields.length), ...fields.map((f) => fieldBytes(f, v9))]);

export const optionsTemplateRecord = (id: number, scope: FieldSpec[], fields: FieldSpec[]) =>
  Buffer.concat([u16(id), u16(scope.length + fields.length), u16(scope.length), ...[...scope, ...fields].map((f) => fieldBytes(f, false))]);

export const v9OptionsTemplateRecord = (id: number, scope: FieldSpec[], fields: FieldSpec[]) =>
  Buffer.concat([u16(id), u16(scope.length * 4), u16(fields.length * 4), ...[...scope, ...fields].map((f) => fieldBytes(f, true))]);

/** A set (IPFIX: 2 templates, 3 options templates; v9: 0 and 1) or data set (the template id) of records. */
export const set = (id: number, ...records: Buffer[]) => {
  const body = Buffer.concat(records);
  return Buffer.concat([u16(id), u16(body.length + 4), body]);
};

export interface IpfixHeader {
  /** Observation domain. */
  domain: number;
  /** Data records sent in this domain before this message. */
  seq: number;
  exportSec: number;
}

export function ipfixMessage(h: IpfixHeader, ...sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([u16(10), u16(body.length + 16), u32(h.exportSec), u32(h.seq), u32(h.domain), body]);
}

export interface V9Header {
  sourceId: number;
  /** Export packets sent before this one. */
  seq: number;
  exportSec: number;
  /** The exporter's sysUptime, in ms: what v9 flow times count from. */
  uptimeMs: number;
  /** Records (template, options template and data) in the packet. */
  count: number;
}

export const v9Packet = (h: V9Header, ...flowsets: Buffer[]): Buffer =>
  Buffer.concat([u16(9), u16(h.count), u32(h.uptimeMs), u32(h.exportSec), u32(h.seq), u32(h.sourceId), ...flowsets]);

/** IANA element ids of what flow exporters commonly send (test/unit/iana.test.ts holds them to the registry). */
export const IE = {
  octetDeltaCount: 1, packetDeltaCount: 2, protocolIdentifier: 4, tcpControlBits: 6, sourceTransportPort: 7,
  sourceIPv4Address: 8, ingressInterface: 10, destinationTransportPort: 11, destinationIPv4Address: 12,
  egressInterface: 14, flowEndSysUpTime: 21, flowStartSysUpTime: 22, sourceIPv6Address: 27, destinationIPv6Address: 28,
  samplingInterval: 34, samplerId: 48, samplerRandomInterval: 50, vlanId: 58, flowDirection: 61,
  flowStartSeconds: 150, flowEndSeconds: 151, flowStartMilliseconds: 152, flowEndMilliseconds: 153,
  flowStartMicroseconds: 154, flowEndMicroseconds: 155, flowStartDeltaMicroseconds: 158, flowEndDeltaMicroseconds: 159,
  systemInitTimeMilliseconds: 160, dot1qVlanId: 243, selectorId: 302, samplingPacketInterval: 305, samplingPacketSpace: 306,
  layer2SegmentId: 351, applicationName: 96,
} as const;
