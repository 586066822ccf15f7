/**
 * Packet captures: classic libpcap and pcapng in, frames and the UDP datagrams inside them out (`eastwatch
 * decode FILE`, exporter tests). A capture is read forward, from a Buffer or from a file in 1 MiB chunks, so a
 * capture larger than memory is read in bounded memory. Only an unreadable file header throws (CaptureError);
 * what is passed over after it is counted in CaptureStats by reason, with the offset of the first: damage skips
 * the packet, or ends the iteration where the next record cannot be found (a capture cut off mid-write is the
 * common case). Frames and payloads are views into the input, not copies (see CapturedPacket.data).
 */
import { readSync } from 'node:fs';
import { UserError } from '../core/error-text';
import { ipv4ToString, ipv6ToString } from './packet';

export interface CapturedPacket {
  /** Capture time in epoch milliseconds, fractional below 1 ms. A pcapng Simple Packet Block carries no
   * time: it gets the previous packet's (0 before any), so consumers never see NaN. */
  timeMs: number;
  /** LINKTYPE_* of the interface that captured the frame. */
  linkType: number;
  /** A view into the input; from a file, valid until the next packet is read (the reader reuses its buffer). */
  data: Buffer;
  /** The frame's length on the wire: more than data's when the snap length cut it. */
  wireLength: number;
  /** Where the packet's record or block starts in the capture. */
  offset: number;
}

export interface UdpDatagram {
  timeMs: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  /** A view into the input, valid as CapturedPacket.data is. */
  payload: Buffer;
  /** Where the packet's record or block starts in the capture. */
  offset: number;
}

/**
 * Why a record, block or packet was passed over:
 * - truncated-record: the capture ends inside a record's or block's header;
 * - captured-length-beyond-file: a record runs past the end of the capture (its last packet cut off);
 * - captured-length-beyond-snap-length: a packet longer than the snap length it was captured with (damage);
 * - bad-block-length: a pcapng block length under 12, not a multiple of 4, over 16 MiB or unlike its trailer;
 * - block-beyond-file: a pcapng block runs past the end of the capture;
 * - bad-section-header: a pcapng Section Header Block without byte-order magic;
 * - bad-block: a pcapng packet or interface block too short for its fields, or data running past it;
 * - unknown-interface: a pcapng packet block naming an interface no Interface Description Block described;
 * - unknown-link-type: a frame whose link layer udpPayloads does not unwrap;
 * - not-ip, not-udp: frames of other protocols;
 * - ip-fragment: not reassembled (flow exporters keep their datagrams under the MTU);
 * - truncated-packet: an IP packet or UDP datagram cut short by the snap length;
 * - malformed-ip-udp: IP or UDP headers that contradict themselves or the frame.
 * truncated-record, captured-length-beyond-file, bad-block-length, block-beyond-file and bad-section-header end
 * the iteration (where the next record starts is unknown); the others skip one packet or block.
 */
export type SkipReason =
  | 'truncated-record' | 'captured-length-beyond-file' | 'captured-length-beyond-snap-length' | 'bad-block-length'
  | 'block-beyond-file' | 'bad-section-header' | 'bad-block' | 'unknown-interface' | 'unknown-link-type' | 'not-ip'
  | 'not-udp' | 'ip-fragment' | 'truncated-packet' | 'malformed-ip-udp';

export interface Skipped {
  count: number;
  /** Where the record or block of the first one starts in the capture. */
  firstOffset: number;
}

/** Counts one more `reason` at `offset`. */
export function tally(counts: Record<string, Skipped>, reason: string, offset: number): void {
  const s = counts[reason];
  if (s) s.count++;
  else counts[reason] = { count: 1, firstOffset: offset };
}

/** What reading a capture met: packet records (EPB, SPB or classic), UDP datagrams yielded, what was passed over. */
export class CaptureStats {
  packets = 0;
  datagrams = 0;
  readonly skipped: Record<string, Skipped> = {};

  skip(reason: string, offset: number): void {
    tally(this.skipped, reason, offset);
  }
}

/** The input is not a capture: the CLI prints the message as one line. */
export class CaptureError extends UserError {}

const notCapture = (why: string) => new CaptureError(`not a pcap or pcapng file: ${why}`);
const u32 = (b: Buffer, off: number, le: boolean) => (le ? b.readUInt32LE(off) : b.readUInt32BE(off));
const u16 = (b: Buffer, off: number, le: boolean) => (le ? b.readUInt16LE(off) : b.readUInt16BE(off));

const MICRO = 0xa1b2c3d4;
const NANO = 0xa1b23c4d;
const SHB = 0x0a0d0d0a;
const CHUNK = 1 << 20;
/** libpcap's MAXIMUM_SNAPLEN, assumed when a pcap header says 0. */
const MAX_SNAPLEN = 262_144;
/** Wireshark's limit too: a longer block is damage, and no record is held in memory beyond it. */
const MAX_BLOCK = 16 << 20;

