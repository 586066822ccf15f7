/**
 * Packet captures as pure functions over bytes: classic libpcap and pcapng in, frames and the UDP datagrams
 * inside them out (`eastwatch decode FILE.pcap`, exporter tests). Only an unreadable file header throws; damage
 * later in the file ends the iteration (a capture cut off mid-write is the common case) or skips the packet.
 * Frames and payloads are views into the input buffer, not copies.
 */
import { ipv4ToString, ipv6ToString } from './packet';

export interface CapturedPacket {
  /** Capture time in epoch milliseconds, fractional below 1 ms. A pcapng Simple Packet Block carries no
   * time: it gets the previous packet's (0 before any), so consumers never see NaN. */
  timeMs: number;
  /** LINKTYPE_* of the interface that captured the frame. */
  linkType: number;
  data: Buffer;
}

export interface UdpDatagram {
  timeMs: number;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** What udpPayloads read and passed over; packets that are neither IP nor UDP are counted only in `packets`. */
export interface UdpStats {
  packets: number;
  datagrams: number;
  /** IP fragments: not reassembled, so skipped (flow exporters keep their datagrams under the MTU). */
  fragments: number;
  /** IP or UDP headers that are damaged or cut short by the snap length. */
  malformed: number;
}

export const emptyUdpStats = (): UdpStats => ({ packets: 0, datagrams: 0, fragments: 0, malformed: 0 });

const notCapture = (why: string) => new Error(`not a pcap or pcapng file: ${why}`);
const u32 = (b: Buffer, off: number, le: boolean) => (le ? b.readUInt32LE(off) : b.readUInt32BE(off));
const u16 = (b: Buffer, off: number, le: boolean) => (le ? b.readUInt16LE(off) : b.readUInt16BE(off));

const MICRO = 0xa1b2c3d4;
const NANO = 0xa1b23c4d;
const SHB = 0x0a0d0d0a;

/** Frames of a classic pcap or pcapng capture. Throws at once (not while iterating) for a bad file header. */
export function readCapture(buf: Buffer): Iterable<CapturedPacket> {
  if (buf.length < 4) throw notCapture(`only ${buf.length} bytes`);
  if (buf.readUInt32BE(0) === SHB) {
    const le = sectionOrder(buf, 0);
    if (le === undefined) throw notCapture('pcapng Section Header Block without a byte-order magic');
    const total = u32(buf, 4, le);
    if (total < 28 || total % 4 !== 0 || total > buf.length) throw notCapture('truncated or malformed pcapng Section Header Block');
    return pcapngPackets(buf);
  }
  for (const le of [true, false]) {
    const magic = u32(buf, 0, le);
    if (magic !== MICRO && magic !== NANO) continue;
    if (buf.length < 24) throw notCapture(`pcap header cut at ${buf.length} bytes`);
    // The link-type word's upper bits carry FCS information since libpcap 1.9.
    return classicPackets(buf, le, magic === MICRO ? 1e6 : 1e9, u32(buf, 20, le) & 0xffff);
  }
  throw notCapture(`unknown magic 0x${buf.subarray(0, 4).toString('hex')}`);
}

function* classicPackets(buf: Buffer, le: boolean, fracPerSec: number, linkType: number): Generator<CapturedPacket> {
  for (let off = 24; off + 16 <= buf.length; ) {
    const end = off + 16 + u32(buf, off + 8, le);
    if (end > buf.length) return;
    const timeMs = u32(buf, off, le) * 1000 + (u32(buf, off + 4, le) * 1000) / fracPerSec;
    yield { timeMs, linkType, data: buf.subarray(off + 16, end) };
    off = end;
  }
}

const IDB = 1;
const SPB = 3;
const EPB = 6;

/** Byte order of the section whose header block starts at off: true for little-endian. */
function sectionOrder(buf: Buffer, off: number): boolean | undefined {
  if (off + 12 > buf.length) return undefined;
  const bom = buf.readUInt32BE(off + 8);
  return bom === 0x4d3c2b1a ? true : bom === 0x1a2b3c4d ? false : undefined;
}

interface Iface {
  linkType: number;
  snapLen: number;
  unitsPerSec: number;
  offsetSec: number;
}

function* pcapngPackets(buf: Buffer): Generator<CapturedPacket> {
  let le = true;
  let ifaces: Iface[] = [];
  let lastMs = 0;
  for (let off = 0; off + 12 <= buf.length; ) {
    const type = u32(buf, off, le); // the SHB type reads the same in both orders
    if (type === SHB) {
      const order = sectionOrder(buf, off);
      if (order === undefined) return;
      le = order;
      ifaces = []; // interface ids are per section
    }
    const total = u32(buf, off + 4, le);
    if (total < 12 || total % 4 !== 0 || off + total > buf.length) return;
    const bodyEnd = off + total - 4;
    if (type === IDB && total >= 20) {
      ifaces.push(idb(buf, off, bodyEnd, le));
    } else if (type === EPB && total >= 32) {
      const iface = ifaces[u32(buf, off + 8, le)];
      const start = off + 28;
      const end = start + u32(buf, off + 20, le);
      if (iface && end <= bodyEnd) {
        const ts = u32(buf, off + 12, le) * 2 ** 32 + u32(buf, off + 16, le);
        // Number precision (~0.2 µs at today's epoch in ms) is what a double timeMs can hold anyway.
        lastMs = (ts / iface.unitsPerSec + iface.offsetSec) * 1000;
        yield { timeMs: lastMs, linkType: iface.linkType, data: buf.subarray(start, end) };
      }
    } else if (type === SPB && total >= 16) {
      const iface = ifaces[0];
      if (iface) {
        let len = Math.min(u32(buf, off + 8, le), bodyEnd - (off + 12));
        if (iface.snapLen > 0) len = Math.min(len, iface.snapLen);
        yield { timeMs: lastMs, linkType: iface.linkType, data: buf.subarray(off + 12, off + 12 + len) };
      }
    }
    off += total;
  }
}

/** An Interface Description Block with the options that change timestamps: if_tsresol (9), if_tsoffset (14). */
function idb(buf: Buffer, off: number, bodyEnd: number, le: boolean): Iface {
  const iface = { linkType: u16(buf, off + 8, le), snapLen: u32(buf, off + 12, le), unitsPerSec: 1e6, offsetSec: 0 };
  for (let p = off + 16; p + 4 <= bodyEnd; ) {
    const code = u16(buf, p, le);
    const len = u16(buf, p + 2, le);
    if (code === 0 || p + 4 + len > bodyEnd) break;
    if (code === 9 && len >= 1) {
      const v = buf[p + 4]!;
      iface.unitsPerSec = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    } else if (code === 14 && len >= 8) {
      iface.offsetSec = Number(le ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4));
    }
    p += 4 + Math.ceil(len / 4) * 4;
  }
  return iface;
}

