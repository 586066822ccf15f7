/** pcap and pcapng reading over hand-built captures, and the writer checked against tshark as a peer. */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CaptureError, type CapturedPacket, CaptureStats, readCapture, udpPayloads } from '../../ingest/pcap';
import { UserError } from '../../core/error-text';
import { PcapWriter, syntheticTraffic, TCP_FLAGS, type UdpPacketSpec } from '../pcap-writer';

const T0 = 1736164800; // 2025-01-06T12:00:00Z
const MS0 = T0 * 1000;

const A: UdpPacketSpec = { timeMs: MS0 + 250, src: '10.101.0.1', dst: '10.101.0.2', srcPort: 20000, dstPort: 4739, payloadLength: 100 };
const B: UdpPacketSpec = { timeMs: MS0, src: 'fd00::1', dst: 'fd00::2', srcPort: 20001, dstPort: 2055, payloadLength: 60 };
const C: UdpPacketSpec = { timeMs: MS0, src: '10.101.0.3', dst: '10.101.0.4', srcPort: 20002, dstPort: 9995, payloadLength: 0 };
const D: UdpPacketSpec = { timeMs: MS0, src: '2001:db8::1', dst: 'fe80::1', srcPort: 20003, dstPort: 6343, payloadLength: 200 };

/** What udpPayloads should yield for a spec captured at timeMs (payloads are zero-filled by the writer). */
const datagram = (s: UdpPacketSpec, timeMs: number) => ({
  timeMs,
  srcAddr: s.src,
  dstAddr: s.dst,
  srcPort: s.srcPort,
  dstPort: s.dstPort,
  payload: Buffer.alloc(s.payloadLength),
});

/** Jest's toEqual needs plain numbers close in the last bits of epoch milliseconds: round to the microsecond.
 * Offsets are left out (the tests of skipped records check them). */
const atMicros = <T extends { timeMs: number; offset: number }>(xs: Iterable<T>) =>
  [...xs].map(({ offset: _, ...x }) => ({ ...x, timeMs: Math.round(x.timeMs * 1000) / 1000 }));

/** Ethernet frames as PcapWriter builds them. */
function ethFrames(...specs: UdpPacketSpec[]): Buffer[] {
  const w = new PcapWriter();
  for (const s of specs) w.addUdp(s);
  return [...readCapture(w.toBuffer())].map((p) => Buffer.from(p.data));
}
const ipPacket = (s: UdpPacketSpec) => ethFrames(s)[0]!.subarray(14);

