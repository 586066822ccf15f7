/**
 * Classic pcap files (microsecond timestamps, Ethernet) built in memory, and a seeded synthetic capture whose
 * flows are known in advance: the input of the exporter tests that replay it through softflowd, and of the
 * pcap reader's tests. Frames are Ethernet + IPv4/IPv6 + TCP/UDP with valid lengths and checksums (IP header,
 * TCP, UDP) and zero-filled payloads.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { mulberry32 } from '../simulator/model/random';

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface UdpPacketSpec {
  /** Epoch milliseconds, rounded to the microsecond. */
  timeMs: number;
  /** IPv4 or IPv6 text (no embedded dotted quad); both ends of one family. */
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payloadLength: number;
  /** The payload's bytes (payloadLength of them); zeros when absent. */
  payload?: Buffer;
}

export interface TcpPacketSpec extends UdpPacketSpec {
  /** TCP_FLAGS bits; default ACK. */
  flags?: number;
}

export class PcapWriter {
  private readonly chunks: Buffer[] = [fileHeader()];
  /** Next sequence number per direction, so each direction's sequence space is contiguous as in real TCP. */
  private readonly nextSeq = new Map<string, number>();
  private ipId = 0;

  /** Appends a UDP packet; returns its IP length (header included), which is what flow exporters count. */
  addUdp(p: UdpPacketSpec): number {
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(p.srcPort, 0);
    udp.writeUInt16BE(p.dstPort, 2);
    udp.writeUInt16BE(8 + p.payloadLength, 4);
    return this.add(p, 17, udp, 6);
  }

  /** Appends a TCP segment (no options); returns its IP length. */
  addTcp(p: TcpPacketSpec): number {
    const flags = p.flags ?? TCP_FLAGS.ACK;
    const key = `${p.src} ${p.srcPort} ${p.dst} ${p.dstPort}`;
    const seq = this.nextSeq.get(key) ?? 1000;
    const syn = flags & TCP_FLAGS.SYN ? 1 : 0;
    const fin = flags & TCP_FLAGS.FIN ? 1 : 0;
    this.nextSeq.set(key, (seq + p.payloadLength + syn + fin) >>> 0);
    const ack = flags & TCP_FLAGS.ACK ? (this.nextSeq.get(`${p.dst} ${p.dstPort} ${p.src} ${p.srcPort}`) ?? 0) : 0;
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(p.srcPort, 0);
    tcp.writeUInt16BE(p.dstPort, 2);
    tcp.writeUInt32BE(seq, 4);
    tcp.writeUInt32BE(ack, 8);
    tcp[12] = 5 << 4; // data offset: 5 words
    tcp[13] = flags;
    tcp.writeUInt16BE(65535, 14); // window
    return this.add(p, 6, tcp, 16);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private add(p: UdpPacketSpec, proto: 6 | 17, header: Buffer, checksumAt: number): number {
    const src = parseAddr(p.src);
    const dst = parseAddr(p.dst);
    if (src.length !== dst.length) throw new Error(`addresses of different families: ${p.src} and ${p.dst}`);
    if (p.payload && p.payload.length !== p.payloadLength) throw new RangeError(`payload of ${p.payload.length} bytes, payloadLength ${p.payloadLength}`);
    const l4 = Buffer.concat([header, p.payload ?? Buffer.alloc(p.payloadLength)]);
    const v4 = src.length === 4;
    const pseudo = Buffer.alloc(v4 ? 12 : 40);
    src.copy(pseudo, 0);
    dst.copy(pseudo, src.length);
    if (v4) {
      pseudo[9] = proto;
      pseudo.writeUInt16BE(l4.length, 10);
    } else {
      pseudo.writeUInt32BE(l4.length, 32);
      pseudo[39] = proto;
    }
    const sum = checksum(Buffer.concat([pseudo, l4]));
    l4.writeUInt16BE(proto === 17 && sum === 0 ? 0xffff : sum, checksumAt); // a UDP checksum of 0 means "none"
    const ip = Buffer.alloc(v4 ? 20 : 40);
    if (v4) {
      ip[0] = 0x45;
      ip.writeUInt16BE(20 + l4.length, 2);
      ip.writeUInt16BE(this.ipId++ & 0xffff, 4);
      ip.writeUInt16BE(0x4000, 6); // don't fragment
      ip[8] = 64;
      ip[9] = proto;
      src.copy(ip, 12);
      dst.copy(ip, 16);
      ip.writeUInt16BE(checksum(ip), 10);
    } else {
      ip.writeUInt32BE(0x60000000, 0);
      ip.writeUInt16BE(l4.length, 4);
      ip[6] = proto;
      ip[7] = 64;
      src.copy(ip, 8);
      dst.copy(ip, 24);
    }
    // Locally administered MACs derived from the addresses keep each host's MAC stable.
    const eth = Buffer.concat([mac(dst), mac(src), Buffer.from(v4 ? [0x08, 0x00] : [0x86, 0xdd])]);
    const frameLength = eth.length + ip.length + l4.length;
    const record = Buffer.alloc(16);
    const us = Math.round(p.timeMs * 1000);
    record.writeUInt32LE(Math.floor(us / 1e6), 0);
    record.writeUInt32LE(us % 1e6, 4);
    record.writeUInt32LE(frameLength, 8);
    record.writeUInt32LE(frameLength, 12);
    this.chunks.push(record, eth, ip, l4);
    return ip.length + l4.length;
  }
}

/**
 * Writes a classic capture to `file` as its header and then its records over and over, until the file holds at
 * least `minBytes`, without holding more than one copy in memory. Returns how many times the records were written.
 */
export function writeRepeated(file: string, pcap: Buffer, minBytes: number): number {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, pcap.subarray(0, 24));
    let times = 0;
    for (let size = 24; size < minBytes; size += pcap.length - 24, times++) writeSync(fd, pcap.subarray(24));
    return times;
  } finally {
    closeSync(fd);
  }
}

function fileHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16); // snaplen: everything
  h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  return h;
}

const mac = (addr: Buffer) => Buffer.from([0x02, 0x00, ...addr.subarray(-4)]);

function parseAddr(s: string): Buffer {
  if (isIPv4(s)) return Buffer.from(s.split('.').map(Number));
  if (!isIPv6(s) || s.includes('.')) throw new Error(`not an IPv4 or plain IPv6 address: ${s}`);
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const [head, tail] = s.split('::');
  const h = groups(head);
  const t = groups(tail);
  const all = s.includes('::') ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
  return b;
}

/** The Internet checksum (RFC 1071). */
function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export interface SyntheticTrafficOptions {
  seed?: number;
  /** At most 20000: each conversation owns two ephemeral ports, so no two share a 5-tuple. */
  conversations?: number;
  startMs?: number;
  /** Capture time over which the conversations start (each then lasts a few milliseconds). */
  spanMs?: number;
}

/** One direction of a conversation: one record in a unidirectional NetFlow/IPFIX export. */
export interface ExpectedFlow {
  protocol: 6 | 17;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  packets: number;
  /** Sum of IP lengths (IP header included), what NetFlow/IPFIX octet counters count. */
  bytes: number;
}

export interface SyntheticTraffic {
  pcap: Buffer;
  /**
   * Totals over the whole capture. Each conversation is exactly two unidirectional flows, so an exporter that
   * sees the whole capture reports `flows` (2 x conversations records), whose packets and bytes sum to
   * `packets` and `bytes`:
   * - TCP: SYN, SYN-ACK, ACK, request/response segments, then FIN-ACK each way. The last packet completes the
   *   FIN exchange (the final ACK is left out), so softflowd ends the flow on it and nothing opens a third flow.
   * - DNS (UDP 53): queries and answers on one client port: one 5-tuple per direction.
   * - RoCEv2 (UDP 4791): data one way and acknowledgements back, each sent to port 4791 from its own source
   *   port as RoCE does: two 5-tuples, one direction each.
   * softflowd tracks a conversation (or each RoCE direction) as one flow entry until the end of the capture:
   * keep conversations well under its -m (8192 entries by default), or it expires entries early and splits them.
   */
  expected: { packets: number; bytes: number; conversations: number; flows: ExpectedFlow[] };
}

