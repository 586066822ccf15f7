/**
 * Parses the first bytes of a sampled packet (an sFlow "raw packet header", an IPFIX dataLinkFrameSection)
 * into the fields a Flow needs. Samples are cut short (typically 128 bytes), so every layer parses as much
 * as is present and stops; nothing reads past `end`. Pure and allocation-light: one result object and the two
 * address strings per packet.
 */

/** sFlow header_protocol values this parser understands. */
export const HEADER_ETHERNET = 1;
export const HEADER_IPV4 = 11;
export const HEADER_IPV6 = 12;

export interface ParsedHeader {
  ipVersion: 4 | 6;
  /** IPv4 dotted quad or RFC 5952 IPv6 text (see ipv6ToString). */
  src: string;
  dst: string;
  /** Upper-layer protocol after IPv6 extension headers (the last header reached when they are cut off). */
  protocol: number;
  /** 0 when the protocol has none, the transport header is cut off, or this is a non-first fragment. */
  srcPort: number;
  dstPort: number;
  /** 9 TCP flag bits, NS = 0x100 ... FIN = 0x01 (IPFIX tcpControlBits layout); 0 for non-TCP. */
  tcpFlags: number;
  /** Outermost 802.1Q/802.1ad VLAN id of the frame on the wire; 0 when untagged. */
  vlan: number;
  /** VXLAN network identifier when the packet is VXLAN (UDP 4789); the tuple is then the inner one. */
  vni: number;
  /** Total length of the outermost IP packet from its header (IPv6: payload + 40); 0 when unknown (jumbogram). */
  ipTotalLength: number;
}

// Plain indexing: every caller has checked the bounds, and it is faster than Buffer's checked readers.
const u8 = (b: Buffer, o: number) => b[o]!;
const u16 = (b: Buffer, o: number) => (b[o]! << 8) | b[o + 1]!;
const DECIMAL = Array.from({ length: 256 }, (_, i) => String(i));

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const MAX_VLAN_TAGS = 4;
const MAX_IPV6_EXTENSIONS = 8;
const VXLAN_PORT = 4789;

/**
 * Parses `length` bytes of `buf` from `offset` as a packet of sFlow header_protocol `protocol`
 * (1 Ethernet, 11 IPv4, 12 IPv6). Undefined when there is no complete IP header (non-IP frame, other
 * protocol, cut before the addresses).
 */
export function parsePacketHeader(buf: Buffer, protocol: number, offset = 0, length = buf.length - offset): ParsedHeader | undefined {
  const end = Math.min(buf.length, offset + length);
  if (!Number.isInteger(offset) || offset < 0 || !(offset < end)) return undefined;
  switch (protocol) {
    case HEADER_ETHERNET: return ethernet(buf, offset, end, true);
    case HEADER_IPV4: return ipv4(buf, offset, end, true);
    case HEADER_IPV6: return ipv6(buf, offset, end, true);
    default: return undefined;
  }
}

function ethernet(buf: Buffer, off: number, end: number, decap: boolean): ParsedHeader | undefined {
  if (off + 14 > end) return undefined;
  let type = u16(buf, off + 12);
  off += 14;
  let vlan = 0;
  // 802.1Q, 802.1ad and the pre-standard 0x9100 QinQ tag; the first one seen is the outermost.
  for (let tags = 0; type === 0x8100 || type === 0x88a8 || type === 0x9100; tags++) {
    if (tags === MAX_VLAN_TAGS || off + 4 > end) return undefined;
    if (tags === 0) vlan = u16(buf, off) & 0x0fff;
    type = u16(buf, off + 2);
    off += 4;
  }
  const h = type === ETHERTYPE_IPV4 ? ipv4(buf, off, end, decap) : type === ETHERTYPE_IPV6 ? ipv6(buf, off, end, decap) : undefined;
  if (h) h.vlan = vlan;
  return h;
}

function result(ipVersion: 4 | 6, src: string, dst: string, protocol: number, ipTotalLength: number): ParsedHeader {
  // One literal with every field, so all results share a hidden class.
  return { ipVersion, src, dst, protocol, srcPort: 0, dstPort: 0, tcpFlags: 0, vlan: 0, vni: 0, ipTotalLength };
}

function ipv4(buf: Buffer, off: number, end: number, decap: boolean): ParsedHeader | undefined {
  if (off + 20 > end) return undefined;
  const vihl = u8(buf, off);
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) return undefined;
  const total = u16(buf, off + 2);
  const h = result(4, ipv4ToString(buf, off + 12), ipv4ToString(buf, off + 16), u8(buf, off + 9), total);
  // Only the first fragment (offset 0) carries the transport header.
  if ((u16(buf, off + 6) & 0x1fff) !== 0) return h;
  // Ethernet pads short packets: do not read ports out of the padding.
  if (total >= ihl) end = Math.min(end, off + total);
  return transport(h, buf, off + ihl, end, decap);
}