function u16(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}
function u32(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

/** A classic pcap whose i-th record is captured at T0 + i + 0.5 s; `wire` lengths of frames cut by the snap length. */
function classic(linkType: number, frames: Buffer[], { le = true, nano = false, wire = [] as number[] } = {}): Buffer {
  const header = [u32(le, nano ? 0xa1b23c4d : 0xa1b2c3d4), u16(le, 2), u16(le, 4), u32(le, 0), u32(le, 0), u32(le, 65535), u32(le, linkType)];
  const records = frames.flatMap((f, i) => [u32(le, T0 + i), u32(le, nano ? 500_000_000 : 500_000), u32(le, f.length), u32(le, wire[i] ?? f.length), f]);
  return Buffer.concat([...header, ...records]);
}
/** Where the i-th record of classic(..., frames) starts. */
const recordAt = (frames: Buffer[], i: number) => 24 + frames.slice(0, i).reduce((n, f) => n + 16 + f.length, 0);
const halfPast = (i: number) => MS0 + i * 1000 + 500;

const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
function block(le: boolean, type: number, ...body: Buffer[]): Buffer {
  const padded = pad4(Buffer.concat(body));
  return Buffer.concat([u32(le, type), u32(le, padded.length + 12), padded, u32(le, padded.length + 12)]);
}
const option = (le: boolean, code: number, value: Buffer) => Buffer.concat([u16(le, code), u16(le, value.length), pad4(value)]);
const endOfOptions = Buffer.alloc(4);
function i64(le: boolean, v: bigint): Buffer {
  const b = Buffer.alloc(8);
  if (le) b.writeBigInt64LE(v);
  else b.writeBigInt64BE(v);
  return b;
}
function epb(le: boolean, iface: number, ts: bigint, data: Buffer): Buffer {
  const [high, low] = [Number(ts >> 32n), Number(ts & 0xffffffffn)];
  return block(le, 6, u32(le, iface), u32(le, high), u32(le, low), u32(le, data.length), u32(le, data.length), data);
}

const shb = (le: boolean) =>
  block(le, 0x0a0d0d0a, u32(le, 0x1a2b3c4d), u16(le, 1), u16(le, 0), i64(le, -1n), option(le, 4, Buffer.from('eastwatch')), endOfOptions);
const idb = (le: boolean, linkType: number, snapLen: number, ...options: Buffer[]) =>
  block(le, 1, u16(le, linkType), u16(le, 0), u32(le, snapLen), ...options, ...(options.length ? [endOfOptions] : []));

/**
 * One pcapng section: raw-IP (ns), Ethernet (default µs) and BSD loopback (1/8 s, +100 s offset) interfaces,
 * the packets A (EPB, Ethernet), B (EPB, raw), C (SPB: raw, no time) and D (EPB, loopback), and blocks to skip.
 */
function section(le: boolean): Buffer {
  return Buffer.concat([
    shb(le),
    idb(le, 101, 0, option(le, 9, Buffer.from([9]))),
    idb(le, 1, 0),
    idb(le, 0, 0, option(le, 9, Buffer.from([0x83])), option(le, 14, i64(le, 100n))),
    block(le, 4, Buffer.from('name resolution records, skipped')),
    epb(le, 1, BigInt(T0) * 1_000_000n + 250_000n, ethFrames(A)[0]!),
    epb(le, 0, BigInt(T0 + 1) * 1_000_000_000n + 123_456_000n, ipPacket(B)),
    block(le, 3, u32(le, ipPacket(C).length), ipPacket(C)),
    epb(le, 2, BigInt(T0) * 8n + 4n, Buffer.concat([u32(le, 30), ipPacket(D)])),
    epb(le, 7, 0n, ipPacket(A)), // no such interface
    block(le, 5, u32(le, 0), Buffer.alloc(8)), // interface statistics
  ]);
}
const sectionDatagrams = [
  datagram(A, MS0 + 250),
  datagram(B, MS0 + 1123.456),
  datagram(C, MS0 + 1123.456),
  datagram(D, MS0 + 100_500),
];

/** Where the record or block holding a packet ends (packets are views into the capture buffer). */
function packetEnd(capture: Buffer, p: CapturedPacket, pcapng: boolean): number {
  const dataEnd = p.data.byteOffset - capture.byteOffset + p.data.length;
  return pcapng ? Math.ceil(dataEnd / 4) * 4 + 4 : dataEnd;
}

describe('PcapWriter read back', () => {
  it('round-trips addresses, ports, payload lengths and timestamps', () => {
    const w = new PcapWriter();
    const specs: UdpPacketSpec[] = [
      { ...A, timeMs: MS0 + 0.001 },
      { ...B, timeMs: MS0 + 1.5, src: '2001:DB8:0:0:1:0:0:1', dst: '2001:0db8:0:1:1:1:1:1' },
      { ...C, timeMs: MS0 + 999.999, src: '2001:0:0:1:0:0:0:1', dst: '::' },
      { ...D, timeMs: MS0 + 60_000, src: '0:0:0:0:0:0:0:1', dst: '1::' },
    ];
    expect(w.addUdp(specs[0]!)).toBe(20 + 8 + 100);
    expect(w.addTcp({ ...A, timeMs: MS0 + 1, payloadLength: 10, flags: TCP_FLAGS.SYN })).toBe(20 + 20 + 10);
    expect(specs.slice(1).map((s) => w.addUdp(s))).toEqual([40 + 8 + 60, 40 + 8 + 0, 40 + 8 + 200]);
    const pcap = w.toBuffer();

    expect(atMicros(readCapture(pcap)).map((p) => [p.timeMs, p.linkType, p.data.length])).toEqual([
      [MS0 + 0.001, 1, 14 + 128],
      [MS0 + 1, 1, 14 + 50],
      [MS0 + 1.5, 1, 14 + 108],
      [MS0 + 999.999, 1, 14 + 48],
      [MS0 + 60_000, 1, 14 + 248],
    ]);
    // IPv6 text comes back in RFC 5952 form: first longest zero run compressed, single zero groups kept.
    const canonical = (spec: UdpPacketSpec, src: string, dst: string) => ({ ...spec, src, dst });
    expect(atMicros(udpPayloads(pcap))).toEqual([
      datagram(specs[0]!, MS0 + 0.001),
      datagram(canonical(specs[1]!, '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1'), MS0 + 1.5),
      datagram(canonical(specs[2]!, '2001:0:0:1::1', '::'), MS0 + 999.999),
      datagram(canonical(specs[3]!, '::1', '1::'), MS0 + 60_000),
    ]);
  });

  it('generates a deterministic synthetic capture whose expected flows add up', () => {
    const { pcap, expected } = syntheticTraffic({ seed: 7, conversations: 60, startMs: MS0, spanMs: 3000 });
    expect(syntheticTraffic({ seed: 7, conversations: 60, startMs: MS0, spanMs: 3000 }).pcap.equals(pcap)).toBe(true);
    expect(syntheticTraffic({ seed: 8, conversations: 60, startMs: MS0, spanMs: 3000 }).pcap.equals(pcap)).toBe(false);

    const packets = [...readCapture(pcap)];
    expect(packets).toHaveLength(expected.packets);
    // Independently of the writer: IP lengths from the frames' IP headers.
    const ipLength = (f: Buffer) => (f.readUInt16BE(12) === 0x0800 ? f.readUInt16BE(16) : 40 + f.readUInt16BE(18));
    expect(packets.reduce((n, p) => n + ipLength(p.data), 0)).toBe(expected.bytes);
    const times = packets.map((p) => p.timeMs);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times[0]).toBeGreaterThanOrEqual(MS0);
    expect(times.at(-1)).toBeLessThan(MS0 + 3000 + 100);

    const { flows } = expected;
    expect(expected.conversations).toBe(60);
    expect(flows).toHaveLength(120);
    expect(flows.reduce((n, f) => n + f.packets, 0)).toBe(expected.packets);
    expect(flows.reduce((n, f) => n + f.bytes, 0)).toBe(expected.bytes);
    const key = (f: { srcAddr: string; srcPort: number; dstAddr: string; dstPort: number }) => `${f.srcAddr} ${f.srcPort} ${f.dstAddr} ${f.dstPort}`;
    expect(new Set(flows.map((f) => `${f.protocol} ${key({ ...f, srcAddr: f.src, dstAddr: f.dst })}`)).size).toBe(120);
    // The UDP flows are exactly what the reader finds, packet for packet.
    const udpCounts = new Map<string, number>();
    for (const d of udpPayloads(pcap)) udpCounts.set(key(d), (udpCounts.get(key(d)) ?? 0) + 1);
    const udpFlows = flows.filter((f) => f.protocol === 17);
    expect(new Map(udpFlows.map((f) => [key({ ...f, srcAddr: f.src, dstAddr: f.dst }), f.packets]))).toEqual(udpCounts);
    // The mix the exporter tests rely on: TCP, RoCE and DNS, over IPv4 and IPv6.
    expect(flows.some((f) => f.protocol === 6)).toBe(true);
    expect(udpFlows.some((f) => f.dstPort === 4791)).toBe(true);
    expect(udpFlows.some((f) => f.dstPort === 53)).toBe(true);
    expect(flows.some((f) => f.src.startsWith('fd00::'))).toBe(true);
    expect(flows.some((f) => f.src.startsWith('10.101.'))).toBe(true);
  });
});

