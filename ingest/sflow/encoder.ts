/**
 * The exporter side of sFlow v5 (sflow.org "sFlow Version 5", XDR field by field): datagrams, flow and counter
 * samples, their records, and the Ethernet / IPv4 / IPv6 / TCP / UDP / VXLAN frames a raw packet header record
 * carries. Used by the cluster simulator to emit what leaf switches send, and by the decoder's tests.
 * Checksums are left 0: no sFlow collector verifies those of a sampled header.
 */
import { ipv4, ipv6, u16, u32, u64 } from '../ipfix/encoder';

// --- XDR ---

/** A tiny XDR writer: big-endian words, opaque data padded to a multiple of 4. */
export class Xdr {
  private parts: Buffer[] = [];
  u32(v: number): this {
    this.parts.push(u32(v));
    return this;
  }
  u64(v: bigint): this {
    this.parts.push(u64(v));
    return this;
  }
  /** Bytes padded to a multiple of 4. */
  raw(b: Buffer): this {
    this.parts.push(b, Buffer.alloc((4 - (b.length % 4)) % 4));
    return this;
  }
  /** Length, then the bytes padded to a multiple of 4. */
  opaque(b: Buffer): this {
    return this.u32(b.length).raw(b);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A sample or a record: format, length, body. */
export const tlv = (format: number, body: Buffer) => new Xdr().u32(format).opaque(body).done();

/** An address as text (IPv4 dotted or IPv6) or as its bytes. */
const addressBytes = (a: string | Buffer) => (typeof a !== 'string' ? a : a.includes(':') ? ipv6(a) : ipv4(a));

// --- datagrams and samples ---

export interface DatagramHeader {
  /** Text, or raw bytes (any length: a broken datagram is a datagram too). */
  agent: string | Buffer;
  /** 1 IPv4, 2 IPv6; by default from the address's length. */
  agentType?: number;
  subAgent: number;
  /** Datagrams this sub-agent sent before, plus one. */
  seq: number;
  /** Agent uptime in ms. */
  uptime: number;
  /** Default 5. */
  version?: number;
  /** The announced sample count; default the number of samples given. */
  count?: number;
}

export function datagram(h: DatagramHeader, samples: Buffer[]): Buffer {
  const agent = addressBytes(h.agent);
  const x = new Xdr().u32(h.version ?? 5).u32(h.agentType ?? (agent.length === 16 ? 2 : 1)).raw(agent);
  x.u32(h.subAgent).u32(h.seq).u32(h.uptime).u32(h.count ?? samples.length);
  for (const s of samples) x.raw(s);
  return x.done();
}

export interface FlowSampleFields {
  /** Samples this data source took before, plus one. */
  seq: number;
  /** source_id: type (0 ifIndex) in the top byte, index below. */
  sourceId: number;
  /** 1 in `rate` packets is sampled. */
  rate: number;
  /** Packets the data source saw, sampled or not, up to this sample. */
  pool: number;
  /** Samples lost for lack of resources. */
  drops: number;
  /** Interface indexes (format bits in the top two). */
  input: number;
  output: number;
  records: Buffer[];
}

/** Flow sample (format 1). */
export const flowSample = (s: FlowSampleFields) =>
  tlv(1, new Xdr().u32(s.seq).u32(s.sourceId).u32(s.rate).u32(s.pool).u32(s.drops).u32(s.input).u32(s.output)
    .u32(s.records.length).raw(Buffer.concat(s.records)).done());

export interface ExpandedFlowSampleFields extends Omit<FlowSampleFields, 'sourceId'> {
  /** The source id's type and index, in words of their own. */
  sourceType: number;
  sourceIndex: number;
  inFormat: number;
  outFormat: number;
}

/** Expanded flow sample (format 3). */
export const expandedFlowSample = (s: ExpandedFlowSampleFields) =>
  tlv(3, new Xdr().u32(s.seq).u32(s.sourceType).u32(s.sourceIndex).u32(s.rate).u32(s.pool).u32(s.drops)
    .u32(s.inFormat).u32(s.input).u32(s.outFormat).u32(s.output).u32(s.records.length).raw(Buffer.concat(s.records)).done());

/** Counter sample (format 2). */
export const counterSample = (seq: number, sourceId: number, records: Buffer[]) =>
  tlv(2, new Xdr().u32(seq).u32(sourceId).u32(records.length).raw(Buffer.concat(records)).done());

/** Expanded counter sample (format 4): source `sourceType`:`index`. */
export const expandedCounterSample = (seq: number, sourceType: number, index: number, records: Buffer[]) =>
  tlv(4, new Xdr().u32(seq).u32(sourceType).u32(index).u32(records.length).raw(Buffer.concat(records)).done());

// --- flow records ---

/** sFlow header_protocol values. */
export const HEADER_PROTOCOL = { ethernet: 1, ipv4: 11, ipv6: 12 } as const;

/** What agents keep of a sampled packet's header. */
export const MAX_HEADER_BYTES = 128;

/**
 * Raw packet header record (format 1): header_protocol (default Ethernet), frame_length (default the header's
 * length + 4, a frame that lost only its FCS), stripped (default 4), the header cut to 128 bytes like an agent.
 */
export const rawHeader = (frame: Buffer, o: { frameLength?: number; protocol?: number; stripped?: number } = {}) =>
  tlv(1, new Xdr().u32(o.protocol ?? HEADER_PROTOCOL.ethernet).u32(o.frameLength ?? frame.length + 4).u32(o.stripped ?? 4)
    .opaque(frame.subarray(0, MAX_HEADER_BYTES)).done());

/** Sampled Ethernet frame record (format 2): zero MACs. */
export const sampledEthernet = (frameLength: number, type = 0x0800) =>
  tlv(2, new Xdr().u32(frameLength).raw(Buffer.alloc(6)).raw(Buffer.alloc(6)).u32(type).done());

export interface SampledIp {
  length: number; protocol: number; src: string; dst: string; srcPort: number; dstPort: number; tcpFlags: number;
  /** IPv4 TOS or IPv6 priority. */
  tos: number;
}
const sampledIp = (format: number, p: SampledIp) =>
  tlv(format, new Xdr().u32(p.length).u32(p.protocol).raw(addressBytes(p.src)).raw(addressBytes(p.dst))
    .u32(p.srcPort).u32(p.dstPort).u32(p.tcpFlags).u32(p.tos).done());
/** Sampled IPv4 record (format 3). */
export const sampledIpv4 = (p: SampledIp) => sampledIp(3, p);
/** Sampled IPv6 record (format 4). */
export const sampledIpv6 = (p: SampledIp) => sampledIp(4, p);

/** Extended switch record (format 1001): VLANs, priorities 0. */
export const extendedSwitch = (srcVlan: number, dstVlan: number) => tlv(1001, new Xdr().u32(srcVlan).u32(0).u32(dstVlan).u32(0).done());

// --- counter records ---

export interface IfCounters {
  index: number; type: number; speed: bigint; direction: number; status: number; inOctets: bigint; inUcast: number;
  inMulti: number; inBroad: number; inDiscards: number; inErrors: number; outOctets: bigint; outUcast: number;
  outMulti: number; outBroad: number; outDiscards: number; outErrors: number;
  /** Default 0. */
  inUnknownProtos?: number;
  /** Default 0. */
  promiscuous?: number;
}

/** Generic interface counters record (format 1). */
export const ifCounters = (c: IfCounters) =>
  tlv(1, new Xdr().u32(c.index).u32(c.type).u64(c.speed).u32(c.direction).u32(c.status)
    .u64(c.inOctets).u32(c.inUcast).u32(c.inMulti).u32(c.inBroad).u32(c.inDiscards).u32(c.inErrors).u32(c.inUnknownProtos ?? 0)
    .u64(c.outOctets).u32(c.outUcast).u32(c.outMulti).u32(c.outBroad).u32(c.outDiscards).u32(c.outErrors).u32(c.promiscuous ?? 0).done());

// --- frames ---

const MACS = Buffer.from('020000000002020000000001', 'hex');

/**
 * Ethernet II from 02:00:00:00:00:01 to 02:00:00:00:00:02. `vlan` is the TCI of one 802.1Q tag; `tags` are
 * [tpid, tci] pairs, outermost first (QinQ and worse), after the `vlan` tag if both are given.
 */
export const ethernet = (type: number, payload: Buffer, o: { vlan?: number; tags?: Array<[number, number]> } = {}) => {
  const tags: Array<[number, number]> = [...(o.vlan === undefined ? [] : [[0x8100, o.vlan] as [number, number]]), ...(o.tags ?? [])];
  return Buffer.concat([MACS, ...tags.flatMap(([tpid, tci]) => [u16(tpid), u16(tci)]), u16(type), payload]);
};

/** IPv4: TTL 64 unless given; `options` grow the IHL; `frag` is the flags + fragment offset word. */
export function ipv4Packet(src: string, dst: string, proto: number, payload: Buffer, o: { options?: Buffer; frag?: number; ttl?: number } = {}): Buffer {
  const opt = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opt.length);
  h[0] = 0x40 | (h.length / 4);
  h.writeUInt16BE(h.length + payload.length, 2);
  h.writeUInt16BE(o.frag ?? 0, 6);
  h[8] = o.ttl ?? 64;
  h[9] = proto;
  ipv4(src).copy(h, 12);
  ipv4(dst).copy(h, 16);
  opt.copy(h, 20);
  return Buffer.concat([h, payload]);
}

/** IPv6: hop limit 64 unless given. */
export function ipv6Packet(src: string, dst: string, next: number, payload: Buffer, o: { hopLimit?: number } = {}): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  h[7] = o.hopLimit ?? 64;
  ipv6(src).copy(h, 8);
  ipv6(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** TCP with a 20-byte header: `flags` are the 9 flag bits; `payload` is the bytes after it, or a count of zero bytes. */
export function tcp(sport: number, dport: number, flags: number, payload: Buffer | number = 0): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h[12] = 0x50 | ((flags >> 8) & 1);
  h[13] = flags & 0xff;
  return Buffer.concat([h, typeof payload === 'number' ? Buffer.alloc(payload) : payload]);
}

export const udp = (sport: number, dport: number, payload: Buffer = Buffer.alloc(0)) =>
  Buffer.concat([u16(sport), u16(dport), u16(8 + payload.length), u16(0), payload]);

/** VXLAN (I flag set) carrying `inner`, an Ethernet frame. */
export const vxlan = (vni: number, inner: Buffer) => Buffer.concat([Buffer.from([0x08, 0, 0, 0, vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0]), inner]);
