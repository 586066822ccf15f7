/**
 * IPFIX from the DPU of each node ('dpu' flows): one exporter per node, sending over UDP from its own loopback
 * address (ExporterAddresses), one observation domain each. A batch goes out as one message when the next
 * record would not fit the datagram or `flushMs` of simulated time after its first record; templates go first
 * and again every `templateRefreshMs` (RFC 7011 §8.4: UDP templates are resent periodically). Export time is
 * the simulated time the message goes out, so a backfill exports in the past.
 */
import { IE, type FieldSpec, ipfixMessage, ipv4, ipv6, set, templateRecord } from '../../ingest/ipfix/encoder';
import type { SimFlow } from '../events';
import { type Batch, BatchingUdpEmitter } from './batching';
import type { ExporterAddresses } from './emitter';
import type { UdpTarget } from './transport';

const COMMON: FieldSpec[] = [
  [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2], [IE.protocolIdentifier, 1], [IE.tcpControlBits, 2],
  [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 8], [IE.flowStartMilliseconds, 8], [IE.flowEndMilliseconds, 8], [IE.flowDirection, 1],
];
/** The two templates every DPU exporter announces: IPv4 and IPv6 flows. */
const TEMPLATES = {
  v4: { id: 256, fields: [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], ...COMMON] as FieldSpec[] },
  v6: { id: 257, fields: [[IE.sourceIPv6Address, 16], [IE.destinationIPv6Address, 16], ...COMMON] as FieldSpec[] },
};
const recordLength = (fields: FieldSpec[]) => fields.reduce((n, f) => n + f[1], 0);
const V4_LENGTH = recordLength(TEMPLATES.v4.fields);
const V6_LENGTH = recordLength(TEMPLATES.v6.fields);
/** The observation domain of every simulated DPU: each has its own address, so domains need not differ. */
export const DOMAIN = 1;
const MESSAGE_HEADER = 16;
const SET_HEADER = 4;
const EGRESS = 1;

const templateSet = set(2, templateRecord(TEMPLATES.v4.id, TEMPLATES.v4.fields), templateRecord(TEMPLATES.v6.id, TEMPLATES.v6.fields));

export interface IpfixEmitterOptions {
  target: UdpTarget;
  addresses: ExporterAddresses;
  /** Largest datagram in bytes; default 1400 (what fits an Ethernet MTU with room for tunnels). */
  maxDatagram?: number;
  /** Simulated ms a batch waits for more records; default 1000. */
  flushMs?: number;
  /** Simulated ms between template announcements; default 60 s. */
  templateRefreshMs?: number;
}

interface Exporter extends Batch {
  /** Data records sent before the next message (the IPFIX sequence number). */
  seq: number;
  templateAt: number;
  v4: Buffer[];
  v6: Buffer[];
  /** The message's length if sent now. */
  size: number;
}

/** Writes `n` (an integer below 2^53) as an unsigned 64-bit big-endian number. */
function writeU64(b: Buffer, n: number, o: number): void {
  b.writeUInt32BE(Math.floor(n / 0x1_0000_0000), o);
  b.writeUInt32BE(n >>> 0, o + 4);
}

/** Address bytes by text: a cluster's addresses repeat, and parsing them was most of a record's cost. */
const addressCache = new Map<string, Buffer>();
function addressBytes(a: string, v6: boolean): Buffer {
  let b = addressCache.get(a);
  if (!b) {
    if (addressCache.size >= 65536) addressCache.clear(); // a scan's endless new addresses
    b = v6 ? ipv6(a) : ipv4(a);
    addressCache.set(a, b);
  }
  return b;
}

/** One data record of `f` in the template its addresses take. */
function ipfixRecord(f: SimFlow): Buffer {
  const v6 = f.src.includes(':');
  if (v6 !== f.dst.includes(':')) throw new Error(`flow ${f.src} -> ${f.dst} mixes IPv4 and IPv6`);
  const b = Buffer.allocUnsafe(v6 ? V6_LENGTH : V4_LENGTH);
  const width = v6 ? 16 : 4;
  addressBytes(f.src, v6).copy(b, 0);
  addressBytes(f.dst, v6).copy(b, width);
  let o = 2 * width;
  b.writeUInt16BE(f.srcPort, o);
  b.writeUInt16BE(f.dstPort, o + 2);
  b.writeUInt8(f.protocol, o + 4);
  b.writeUInt16BE(f.tcpFlags, o + 5);
  o += 7;
  writeU64(b, f.bytes, o);
  writeU64(b, f.packets, o + 8);
  writeU64(b, f.start, o + 16);
  writeU64(b, f.end, o + 24);
  b.writeUInt8(EGRESS, o + 32);
  return b;
}

export class IpfixEmitter extends BatchingUdpEmitter<Exporter> {
  readonly name = 'ipfix';
  private readonly templateRefreshMs: number;

  constructor(private readonly opts: IpfixEmitterOptions) {
    super(opts.target, opts.maxDatagram ?? 1400, opts.flushMs ?? 1000);
    this.templateRefreshMs = opts.templateRefreshMs ?? 60_000;
    if (this.maxDatagram < MESSAGE_HEADER + SET_HEADER + V6_LENGTH) throw new RangeError(`maxDatagram ${this.maxDatagram} holds no IPv6 record`);
  }

  flow(f: SimFlow, now: number): void {
    if (f.exporter === undefined) throw new Error(`dpu flow ${f.src} -> ${f.dst} names no exporter`);
    const e = this.batches.get(f.exporter) ?? this.exporter(f.exporter);
    this.due(e, now);
    const record = ipfixRecord(f);
    const list = () => (record.length === V6_LENGTH ? e.v6 : e.v4);
    const cost = () => record.length + (list().length === 0 ? SET_HEADER : 0);
    if (e.size + cost() > this.maxDatagram) this.send(e, now);
    if (e.size === MESSAGE_HEADER) e.first = now;
    e.size += cost();
    list().push(record);
    this.stats.records++;
  }

  protected pending(e: Exporter): boolean {
    return e.size > MESSAGE_HEADER;
  }

  private exporter(node: string): Exporter {
    const e: Exporter = { address: this.opts.addresses.dpu(node), seq: 0, templateAt: -Infinity, v4: [], v6: [], size: MESSAGE_HEADER, first: 0 };
    this.batches.set(node, e);
    return e;
  }

  protected send(e: Exporter, at: number): void {
    const exportSec = Math.floor(at / 1000);
    if (at - e.templateAt >= this.templateRefreshMs) {
      this.datagram(e, ipfixMessage({ domain: DOMAIN, seq: e.seq, exportSec }, templateSet));
      e.templateAt = at;
    }
    const sets = [];
    if (e.v4.length > 0) sets.push(set(TEMPLATES.v4.id, ...e.v4));
    if (e.v6.length > 0) sets.push(set(TEMPLATES.v6.id, ...e.v6));
    this.datagram(e, ipfixMessage({ domain: DOMAIN, seq: e.seq, exportSec }, ...sets));
    e.seq = (e.seq + e.v4.length + e.v6.length) >>> 0;
    e.v4 = [];
    e.v6 = [];
    e.size = MESSAGE_HEADER;
  }
}