type Packet = { tcp: true; spec: TcpPacketSpec } | { tcp: false; spec: UdpPacketSpec };

/** A deterministic capture: hosts in 10.101.0.0/16 and fd00::/64 (a third of conversations IPv6). */
export function syntheticTraffic(opts: SyntheticTrafficOptions = {}): SyntheticTraffic {
  const { seed = 1, conversations = 64, startMs = Date.UTC(2025, 0, 6, 12), spanMs = 5000 } = opts;
  if (!Number.isInteger(conversations) || conversations < 0 || conversations > 20000) {
    throw new RangeError(`conversations must be an integer in 0..20000, not ${conversations}`);
  }
  const rng = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const host = (v6: boolean, i: number) => (v6 ? `fd00::1:${(i + 10).toString(16)}` : `10.101.${1 + (i >> 4)}.${10 + (i & 15)}`);
  const packets: Packet[] = [];
  for (let c = 0; c < conversations; c++) {
    const v6 = rng() < 1 / 3;
    const a = int(0, 31);
    const b = (a + int(1, 31)) % 32;
    const [client, server] = [host(v6, a), host(v6, b)];
    const [port1, port2] = [20000 + 2 * c, 20001 + 2 * c];
    let t = startMs + int(0, Math.round(spanMs * 1000)) / 1000;
    const at = () => (t += int(20, 2000) / 1000); // 20 µs to 2 ms apart, whole microseconds
    const udp = (up: boolean, srcPort: number, dstPort: number, payloadLength: number) =>
      packets.push({ tcp: false, spec: { timeMs: at(), src: up ? client : server, dst: up ? server : client, srcPort, dstPort, payloadLength } });
    const kind = rng();
    if (kind < 0.5) {
      const { SYN, ACK, PSH, FIN } = TCP_FLAGS;
      const serverPort = [22, 443, 2379, 6443, 29500][int(0, 4)]!;
      const tcp = (up: boolean, flags: number, payloadLength = 0) => {
        const [src, dst, srcPort, dstPort] = up ? [client, server, port1, serverPort] : [server, client, serverPort, port1];
        packets.push({ tcp: true, spec: { timeMs: at(), src, dst, srcPort, dstPort, payloadLength, flags } });
      };
      tcp(true, SYN);
      tcp(false, SYN | ACK);
      tcp(true, ACK);
      for (let r = int(1, 6); r > 0; r--) {
        tcp(true, PSH | ACK, int(1, 1400));
        tcp(false, PSH | ACK, int(0, 1400));
      }
      tcp(true, FIN | ACK);
      tcp(false, FIN | ACK);
    } else if (kind < 0.8) {
      for (let r = int(1, 8); r > 0; r--) {
        udp(true, port1, 4791, 12 + int(256, 4096) + 4); // BTH + data + ICRC
        if (r % 2 === 1) udp(false, port2, 4791, 12 + 4 + 4); // BTH + AETH + ICRC
      }
    } else {
      for (let r = int(1, 2); r > 0; r--) {
        udp(true, port1, 53, int(30, 60));
        udp(false, 53, port1, int(60, 200));
      }
    }
  }
  // Sorting is stable, so a conversation's packets keep their order even on equal timestamps.
  packets.sort((x, y) => x.spec.timeMs - y.spec.timeMs);
  const writer = new PcapWriter();
  const flows = new Map<string, ExpectedFlow>();
  let bytes = 0;
  for (const p of packets) {
    const length = p.tcp ? writer.addTcp(p.spec) : writer.addUdp(p.spec);
    const { src, dst, srcPort, dstPort } = p.spec;
    const key = `${p.tcp} ${src} ${srcPort} ${dst} ${dstPort}`;
    const flow = flows.get(key) ?? { protocol: p.tcp ? 6 : 17, src, dst, srcPort, dstPort, packets: 0, bytes: 0 };
    flow.packets++;
    flow.bytes += length;
    flows.set(key, flow);
    bytes += length;
  }
  return { pcap: writer.toBuffer(), expected: { packets: packets.length, bytes, conversations, flows: [...flows.values()] } };
}