/**
 * A capture's bytes by offset, read forward: a Buffer whole, or a file descriptor in chunks into one buffer of
 * a chunk, or of the largest record read (under MAX_BLOCK), reused. Reuse is why a frame from a file lasts
 * only until the next is read: fresh buffers per chunk left up to 64 MB of garbage (V8's external-memory
 * trigger) and an RSS of 150 MB for a 200 MB capture.
 */
class Bytes {
  /** The bytes from `base` on: all of a Buffer input, the start of `store` for a file. */
  private buf: Buffer;
  private store = Buffer.alloc(0);
  /** Capture offset of buf[0]. */
  private base = 0;
  private ended: boolean;

  constructor(private readonly input: Buffer | number) {
    this.buf = typeof input === 'number' ? Buffer.alloc(0) : input;
    this.ended = typeof input !== 'number';
  }

  /** Whether bytes [off, off + n) exist, reading them in if need be (and letting go of those before off). */
  has(off: number, n: number): boolean {
    if (off + n > this.base + this.buf.length && !this.ended) this.fill(off, n);
    return off + n <= this.base + this.buf.length;
  }

  /** Bytes [off, off + n) that has() said exist. */
  view(off: number, n: number): Buffer {
    return this.buf.subarray(off - this.base, off - this.base + n);
  }

  /** The capture's size, once has() said it ends. */
  get length(): number {
    return this.base + this.buf.length;
  }

  private fill(off: number, n: number): void {
    const fd = this.input as number;
    let pos = this.base + this.buf.length; // capture offset of the file's next byte
    let store = this.store;
    if (store.length < n) store = Buffer.allocUnsafe(Math.max(CHUNK, n));
    let len = off < pos ? this.buf.copy(store, 0, off - this.base) : 0; // the bytes from off on are kept
    while (pos < off && !this.ended) { // a skipped record's bytes: read and dropped
      const r = readSync(fd, store, 0, Math.min(store.length, off - pos), null);
      if (r === 0) this.ended = true;
      pos += r;
    }
    while (len < n && !this.ended) {
      const r = readSync(fd, store, len, store.length - len, null);
      if (r === 0) this.ended = true;
      len += r;
    }
    this.store = store;
    this.buf = store.subarray(0, len);
    this.base = Math.min(off, pos);
  }
}

/**
 * Frames of a classic pcap or pcapng capture, from a Buffer or a file descriptor (read from where it stands,
 * each frame valid until the next is read).
 * Throws a CaptureError at once (not while iterating) for a bad file header.
 */
export function readCapture(input: Buffer | number, stats = new CaptureStats()): Iterable<CapturedPacket> {
  const bytes = new Bytes(input);
  if (!bytes.has(0, 4)) throw notCapture(`only ${bytes.length} bytes`);
  if (bytes.view(0, 4).readUInt32BE(0) === SHB) {
    const le = sectionOrder(bytes, 0);
    if (le === undefined) throw notCapture('pcapng Section Header Block without a byte-order magic');
    const total = u32(bytes.view(0, 8), 4, le);
    if (total < 28 || total % 4 !== 0 || total > MAX_BLOCK || !bytes.has(0, total)) throw notCapture('truncated or malformed pcapng Section Header Block');
    return pcapngPackets(bytes, stats);
  }
  for (const le of [true, false]) {
    const magic = u32(bytes.view(0, 4), 0, le);
    if (magic !== MICRO && magic !== NANO) continue;
    if (!bytes.has(0, 24)) throw notCapture(`pcap header cut at ${bytes.length} bytes`);
    const header = bytes.view(0, 24);
    const snapLen = u32(header, 16, le);
    // The link-type word's upper bits carry FCS information since libpcap 1.9.
    return classicPackets(bytes, stats, le, magic === MICRO ? 1e6 : 1e9, u32(header, 20, le) & 0xffff, snapLen === 0 ? MAX_SNAPLEN : Math.min(snapLen, MAX_BLOCK));
  }
  throw notCapture(`unknown magic 0x${bytes.view(0, 4).toString('hex')}`);
}

function* classicPackets(bytes: Bytes, stats: CaptureStats, le: boolean, fracPerSec: number, linkType: number, snapLen: number): Generator<CapturedPacket> {
  for (let off = 24; ; ) {
    if (!bytes.has(off, 16)) {
      if (bytes.has(off, 1)) stats.skip('truncated-record', off);
      return;
    }
    stats.packets++;
    const capLen = u32(bytes.view(off, 16), 8, le);
    if (capLen > snapLen) {
      stats.skip('captured-length-beyond-snap-length', off); // its bytes are passed over, never held
    } else if (!bytes.has(off, 16 + capLen)) {
      stats.skip('captured-length-beyond-file', off);
      return;
    } else {
      const record = bytes.view(off, 16 + capLen);
      const timeMs = u32(record, 0, le) * 1000 + (u32(record, 4, le) * 1000) / fracPerSec;
      yield { timeMs, linkType, data: record.subarray(16), wireLength: u32(record, 12, le), offset: off };
    }
    off += 16 + capLen;
  }
}