describe('readCapture and udpPayloads', () => {
  it.each([true, false])('reads pcapng sections (little-endian: %s) with EPBs, an SPB and blocks to skip', (le) => {
    const capture = section(le);
    expect(atMicros(readCapture(capture)).map((p) => [p.timeMs, p.linkType, p.data.length])).toEqual([
      [MS0 + 250, 1, 14 + 128],
      [MS0 + 1123.456, 101, 108],
      [MS0 + 1123.456, 101, 28],
      [MS0 + 100_500, 0, 4 + 248],
    ]);
    const stats = new CaptureStats();
    expect(atMicros(udpPayloads(capture, stats))).toEqual(sectionDatagrams);
    const noSuchInterface = capture.indexOf(epb(le, 7, 0n, ipPacket(A)));
    expect(stats).toEqual({ packets: 5, datagrams: 4, skipped: { 'unknown-interface': { count: 1, firstOffset: noSuchInterface } } });
  });

  it('reads a pcapng file of sections in both byte orders, interfaces numbered per section', () => {
    const third = Buffer.concat([shb(true), idb(true, 101, 0), epb(true, 0, BigInt(T0) * 1_000_000n + 7n, ipPacket(A))]);
    expect(atMicros(udpPayloads(Buffer.concat([section(true), section(false), third])))).toEqual([
      ...sectionDatagrams,
      ...sectionDatagrams,
      datagram(A, MS0 + 0.007),
    ]);
  });

  it('cuts a Simple Packet Block to the interface snap length', () => {
    const capture = Buffer.concat([shb(false), idb(false, 101, 64), block(false, 3, u32(false, 128), ipPacket(A))]);
    expect([...readCapture(capture)].map((p) => [p.linkType, p.data.length])).toEqual([[101, 64]]);
    const stats = new CaptureStats();
    expect([...udpPayloads(capture, stats)]).toEqual([]);
    const spbAt = shb(false).length + idb(false, 101, 64).length;
    expect(stats).toEqual({ packets: 1, datagrams: 0, skipped: { 'truncated-packet': { count: 1, firstOffset: spbAt } } });
  });

  it.each([
    ['little-endian, µs', { le: true, nano: false }],
    ['big-endian, µs', { le: false, nano: false }],
    ['little-endian, ns', { le: true, nano: true }],
    ['big-endian, ns', { le: false, nano: true }],
  ])('reads classic pcap (%s)', (_, opts) => {
    const capture = classic(1, ethFrames(A, B, C), opts);
    expect(atMicros(udpPayloads(capture))).toEqual([datagram(A, halfPast(0)), datagram(B, halfPast(1)), datagram(C, halfPast(2))]);
  });

  it('unwraps raw IP, Linux cooked (SLL, SLL2), BSD loopback and VLAN-tagged padded Ethernet', () => {
    const sll = (proto: number) => Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]), u16(false, proto)]);
    const sll2 = (proto: number) => Buffer.concat([u16(false, proto), Buffer.from([0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0])]);
    const [ethA, ethB] = ethFrames(A, B) as [Buffer, Buffer];
    const tagged = Buffer.concat([ethA.subarray(0, 12), Buffer.from([0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 5]), ethA.subarray(12), Buffer.alloc(10, 0xee)]);
    const arp = Buffer.concat([ethA.subarray(0, 12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    const both = [datagram(A, halfPast(0)), datagram(B, halfPast(1))];
    for (const linkType of [101, 12, 14]) expect(atMicros(udpPayloads(classic(linkType, [ipPacket(A), ipPacket(B)])))).toEqual(both);
    expect(atMicros(udpPayloads(classic(113, [Buffer.concat([sll(0x0800), ipPacket(A)]), Buffer.concat([sll(0x86dd), ipPacket(B)])])))).toEqual(both);
    expect(atMicros(udpPayloads(classic(276, [Buffer.concat([sll2(0x0800), ipPacket(A)]), Buffer.concat([sll2(0x86dd), ipPacket(B)])])))).toEqual(both);
    const loopback = [Buffer.concat([u32(true, 2), ipPacket(A)]), Buffer.concat([u32(false, 24), ipPacket(B)])];
    expect(atMicros(udpPayloads(classic(0, loopback)))).toEqual(both);
    // The padding after the IP packet is not payload; ARP and unknown link types are passed over.
    const stats = new CaptureStats();
    expect(atMicros(udpPayloads(classic(1, [tagged, arp, ethB]), stats))).toEqual([datagram(A, halfPast(0)), datagram(B, halfPast(2))]);
    expect(stats).toEqual({ packets: 3, datagrams: 2, skipped: { 'not-ip': { count: 1, firstOffset: recordAt([tagged, arp], 1) } } });
    const unknown = new CaptureStats();
    expect([...udpPayloads(classic(147, [ipPacket(A), ipPacket(B)]), unknown)]).toEqual([]);
    expect(unknown.skipped).toEqual({ 'unknown-link-type': { count: 2, firstOffset: 24 } });
  });

  it('skips IP fragments and damaged headers, counting them, and walks IPv6 extension headers', () => {
    const v4 = ipPacket(A);
    const withFlags = (flags: number) => Buffer.concat([v4.subarray(0, 6), u16(false, flags), v4.subarray(8)]);
    const v6 = ipPacket(B);
    /** B behind one 8-byte extension header of the given type and bytes 2..7. */
    const extended = (type: number, rest: number[]) => {
      const header = Buffer.concat([v6.subarray(0, 40)]);
      header.writeUInt16BE(v6.length - 40 + 8, 4);
      header[6] = type;
      return Buffer.concat([header, Buffer.from([17, 0, ...rest]), v6.subarray(40)]);
    };
    const udpTooLong = Buffer.concat([v4, Buffer.alloc(4)]); // past the IP length, within the frame
    udpTooLong.writeUInt16BE(8 + 101, 24);
    const frames = [
      withFlags(0x2000), // first fragment: more fragments follow
      withFlags(0x0010), // a later fragment
      withFlags(0x4000), // don't fragment: whole
      extended(0, [1, 4, 0, 0, 0, 0]), // hop-by-hop options (PadN)
      extended(44, [0, 1, 0, 0, 0, 1]), // fragment header, more fragments
      extended(44, [0, 0, 0, 0, 0, 2]), // atomic fragment: whole
      v4.subarray(0, v4.length - 1), // cut by the snap length
      udpTooLong,
      Buffer.from([0x45, 0, 0]),
      Buffer.concat([v4.subarray(0, 9), Buffer.from([6]), v4.subarray(10)]), // TCP
    ];
    const stats = new CaptureStats();
    const wire = Object.assign([], { 6: v4.length });
    expect(atMicros(udpPayloads(classic(101, frames, { wire }), stats))).toEqual([datagram(A, halfPast(2)), datagram(B, halfPast(3)), datagram(B, halfPast(5))]);
    expect(stats).toEqual({
      packets: 10,
      datagrams: 3,
      skipped: {
        'ip-fragment': { count: 3, firstOffset: recordAt(frames, 0) },
        'truncated-packet': { count: 1, firstOffset: recordAt(frames, 6) },
        'malformed-ip-udp': { count: 2, firstOffset: recordAt(frames, 7) },
        'not-udp': { count: 1, firstOffset: recordAt(frames, 9) },
      },
    });
  });

  it('stops at a truncated record at every cut point, throwing only while the file header is incomplete', () => {
    const captures: [Buffer, boolean, number][] = [
      [classic(1, ethFrames(A, B, C)), false, 24],
      [section(true), true, section(true).readUInt32LE(4)],
    ];
    for (const [capture, pcapng, headerLength] of captures) {
      const full = [...readCapture(capture)];
      for (let cut = 0; cut < capture.length; cut++) {
        const part = capture.subarray(0, cut);
        if (cut < headerLength) {
          expect(() => readCapture(part)).toThrow(/^not a pcap or pcapng file: /);
          continue;
        }
        expect([...readCapture(part)]).toEqual(full.filter((p) => packetEnd(capture, p, pcapng) <= cut));
        expect([...udpPayloads(part)].length).toBeLessThanOrEqual(full.length);
      }
    }
  });

  it('never throws past the header on damaged bytes', () => {
    const captures: [Buffer, number][] = [
      [classic(1, ethFrames(A, B)), 24],
      [classic(101, [ipPacket(D)]), 24],
      [section(true), section(true).readUInt32LE(4)],
      [section(false), section(false).readUInt32BE(4)],
    ];
    for (const [capture, headerLength] of captures) {
      for (let i = 0; i < capture.length; i++) {
        for (const value of [0x00, 0x80, 0xff]) {
          const damaged = Buffer.from(capture);
          damaged[i] = value;
          try {
            for (const d of udpPayloads(damaged)) expect(d.payload.length).toBeLessThan(capture.length);
          } catch (e) {
            expect([i < headerLength, (e as Error).message]).toEqual([true, expect.stringMatching(/^not a pcap or pcapng file: /)]);
          }
        }
      }
    }
  });

  it('says why a file is not a capture, as an error for the operator', () => {
    expect(() => readCapture(Buffer.from('hello, not a capture'))).toThrow(UserError);
    expect(() => readCapture(Buffer.from('hello, not a capture'))).toThrow(new Error('not a pcap or pcapng file: unknown magic 0x68656c6c'));
    expect(() => readCapture(Buffer.alloc(0))).toThrow(new CaptureError('not a pcap or pcapng file: only 0 bytes'));
    expect(() => readCapture(Buffer.from([0xd4, 0xc3]))).toThrow(new Error('not a pcap or pcapng file: only 2 bytes'));
    expect(() => udpPayloads(classic(1, []).subarray(0, 10))).toThrow(new Error('not a pcap or pcapng file: pcap header cut at 10 bytes'));
    const badOrder = section(true);
    badOrder.writeUInt32LE(0x12345678, 8);
    expect(() => readCapture(badOrder)).toThrow(new Error('not a pcap or pcapng file: pcapng Section Header Block without a byte-order magic'));
    expect(() => readCapture(section(true).subarray(0, 20))).toThrow(new Error('not a pcap or pcapng file: truncated or malformed pcapng Section Header Block'));
  });
});

