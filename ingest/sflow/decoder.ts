/**
 * sFlow v5 decoder (sflow.org "sFlow Version 5", XDR: big-endian, 4-byte aligned). A pure function of one
 * datagram: every flow sample becomes one Flow (the sampled packet, bytes = its frame length, scaled later by
 * sampling_rate), every generic interface counter record one InterfaceCounter. Samples and records are
 * length-prefixed, so unknown ones are skipped and a damaged sample is dropped whole while its neighbours
 * still decode. Sequence numbers are returned, not tracked: gap counting is the caller's state.
 */
import { isIP } from 'node:net';
import type { Flow } from '../../core/flow';
import type { InterfaceCounter } from '../../core/records';
import type { Decoded, DecodeError } from '../decoded';
import { ipv4ToString, ipv6ToString, parsePacketHeader, type ParsedHeader } from '../packet';

export interface SflowDecoded extends Decoded {
  /** Datagram header fields, undefined when the header could not be read. */
  agent?: string;
  subAgentId?: number;
  sequence?: number;
}

/** Bounds on the work one datagram can ask for (a 64 KiB datagram cannot honestly hold more). */
export const MAX_SAMPLES = 1024;
export const MAX_RECORDS = 64;

// Enterprise 0 formats: (enterprise << 12) | format.
const FLOW_SAMPLE = 1;
const COUNTER_SAMPLE = 2;
const FLOW_SAMPLE_EXPANDED = 3;
const COUNTER_SAMPLE_EXPANDED = 4;
const RAW_HEADER = 1;
const ETHERNET_FRAME = 2;
const SAMPLED_IPV4 = 3;
const SAMPLED_IPV6 = 4;
const EXTENDED_SWITCH = 1001;
const GENERIC_INTERFACE = 1;

/** One shared instance: a malformed packet costs no stack capture. Caught per sample (or for the header). */
const OUT_OF_BOUNDS = new Error('read past the end');

/** Bounds-checked XDR reader; `end` narrows to the current sample or record. */
class Reader {
  off = 0;
  end: number;
  constructor(readonly buf: Buffer) {
    this.end = buf.length;
  }
  get left(): number {
    return this.end - this.off;
  }
  need(n: number): void {
    if (n > this.end - this.off) throw OUT_OF_BOUNDS;
  }
  skip(n: number): void {
    this.need(n);
    this.off += n;
  }
  u32(): number {
    this.need(4);
    const b = this.buf;
    const o = this.off;
    this.off = o + 4;
    return b[o]! * 0x100_0000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }
  /**
   * Enters a length-prefixed record of the current sample: reads its format and length, narrows `end` to it,
   * and returns where the next record starts (XDR opaque: padded to 4, however the agent counted).
   */
  record(): { format: number; next: number } {
    const format = this.u32();
    const len = this.u32();
    this.need(len);
    const next = this.off + Math.min(pad4(len), this.left);
    this.end = this.off + len;
    return { format, next };
  }
  /** Clamped to MAX_SAFE_INTEGER: the records' UInt64 columns are JS numbers. */
  u64(): number {
    this.need(8);
    const v = this.buf.readUInt32BE(this.off) * 0x1_0000_0000 + this.buf.readUInt32BE(this.off + 4);
    this.off += 8;
    return Math.min(v, Number.MAX_SAFE_INTEGER);
  }
}

interface Agent {
  address: string;
  subAgentId: number;
  now: number;
}

function fail<T extends { errors: DecodeError[] }>(out: T, reason: string, detail: string): T {
  out.errors.push({ reason, detail });
  return out;
}