const IDB = 1;
const SPB = 3;
const EPB = 6;

/** Byte order of the section whose header block starts at off: true for little-endian. */
function sectionOrder(bytes: Bytes, off: number): boolean | undefined {
  if (!bytes.has(off, 12)) return undefined;
  const bom = bytes.view(off, 12).readUInt32BE(8);
  return bom === 0x4d3c2b1a ? true : bom === 0x1a2b3c4d ? false : undefined;
}

interface Iface {
  linkType: number;
  snapLen: number;
  unitsPerSec: number;
  offsetSec: number;
}

function* pcapngPackets(bytes: Bytes, stats: CaptureStats): Generator<CapturedPacket> {
  let le = true;
  let ifaces: Iface[] = [];
  let lastMs = 0;
  for (let off = 0; ; ) {
    if (!bytes.has(off, 12)) {
      if (bytes.has(off, 1)) stats.skip('truncated-record', off);
      return;
    }
    const type = u32(bytes.view(off, 4), 0, le); // the SHB type reads the same in both orders
    if (type === SHB) {
      const order = sectionOrder(bytes, off);
      if (order === undefined) return stats.skip('bad-section-header', off);
      le = order;
      ifaces = []; // interface ids are per section
    }
    const total = u32(bytes.view(off, 8), 4, le);
    if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) return stats.skip('bad-block-length', off);
    if (!bytes.has(off, total)) return stats.skip('block-beyond-file', off);
    const b = bytes.view(off, total);
    if (u32(b, total - 4, le) !== total) return stats.skip('bad-block-length', off);
    const bodyEnd = total - 4;
    if (type === IDB) {
      if (total >= 20) ifaces.push(idb(b, bodyEnd, le));
      else stats.skip('bad-block', off);
    } else if (type === EPB) {
      stats.packets++;
      const data = total >= 32 && 28 + u32(b, 20, le) <= bodyEnd ? b.subarray(28, 28 + u32(b, 20, le)) : undefined;
      const iface = data && ifaces[u32(b, 8, le)];
      if (!data) stats.skip('bad-block', off);
      else if (!iface) stats.skip('unknown-interface', off);
      else if (iface.snapLen > 0 && data.length > iface.snapLen) stats.skip('captured-length-beyond-snap-length', off);
      else {
        const ts = u32(b, 12, le) * 2 ** 32 + u32(b, 16, le);
        // Number precision (~0.2 µs at today's epoch in ms) is what a double timeMs can hold anyway.
        lastMs = (ts / iface.unitsPerSec + iface.offsetSec) * 1000;
        yield { timeMs: lastMs, linkType: iface.linkType, data, wireLength: u32(b, 24, le), offset: off };
      }
    } else if (type === SPB) {
      stats.packets++;
      const iface = ifaces[0];
      if (total < 16) stats.skip('bad-block', off);
      else if (!iface) stats.skip('unknown-interface', off);
      else {
        const wireLength = u32(b, 8, le);
        let len = Math.min(wireLength, bodyEnd - 12);
        if (iface.snapLen > 0) len = Math.min(len, iface.snapLen);
        yield { timeMs: lastMs, linkType: iface.linkType, data: b.subarray(12, 12 + len), wireLength, offset: off };
      }
    }
    off += total;
  }
}

/** An Interface Description Block with the options that change timestamps: if_tsresol (9), if_tsoffset (14). */
function idb(b: Buffer, bodyEnd: number, le: boolean): Iface {
  const iface = { linkType: u16(b, 8, le), snapLen: u32(b, 12, le), unitsPerSec: 1e6, offsetSec: 0 };
  for (let p = 16; p + 4 <= bodyEnd; ) {
    const code = u16(b, p, le);
    const len = u16(b, p + 2, le);
    if (code === 0 || p + 4 + len > bodyEnd) break;
    if (code === 9 && len >= 1) {
      const v = b[p + 4]!;
      iface.unitsPerSec = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    } else if (code === 14 && len >= 8) {
      iface.offsetSec = Number(le ? b.readBigInt64LE(p + 4) : b.readBigInt64BE(p + 4));
    }
    p += 4 + Math.ceil(len / 4) * 4;
  }
  return iface;
}