/** UDP datagrams of a capture, over Ethernet (VLAN-tagged too), raw IP, Linux cooked (SLL, SLL2) or BSD loopback. */
export function udpPayloads(buf: Buffer, stats: UdpStats = emptyUdpStats()): Iterable<UdpDatagram> {
  const packets = readCapture(buf);
  return (function* () {
    for (const { timeMs, linkType, data } of packets) {
      stats.packets++;
      const off = ipOffset(linkType, data);
      if (off === undefined) continue;
      const packet = ip(data, off);
      if (packet === 'fragment') stats.fragments++;
      if (packet === 'malformed') stats.malformed++;
      if (typeof packet !== 'object' || packet.proto !== 17) continue;
      const { body } = packet;
      const udpLen = body.length >= 8 ? body.readUInt16BE(4) : 0;
      if (udpLen < 8 || udpLen > body.length) {
        stats.malformed++;
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
      };
    }
  })();
}

const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
const isIpType = (t: number) => t === 0x0800 || t === 0x86dd;

/** Where the IP header starts in a frame of this link type, if the frame carries IP. */
function ipOffset(linkType: number, d: Buffer): number | undefined {
  switch (linkType) {
    case 1:
      for (let off = 12; off + 2 <= d.length; off += 4) {
        const type = d.readUInt16BE(off);
        if (!VLAN_TAGS.has(type)) return isIpType(type) ? off + 2 : undefined;
      }
      return undefined;
    case 12:
    case 14:
    case 101:
      return 0;
    case 113:
      return d.length >= 16 && isIpType(d.readUInt16BE(14)) ? 16 : undefined;
    case 276:
      return d.length >= 20 && isIpType(d.readUInt16BE(0)) ? 20 : undefined;
    case 0:
    case 108:
      // The address family is in the capturing host's byte order and AF_INET6 differs per BSD: the IP
      // version nibble says more.
      return 4;
    default:
      return undefined;
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

function ip(d: Buffer, off: number): IpPacket | 'fragment' | 'malformed' | undefined {
  if (off >= d.length) return 'malformed';
  const version = d[off]! >> 4;
  if (version === 4) {
    if (off + 20 > d.length) return 'malformed';
    const ihl = (d[off]! & 15) * 4;
    const end = off + d.readUInt16BE(off + 2);
    if (ihl < 20 || end < off + ihl || end > d.length) return 'malformed';
    if (d.readUInt16BE(off + 6) & 0x3fff) return 'fragment'; // MF set or a non-zero offset
    return { src: ipv4ToString(d, off + 12), dst: ipv4ToString(d, off + 16), proto: d[off + 9]!, body: d.subarray(off + ihl, end) };
  }
  if (version !== 6) return undefined;
  if (off + 40 > d.length) return 'malformed';
  const end = off + 40 + d.readUInt16BE(off + 4);
  if (end > d.length) return 'malformed';
  let next = d[off + 6]!;
  let p = off + 40;
  while (next === HOP_BY_HOP || next === ROUTING || next === FRAGMENT || next === AUTH || next === DEST_OPTS) {
    if (p + 8 > end) return 'malformed';
    if (next === FRAGMENT && d.readUInt16BE(p + 2) & 0xfff9) return 'fragment'; // only atomic fragments pass
    const len = next === FRAGMENT ? 8 : next === AUTH ? (d[p + 1]! + 2) * 4 : (d[p + 1]! + 1) * 8;
    next = d[p]!;
    p += len;
  }
  if (p > end) return 'malformed';
  return { src: ipv6ToString(d, off + 8), dst: ipv6ToString(d, off + 24), proto: next, body: d.subarray(p, end) };
}