describe('what a damaged capture says it passed over', () => {
  const frames = ethFrames(A, B, C);
  const whole = classic(1, frames);
  const read = (capture: Buffer) => {
    const stats = new CaptureStats();
    const datagrams = atMicros(udpPayloads(capture, stats));
    return { datagrams, skipped: stats.skipped, packets: stats.packets };
  };

  it('reports a last packet cut off, in its data or in its record header, at the offset of its record', () => {
    const last = recordAt(frames, 2);
    expect(read(whole.subarray(0, whole.length - 1))).toEqual({
      datagrams: [datagram(A, halfPast(0)), datagram(B, halfPast(1))],
      skipped: { 'captured-length-beyond-file': { count: 1, firstOffset: last } },
      packets: 3,
    });
    expect(read(whole.subarray(0, last + 10)).skipped).toEqual({ 'truncated-record': { count: 1, firstOffset: last } });
    expect(read(whole.subarray(0, last)).skipped).toEqual({});
  });

  it('ends at a captured length beyond the file, and skips one beyond the snap length to read on', () => {
    const beyondFile = Buffer.from(whole);
    beyondFile.writeUInt32LE(60_000, recordAt(frames, 1) + 8); // under the snap length (65535), past the end
    expect(read(beyondFile)).toEqual({
      datagrams: [datagram(A, halfPast(0))],
      skipped: { 'captured-length-beyond-file': { count: 1, firstOffset: recordAt(frames, 1) } },
      packets: 2,
    });
    const jumbo = Buffer.alloc(70_000);
    const withJumbo = classic(1, [frames[0]!, jumbo, frames[2]!]);
    expect(read(withJumbo)).toEqual({
      datagrams: [datagram(A, halfPast(0)), datagram(C, halfPast(2))],
      skipped: { 'captured-length-beyond-snap-length': { count: 1, firstOffset: recordAt(frames, 1) } },
      packets: 3,
    });
  });

  it('ends at a pcapng block whose length cannot be right, or that runs past the file', () => {
    const le = true;
    const head = Buffer.concat([shb(le), idb(le, 101, 0)]);
    const good = epb(le, 0, BigInt(T0) * 1_000_000n, ipPacket(A));
    const withLength = (total: number, trailer = total) => {
      const b = Buffer.from(good);
      b.writeUInt32LE(total, 4);
      b.writeUInt32LE(trailer, b.length - 4);
      return b;
    };
    const at = head.length + good.length;
    const cases: [Buffer, string][] = [
      [withLength(good.length - 2), 'bad-block-length'], // not a multiple of 4
      [withLength(8), 'bad-block-length'], // under the 12 bytes of any block
      [withLength(good.length, good.length + 4), 'bad-block-length'], // unlike its trailer
      [withLength(32 << 20), 'bad-block-length'], // over 16 MiB
      [withLength(good.length + 1000), 'block-beyond-file'],
      [Buffer.concat([shb(le).subarray(0, 8), Buffer.alloc(4, 0x77), shb(le).subarray(12)]), 'bad-section-header'],
    ];
    for (const [bad, reason] of cases) {
      expect(read(Buffer.concat([head, good, bad, good]))).toEqual({
        datagrams: [datagram(A, MS0)],
        skipped: { [reason]: { count: 1, firstOffset: at } },
        packets: 1,
      });
    }
  });

  it('skips pcapng packet blocks that do not hold together, and reads on', () => {
    const le = false;
    const head = Buffer.concat([shb(le), idb(le, 101, 200)]);
    const good = epb(le, 0, BigInt(T0) * 1_000_000n, ipPacket(A));
    const dataPastBlock = Buffer.from(good);
    dataPastBlock.writeUInt32BE(good.length, 20);
    const blocks = [good, dataPastBlock, block(le, 6, Buffer.alloc(8)), epb(le, 3, 0n, ipPacket(A)), epb(le, 0, 0n, ethFrames(D)[0]!), good];
    const offsets = blocks.map((_, i) => head.length + blocks.slice(0, i).reduce((n, b) => n + b.length, 0));
    expect(read(Buffer.concat([head, ...blocks]))).toEqual({
      datagrams: [datagram(A, MS0), datagram(A, MS0)],
      skipped: {
        'bad-block': { count: 2, firstOffset: offsets[1] },
        'unknown-interface': { count: 1, firstOffset: offsets[3] },
        'captured-length-beyond-snap-length': { count: 1, firstOffset: offsets[4] },
      },
      packets: 6,
    });
  });

  describe('from a file, read as a stream', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-pcap-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const fromFile = <T>(name: string, bytes: Buffer, f: (fd: number) => T): T => {
      writeFileSync(path.join(dir, name), bytes);
      const fd = openSync(path.join(dir, name), 'r');
      try {
        return f(fd);
      } finally {
        closeSync(fd);
      }
    };

    it('reads what the same bytes in memory hold, across chunk boundaries, in both formats', () => {
      // One line per datagram, made as it comes (a file's payload lasts until the next is read); jest compares
      // thousands of Buffers slowly.
      const lines = (capture: Buffer | number) => {
        const stats = new CaptureStats();
        const datagrams: string[] = [];
        for (const d of udpPayloads(capture, stats)) datagrams.push(`${d.offset} ${d.timeMs} ${d.srcAddr}.${d.srcPort} ${d.dstAddr}.${d.dstPort} ${d.payload.toString('base64')}`);
        return { datagrams, stats };
      };
      // Over 3 MiB: records of every length straddle the reader's 1 MiB chunks.
      const { pcap } = syntheticTraffic({ seed: 5, conversations: 600 });
      expect(pcap.length).toBeGreaterThan(3 << 20);
      const cut = pcap.subarray(0, pcap.length - 7);
      const fromMemory = lines(cut);
      expect(fromMemory.datagrams.length).toBeGreaterThan(1000);
      expect(fromMemory.stats.skipped['captured-length-beyond-file']).toBeDefined();
      expect(fromFile('big.pcap', cut, lines)).toEqual(fromMemory);
      const ng = Buffer.concat([section(true), ...Array.from({ length: 4000 }, (_, i) => epb(true, i % 3, BigInt(T0) * 1_000_000n + BigInt(i), ethFrames(D)[0]!))]);
      expect(ng.length).toBeGreaterThan(1 << 20);
      expect(fromFile('big.pcapng', ng, lines)).toEqual(lines(ng));
    });

    it('passes over a huge record without holding it', () => {
      const huge = classic(1, [frames[0]!, Buffer.alloc(64 << 20), frames[1]!]);
      huge.writeUInt32LE(0, 16); // snap length 0: libpcap's 256 KiB applies
      const before = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const { datagrams, skipped } = fromFile('huge.pcap', huge, (fd) => {
        const stats = new CaptureStats();
        const out = [];
        for (const d of udpPayloads(fd, stats)) {
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
          out.push({ ...d, payload: Buffer.from(d.payload) });
        }
        return { datagrams: atMicros(out), skipped: stats.skipped };
      });
      expect(datagrams).toEqual([datagram(A, halfPast(0)), datagram(B, halfPast(2))]);
      expect(skipped).toEqual({ 'captured-length-beyond-snap-length': { count: 1, firstOffset: recordAt(frames, 1) } });
      expect(peak).toBeLessThan(8 << 20);
    });

    it('throws a CaptureError for a file that is not a capture', () => {
      expect(() => fromFile('notes.txt', Buffer.from('these are notes, not packets\n'), (fd) => readCapture(fd))).toThrow(
        new CaptureError('not a pcap or pcapng file: unknown magic 0x74686573'));
      expect(() => fromFile('empty.pcap', Buffer.alloc(0), (fd) => readCapture(fd))).toThrow(new CaptureError('not a pcap or pcapng file: only 0 bytes'));
    });
  });
});