/** UDP datagrams of a capture, over Ethernet (VLAN-tagged too), raw IP, Linux cooked (SLL, SLL2) or BSD loopback. */
export function udpPayloads(input: Buffer | number, stats = new CaptureStats()): Iterable<UdpDatagram> {
  const packets = readCapture(input, stats);
  return (function* () {
    for (const { timeMs, linkType, data, wireLength, offset } of packets) {
      const off = ipOffset(linkType, data);
      if (typeof off === 'string') {
        stats.skip(off, offset);
        continue;
      }
      const packet = ip(data, off);
      if (typeof packet === 'string' || packet.proto !== 17) {
        stats.skip(typeof packet === 'string' ? cutOrMalformed(packet, data, wireLength) : 'not-udp', offset);
        continue;
      }
      const { body } = packet;
      const udpLen = body.length >= 8 ? body.readUInt16BE(4) : 0;
      if (udpLen < 8 || udpLen > body.length) {
        stats.skip(cutOrMalformed('malformed-ip-udp', data, wireLength), offset);
        continue;
      }
      stats.datagrams++;
      yield {
        timeMs,
        srcAddr: packet.src,
        dstAddr: packet.dst,
        srcPort: body.readUInt16BE(0),
        dstPort: body.readUInt16BE(2),
        payload: body.subarray(8, udpLen),
        offset,
      };
    }
  })();
}

/** A packet that does not add up is damaged, unless the snap length cut it. */
const cutOrMalformed = (why: SkipReason, data: Buffer, wireLength: number): SkipReason =>
  why === 'malformed-ip-udp' && data.length < wireLength ? 'truncated-packet' : why;

const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const isIpType = (t: number) => t === 0x0800 || t === 0x86dd;

/** Where the IP header starts in a frame of this link type, or why the frame has none. */
function ipOffset(linkType: number, d: Buffer): number | 'not-ip' | 'unknown-link-type' {
  switch (linkType) {
    case 1:
      for (let off = 12; off + 2 <= d.length; off += 4) {
        const type = d.readUInt16BE(off);
        if (!VLAN_TAGS.has(type)) return isIpType(type) ? off + 2 : 'not-ip';
      }
      return 'not-ip';
    case 12:
    case 14:
    case 101:
      return 0;
    case 113:
      return d.length >= 16 && isIpType(d.readUInt16BE(14)) ? 16 : 'not-ip';
    case 276:
      return d.length >= 20 && isIpType(d.readUInt16BE(0)) ? 20 : 'not-ip';
    case 0:
    case 108:
      // The address family is in the capturing host's byte order and AF_INET6 differs per BSD: the IP
      // version nibble says more.
      return 4;
    default:
      return 'unknown-link-type';
  }
}

interface IpPacket {
  src: string;
  dst: string;
  proto: number;
  /** The transport header and payload, bounded by the IP length (Ethernet padding excluded). */
  body: Buffer;
}

/** IPv6 extension headers walked to reach the transport header. */
const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AUTH = 51;
const DEST_OPTS = 60;

function ip(d: Buffer, off: number): IpPacket | 'ip-fragment' | 'malformed-ip-udp' | 'not-ip' {
  if (off >= d.length) return 'malformed-ip-udp';
  const version = d[off]! >> 4;
  if (version === 4) {
    if (off + 20 > d.length) return 'malformed-ip-udp';
    const ihl = (d[off]! & 15) * 4;
    const end = off + d.readUInt16BE(off + 2);
    if (ihl < 20 || end < off + ihl || end > d.length) return 'malformed-ip-udp';
    if (d.readUInt16BE(off + 6) & 0x3fff) return 'ip-fragment'; // MF set or a non-zero offset
    return { src: ipv4ToString(d, off + 12), dst: ipv4ToString(d, off + 16), proto: d[off + 9]!, body: d.subarray(off + ihl, end) };
  }
  if (version !== 6) return 'not-ip';
  if (off + 40 > d.length) return 'malformed-ip-udp';
  const end = off + 40 + d.readUInt16BE(off + 4);
  if (end > d.length) return 'malformed-ip-udp';
  let next = d[off + 6]!;
  let p = off + 40;
  while (next === HOP_BY_HOP || next === ROUTING || next === FRAGMENT || next === AUTH || next === DEST_OPTS) {
    if (p + 8 > end) return 'malformed-ip-udp';
    if (next === FRAGMENT && d.readUInt16BE(p + 2) & 0xfff9) return 'ip-fragment'; // only atomic fragments pass
    const len = next === FRAGMENT ? 8 : next === AUTH ? (d[p + 1]! + 2) * 4 : (d[p + 1]! + 1) * 8;
    next = d[p]!;
    p += len;
  }
  if (p > end) return 'malformed-ip-udp';
  return { src: ipv6ToString(d, off + 8), dst: ipv6ToString(d, off + 24), proto: next, body: d.subarray(p, end) };
}