function ipv6(buf: Buffer, off: number, end: number, decap: boolean): ParsedHeader | undefined {
  if (off + 40 > end || u8(buf, off) >> 4 !== 6) return undefined;
  const payload = u16(buf, off + 4);
  let next = u8(buf, off + 6);
  const h = result(6, ipv6ToString(buf, off + 8), ipv6ToString(buf, off + 24), next, payload === 0 ? 0 : payload + 40);
  if (payload !== 0) end = Math.min(end, off + 40 + payload);
  let p = off + 40;
  for (let i = 0; i < MAX_IPV6_EXTENSIONS; i++) {
    if (next === 0 || next === 43 || next === 60 || next === 51) {
      // Hop-by-hop, routing, destination options: length in 8-octet units; AH: in 4-octet units.
      if (p + 2 > end) break;
      const len = next === 51 ? (u8(buf, p + 1) + 2) * 4 : (u8(buf, p + 1) + 1) * 8;
      next = u8(buf, p);
      p += len;
    } else if (next === 44) {
      if (p + 8 > end) break;
      next = u8(buf, p);
      const nonFirst = u16(buf, p + 2) >> 3 !== 0;
      p += 8;
      if (nonFirst) {
        h.protocol = next;
        return h;
      }
    } else break;
  }
  h.protocol = next;
  return transport(h, buf, p, end, decap);
}

/** Ports and flags; a VXLAN packet is replaced by its inner packet (one level deep, so work stays bounded). */
function transport(h: ParsedHeader, buf: Buffer, off: number, end: number, decap: boolean): ParsedHeader {
  const p = h.protocol;
  if ((p !== 6 && p !== 17 && p !== 132) || off + 4 > end) return h;
  h.srcPort = u16(buf, off);
  h.dstPort = u16(buf, off + 2);
  if (p === 6) {
    if (off + 14 <= end) h.tcpFlags = ((u8(buf, off + 12) & 1) << 8) | u8(buf, off + 13);
  } else if (p === 17 && decap && h.dstPort === VXLAN_PORT) {
    const vx = off + 8;
    // The I flag says the VNI is valid; without it this is just UDP to 4789.
    if (vx + 8 <= end && (u8(buf, vx) & 0x08) !== 0) {
      const vni = (u16(buf, vx + 4) << 8) | u8(buf, vx + 6);
      const inner = ethernet(buf, vx + 8, end, false);
      if (!inner) {
        h.vni = vni; // inner frame cut off or not IP: keep the outer tuple, still tagged with its segment
        return h;
      }
      inner.vni = vni;
      inner.vlan = 0; // the caller sets the outer frame's VLAN, the one the switch saw
      inner.ipTotalLength = h.ipTotalLength;
      return inner;
    }
  }
  return h;
}

/** Dotted-quad text of the 4 bytes at `offset`; RangeError when they are not all there (like Buffer's readers). */
export function ipv4ToString(buf: Buffer, offset = 0): string {
  if (!Number.isInteger(offset) || offset < 0 || offset + 4 > buf.length) throw new RangeError(`no IPv4 address at ${offset} of ${buf.length} bytes`);
  return DECIMAL[buf[offset]!] + '.' + DECIMAL[buf[offset + 1]!] + '.' + DECIMAL[buf[offset + 2]!] + '.' + DECIMAL[buf[offset + 3]!];
}

/**
 * RFC 5952 text of the 16 bytes at `offset`: lowercase, no leading zeros, the first longest run of two or
 * more zero groups as "::". IPv4-mapped addresses stay hex (::ffff:a00:1), as WHATWG URL prints them.
 */
export function ipv6ToString(buf: Buffer, offset = 0): string {
  if (!Number.isInteger(offset) || offset < 0 || offset + 16 > buf.length) throw new RangeError(`no IPv6 address at ${offset} of ${buf.length} bytes`);
  let best = -1;
  let bestLen = 0;
  let run = -1;
  for (let i = 0; i < 8; i++) {
    if (u16(buf, offset + 2 * i) !== 0) run = -1;
    else {
      if (run < 0) run = i;
      if (i - run + 1 > bestLen) {
        best = run;
        bestLen = i - run + 1;
      }
    }
  }
  if (bestLen < 2) {
    best = -1;
    bestLen = 0;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== best + bestLen) s += ':';
    s += u16(buf, offset + 2 * i).toString(16);
  }
  return s;
}
