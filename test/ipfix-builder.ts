/** Builds IPFIX and NetFlow v9 packets byte by byte for the decoder tests. */

export const u8 = (n: number) => Buffer.from([n]);
export const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
export const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const u64 = (n: number | bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
export const ipv4 = (s: string) => Buffer.from(s.split('.').map(Number));
export const ipv6 = (s: string) => {
  const [head, tail] = s.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
};
/** NTP timestamp (RFC 7011 dateTimeMicroseconds) of a ms epoch time. */
export const ntp = (ms: number) => Buffer.concat([u32(Math.floor(ms / 1000) + 2208988800), u32(Math.round(((ms % 1000) / 1000) * 2 ** 32))]);

/** A field spec: [information element id, length] or [id, length, enterprise number]. */
export type FieldSpec = [number, number] | [number, number, number];

const fieldBytes = (f: FieldSpec, v9: boolean) =>
  f.length === 3 && !v9 ? Buffer.concat([u16(f[0] | 0x8000), u16(f[1]), u32(f[2])]) : Buffer.concat([u16(f[0]), u16(f[1])]);

export const templateRecord = (id: number, fields: FieldSpec[], v9 = false) =>
  Buffer.concat([u16(id), u16(fields.length), ...fields.map((f) => fieldBytes(f, v9))]);

export const optionsTemplateRecord = (id: number, scope: FieldSpec[], fields: FieldSpec[]) =>
  Buffer.concat([u16(id), u16(scope.length + fields.length), u16(scope.length), ...[...scope, ...fields].map((f) => fieldBytes(f, false))]);

export const v9OptionsTemplateRecord = (id: number, scope: FieldSpec[], fields: FieldSpec[]) =>
  Buffer.concat([u16(id), u16(scope.length * 4), u16(fields.length * 4), ...[...scope, ...fields].map((f) => fieldBytes(f, true))]);

export const set = (id: number, ...records: Buffer[]) => {
  const body = Buffer.concat(records);
  return Buffer.concat([u16(id), u16(body.length + 4), body]);
};

export function ipfixMessage(opts: { domain?: number; seq?: number; exportSec?: number }, ...sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([u16(10), u16(body.length + 16), u32(opts.exportSec ?? 1_764_000_000), u32(opts.seq ?? 0), u32(opts.domain ?? 1), body]);
}

export function v9Packet(opts: { sourceId?: number; seq?: number; exportSec?: number; uptimeMs?: number }, ...sets: Buffer[]): Buffer {
  return Buffer.concat([
    u16(9), u16(sets.length), u32(opts.uptimeMs ?? 3_600_000), u32(opts.exportSec ?? 1_764_000_000), u32(opts.seq ?? 0), u32(opts.sourceId ?? 1), ...sets,
  ]);
}

/** IANA element ids the tests use. */
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