const tsharkIt = existsSync('/usr/bin/tshark') ? it : it.skip;

describe('PcapWriter output read by tshark', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-pcap-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const tshark = async (file: string, fields: string[]) => {
    const checks = ['ip', 'tcp', 'udp'].flatMap((p) => ['-o', `${p}.check_checksum:TRUE`]);
    const { stdout } = await promisify(execFile)('tshark', ['-r', file, ...checks, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])]);
    return stdout.replace(/\n$/, '').split('\n').map((l) => l.split('\t'));
  };

  tsharkIt('decodes every packet as written, with good IPv4, TCP and UDP checksums', async () => {
    const w = new PcapWriter();
    const flags = [TCP_FLAGS.SYN, TCP_FLAGS.SYN | TCP_FLAGS.ACK, TCP_FLAGS.ACK, TCP_FLAGS.PSH | TCP_FLAGS.ACK, TCP_FLAGS.FIN | TCP_FLAGS.ACK];
    const expected: string[][] = [];
    for (let i = 0; i < 40; i++) {
      const [v6, tcp] = [i % 3 === 0, i % 2 === 0];
      const spec = {
        timeMs: MS0 + i * 12.345,
        src: v6 ? `fd00::${i + 1}` : `10.101.0.${i + 1}`,
        dst: v6 ? 'fd00::ff' : '10.101.0.255',
        srcPort: 40000 + i,
        dstPort: 41000 + i,
        payloadLength: (i * 97) % 1500,
        flags: flags[i % flags.length]!,
      };
      const ipLength = tcp ? w.addTcp(spec) : w.addUdp(spec);
      const l4 = ipLength - (v6 ? 40 : 20);
      expected.push([
        (Math.round(spec.timeMs * 1000) / 1e6).toFixed(6),
        v6 ? '' : spec.src,
        v6 ? spec.src : '',
        tcp ? String(spec.srcPort) : '',
        tcp ? '' : String(spec.srcPort),
        v6 ? '' : String(ipLength),
        v6 ? String(l4) : '',
        v6 ? '' : '1',
        tcp ? `0x${spec.flags.toString(16).padStart(4, '0')}` : '',
        tcp ? '1' : '',
        tcp ? '' : '1',
      ]);
    }
    const file = path.join(dir, 'writer.pcap');
    writeFileSync(file, w.toBuffer());
    const rows = await tshark(file, [
      'frame.time_epoch', 'ip.src', 'ipv6.src', 'tcp.srcport', 'udp.srcport', 'ip.len', 'ipv6.plen',
      'ip.checksum.status', 'tcp.flags', 'tcp.checksum.status', 'udp.checksum.status',
    ]);
    expect(rows.map(([time, ...rest]) => [Number(time).toFixed(6), ...rest])).toEqual(expected);
  });

  tsharkIt('follows a TCP conversation: sequence and acknowledgement numbers line up', async () => {
    const w = new PcapWriter();
    const { SYN, ACK, PSH, FIN } = TCP_FLAGS;
    const up = { src: '10.101.0.1', dst: '10.101.0.2', srcPort: 40000, dstPort: 443 };
    const down = { src: up.dst, dst: up.src, srcPort: up.dstPort, dstPort: up.srcPort };
    const segments: [typeof up, number, number][] = [[up, SYN, 0], [down, SYN | ACK, 0], [up, ACK, 0], [up, PSH | ACK, 100], [down, PSH | ACK, 300], [up, FIN | ACK, 0], [down, FIN | ACK, 0], [up, ACK, 0]];
    segments.forEach(([ends, flags, payloadLength], i) => w.addTcp({ ...ends, timeMs: MS0 + i, flags, payloadLength }));
    const file = path.join(dir, 'tcp.pcap');
    writeFileSync(file, w.toBuffer());
    // Relative numbers, and no complaint from tshark's TCP analysis (no unseen segments, no bad ACKs).
    expect(await tshark(file, ['tcp.seq', 'tcp.ack', 'tcp.len', 'tcp.analysis.flags'])).toEqual([
      ['0', '0', '0', ''],
      ['0', '1', '0', ''],
      ['1', '1', '0', ''],
      ['1', '1', '100', ''],
      ['1', '101', '300', ''],
      ['101', '301', '0', ''],
      ['301', '102', '0', ''],
      ['102', '302', '0', ''],
    ]);
  });

  tsharkIt('counts the synthetic capture as expected', async () => {
    const { pcap, expected } = syntheticTraffic({ seed: 3, conversations: 40 });
    const file = path.join(dir, 'synthetic.pcap');
    writeFileSync(file, pcap);
    const rows = await tshark(file, ['ip.len', 'ipv6.plen', 'ip.checksum.status']);
    expect(rows).toHaveLength(expected.packets);
    expect(rows.reduce((n, [ip, ipv6]) => n + (ip ? Number(ip) : 40 + Number(ipv6)), 0)).toBe(expected.bytes);
    expect(rows.filter(([ip]) => ip).every(([, , status]) => status === '1')).toBe(true);
  });
});