export function decodeSflow(buf: Buffer, receivedFrom: string, now: number): SflowDecoded {
  const out: SflowDecoded = { flows: [], counters: [], errors: [], lost: 0 };
  const r = new Reader(buf);
  const agent: Agent = { address: '', subAgentId: 0, now };
  let numSamples: number;
  try {
    const version = r.u32();
    if (version !== 5) return fail(out, 'sflow-bad-version', `version ${version} from ${receivedFrom}, expected 5`);
    const type = r.u32();
    if (type === 1) {
      r.need(4);
      agent.address = ipv4ToString(buf, r.off);
      r.off += 4;
    } else if (type === 2) {
      r.need(16);
      agent.address = ipv6ToString(buf, r.off);
      r.off += 16;
    } else if (type === 0 && isIP(receivedFrom) !== 0) {
      agent.address = receivedFrom; // UNKNOWN (no address bytes): the UDP source is the best we have
    } else {
      return fail(out, 'sflow-bad-address-type', `agent address type ${type} from ${receivedFrom}`);
    }
    agent.subAgentId = r.u32();
    const sequence = r.u32();
    r.skip(4); // uptime
    numSamples = r.u32();
    out.agent = agent.address;
    out.subAgentId = agent.subAgentId;
    out.sequence = sequence;
  } catch {
    return fail(out, 'sflow-truncated', `datagram of ${buf.length} bytes from ${receivedFrom} ends inside its header`);
  }
  if (numSamples > MAX_SAMPLES) return fail(out, 'sflow-bad-count', `${numSamples} samples, at most ${MAX_SAMPLES} accepted`);

  for (let i = 0; i < numSamples; i++) {
    if (r.left < 8) {
      fail(out, 'sflow-truncated', `datagram ends after ${i} of ${numSamples} samples`);
      break;
    }
    const format = r.u32();
    const len = r.u32();
    if (len > r.left) {
      fail(out, 'sflow-bad-length', `sample ${i} (format ${format}) claims ${len} bytes, ${r.left} remain`);
      break; // the next sample's start is unknown
    }
    const next = r.off + Math.min(pad4(len), r.left); // XDR opaque: padded to 4, however the agent counted
    r.end = r.off + len;
    const flows = out.flows.length;
    const counters = out.counters.length;
    try {
      if (format === FLOW_SAMPLE || format === FLOW_SAMPLE_EXPANDED) flowSample(r, format === FLOW_SAMPLE_EXPANDED, agent, out);
      else if (format === COUNTER_SAMPLE || format === COUNTER_SAMPLE_EXPANDED) counterSample(r, format === COUNTER_SAMPLE_EXPANDED, agent, out);
      // anything else (other enterprises, future formats) is skipped by its length
    } catch (e) {
      out.flows.length = flows; // nothing half-read from a damaged sample
      out.counters.length = counters;
      if (e === OUT_OF_BOUNDS) fail(out, 'sflow-bad-length', `sample ${i} (format ${format}): a record overruns the sample's ${len} bytes`);
      else fail(out, 'sflow-bad-sample', `sample ${i} (format ${format}): ${String(e)}`);
    }
    r.off = next;
    r.end = buf.length;
  }
  return out;
}

const pad4 = (n: number) => n + ((4 - (n & 3)) & 3);

/** Reads a record count, refusing counts the bound or the remaining bytes (8 per record header) rule out. */
function recordCount(r: Reader, out: SflowDecoded): number {
  const n = r.u32();
  if (n > MAX_RECORDS || n * 8 > r.left) {
    fail(out, 'sflow-bad-count', `${n} records in a sample with ${r.left} bytes left (at most ${MAX_RECORDS} accepted)`);
    return -1;
  }
  return n;
}

/** An ifIndex, or 0 when the interface format says discarded (1) or multiple interfaces (2). */
const ifIndex = (format: number, value: number) => (format === 0 ? value : 0);

function flowSample(r: Reader, expanded: boolean, agent: Agent, out: SflowDecoded): void {
  r.skip(expanded ? 12 : 8); // sequence number, source id (expanded: type and index)
  const rate = r.u32();
  r.skip(8); // sample pool, drops
  let inIf: number;
  let outIf: number;
  if (expanded) {
    inIf = ifIndex(r.u32(), r.u32());
    outIf = ifIndex(r.u32(), r.u32());
  } else {
    const i = r.u32();
    const o = r.u32();
    inIf = ifIndex(i >>> 30, i & 0x3fffffff);
    outIf = ifIndex(o >>> 30, o & 0x3fffffff);
  }
  const n = recordCount(r, out);
  if (n < 0) return;

  const buf = r.buf;
  const sampleEnd = r.end;
  let hdr: ParsedHeader | undefined;
  let frameLength = -1;
  let ethLength = -1;
  let ipStruct = -1; // offset of a sampled_ipv4/ipv6 struct, decoded only when no raw header parses
  let ipStructV6 = false;
  let switchVlan = 0;
  for (let j = 0; j < n; j++) {
    const { format, next } = r.record();
    if (format === RAW_HEADER) {
      const protocol = r.u32();
      const frame = r.u32();
      r.skip(4); // stripped
      const hl = r.u32();
      r.need(hl);
      if (hdr === undefined) {
        hdr = parsePacketHeader(buf, protocol, r.off, hl);
        if (frameLength < 0) frameLength = frame;
      }
    } else if (format === ETHERNET_FRAME) {
      ethLength = r.u32();
    } else if (format === SAMPLED_IPV4 || format === SAMPLED_IPV6) {
      ipStructV6 = format === SAMPLED_IPV6;
      r.need(ipStructV6 ? 56 : 32);
      ipStruct = r.off;
    } else if (format === EXTENDED_SWITCH) {
      const src = r.u32();
      r.skip(4);
      const dst = r.u32();
      switchVlan = src > 0 && src < 4096 ? src : dst < 4096 ? dst : 0;
    }
    r.off = next;
    r.end = sampleEnd;
  }

  let src: string, dst: string;
  let protocol: number, srcPort: number, dstPort: number, tcpFlags: number, vni = 0;
  let vlan = switchVlan;
  let ipLength: number;
  if (hdr !== undefined) {
    src = hdr.src;
    dst = hdr.dst;
    protocol = hdr.protocol;
    srcPort = hdr.srcPort;
    dstPort = hdr.dstPort;
    tcpFlags = hdr.tcpFlags;
    vni = hdr.vni;
    if (hdr.vlan !== 0) vlan = hdr.vlan; // the tag on the wire over the switch's port VLAN
    ipLength = hdr.ipTotalLength;
  } else if (ipStruct >= 0) {
    // sampled_ipv4: length, protocol, src(4), dst(4), ports, flags, tos; sampled_ipv6: the same with 16-byte addresses
    const a = ipStructV6 ? 16 : 4;
    src = ipStructV6 ? ipv6ToString(buf, ipStruct + 8) : ipv4ToString(buf, ipStruct + 8);
    dst = ipStructV6 ? ipv6ToString(buf, ipStruct + 8 + a) : ipv4ToString(buf, ipStruct + 8 + a);
    ipLength = buf.readUInt32BE(ipStruct);
    protocol = buf.readUInt32BE(ipStruct + 4) & 0xff;
    srcPort = buf.readUInt32BE(ipStruct + 8 + 2 * a) & 0xffff;
    dstPort = buf.readUInt32BE(ipStruct + 12 + 2 * a) & 0xffff;
    tcpFlags = buf.readUInt32BE(ipStruct + 16 + 2 * a) & 0x1ff;
  } else {
    return; // not IP (ARP, LLDP...) or nothing to build a flow from
  }
  const flow: Flow = {
    time_received: agent.now,
    time_start: agent.now,
    time_end: agent.now,
    source_kind: 'sflow',
    exporter_address: agent.address,
    observation_domain: agent.subAgentId,
    observation_point: 'switch',
    src_addr: src,
    dst_addr: dst,
    src_port: srcPort,
    dst_port: dstPort,
    protocol,
    // the frame's length where the agent gave one, else the IP packet's
    bytes: frameLength >= 0 ? frameLength : ethLength >= 0 ? ethLength : ipLength,
    packets: 1,
    tcp_flags: tcpFlags,
    sampling_rate: rate > 0 ? rate : 1,
    direction: 'unknown',
    in_if: inIf,
    out_if: outIf,
    vlan,
    vni,
  };
  out.flows.push(flow);
}

function counterSample(r: Reader, expanded: boolean, agent: Agent, out: SflowDecoded): void {
  r.skip(4); // sequence number
  const sourceId = expanded ? (((r.u32() & 0xff) << 24) | (r.u32() & 0xffffff)) >>> 0 : r.u32();
  const n = recordCount(r, out);
  if (n < 0) return;
  const sampleEnd = r.end;
  for (let j = 0; j < n; j++) {
    const { format, next } = r.record();
    if (format === GENERIC_INTERFACE) out.counters.push(ifCounters(r, sourceId, agent));
    r.off = next;
    r.end = sampleEnd;
  }
}

/** if_counters: 88 bytes, in this order. */
function ifCounters(r: Reader, sourceId: number, agent: Agent): InterfaceCounter {
  const index = r.u32();
  const type = r.u32();
  const speed = r.u64();
  const direction = r.u32();
  const status = r.u32();
  const inOctets = r.u64();
  const inPackets = r.u32() + r.u32() + r.u32();
  const inDiscards = r.u32();
  const inErrors = r.u32();
  r.skip(4); // unknown protos
  const outOctets = r.u64();
  const outPackets = r.u32() + r.u32() + r.u32();
  const outDiscards = r.u32();
  const outErrors = r.u32();
  r.skip(4); // promiscuous mode
  return {
    time_received: agent.now,
    exporter_address: agent.address,
    source_id: sourceId,
    if_index: index,
    if_type: type,
    if_speed: speed,
    // sFlow ifDirection: 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out; anything else reads as unknown.
    if_direction: direction <= 4 ? direction : 0,
    if_admin_up: (status & 1) !== 0,
    if_oper_up: (status & 2) !== 0,
    in_octets: inOctets,
    in_packets: inPackets,
    in_discards: inDiscards,
    in_errors: inErrors,
    out_octets: outOctets,
    out_packets: outPackets,
    out_discards: outDiscards,
    out_errors: outErrors,
  };
}
