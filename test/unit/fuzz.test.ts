/**
 * Fuzzing the flow-protocol decoders (IPFIX, NetFlow v9, sFlow): well over 100k valid, mutated and random
 * packets, deterministic (seeded PRNG), through decoders whose template state is shared per protocol the way
 * a hostile exporter would share it with honest ones. What must hold for every packet:
 *   - no exception escapes a decoder;
 *   - every Flow and InterfaceCounter it emits passes its schema;
 *   - the per-exporter state stays within the configured limits;
 *   - a bad packet is counted: random garbage always yields an error, and a packet that yields nothing at all
 *     (no flow, no counter, no error) is structurally sound, i.e. one that legitimately carries nothing (templates
 *     only, data held for its template, options data, non-IP samples).
 * A slice runs through the Collector, whose eastwatch_records_failed_total must grow by exactly the errors.
 *
 * A failure names the input as hex; FUZZ_VERBOSE=1 prints the reasons seen and the run's figures.
 */
import { FlowSchema } from '../../core/flow';
import type { Logger } from '../../core/log';
import { recordsFailed, registry } from '../../core/metrics';
import { InterfaceCounterSchema } from '../../core/records';
import { Collector, CollectorProtocol } from '../../ingest/collector';
import type { Decoded } from '../../ingest/decoded';
import { decodeIpfix, decodeNetflow9, DecodeContext } from '../../ingest/ipfix/decoder';
import { DEFAULT_LIMITS, ExporterStates, Limits } from '../../ingest/ipfix/state';
import { mulberry32 } from '../../simulator/model/random';
import { decodeSflow, MAX_SAMPLES } from '../../ingest/sflow/decoder';
import * as B from '../ipfix-builder';
import * as S from '../sflow-builder';

const VERBOSE = !!process.env.FUZZ_VERBOSE;
const START = 1_764_000_100_000;

/** Small limits, so a run actually reaches every one of them. */
const LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  maxExporters: 50,
  maxDomainsPerExporter: 8,
  maxTemplatesPerDomain: 64,
  maxFieldsPerTemplate: 128,
  maxPendingSets: 16,
  maxPendingBytes: 64 * 1024,
  pendingMs: 2_000,
  templateTimeoutMs: 120_000,
};
const MAX_TEMPLATES = LIMITS.maxExporters * LIMITS.maxDomainsPerExporter * LIMITS.maxTemplatesPerDomain;
const MAX_PENDING_BYTES = LIMITS.maxExporters * LIMITS.maxDomainsPerExporter * LIMITS.maxPendingBytes;

const COUNTS = { ipfix: 38_000, netflow9: 28_000, sflow: 30_000, collector: 5_000 };

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** 0 <= n < max */
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  u32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Seed corpus. Each seed knows where its length, count and id fields are, so mutations can aim at them.

interface Seed {
  name: string;
  buf: Buffer;
  /** Width of the structural fields: 2 (IPFIX, NetFlow v9) or 4 (sFlow XDR). */
  width: 2 | 4;
  lens: number[];
  counts: number[];
  ids: number[];
  /** Template field lengths (IPFIX / NetFlow v9 only). */
  fieldLens: number[];
}

const { IE } = B;

// IPFIX templates: a DPU 5-tuple, IPv6 with NTP times, variable-length and enterprise elements, sampling options.
const DPU: B.FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 4], [IE.flowStartMilliseconds, 8],
  [IE.flowEndMilliseconds, 8], [IE.tcpControlBits, 2], [IE.ingressInterface, 4], [IE.egressInterface, 4],
  [IE.vlanId, 2], [IE.layer2SegmentId, 8],
];
const dpuRecord = (i: number) => Buffer.concat([
  B.ipv4(`10.101.0.${i}`), B.ipv4('10.102.0.20'), B.u16(49152 + i), B.u16(4791), B.u8(17), B.u64(4_096_000 + i), B.u32(1000),
  B.u64(1_764_000_000_000 + i), B.u64(1_764_000_005_000 + i), B.u16(0x12), B.u32(3), B.u32(7), B.u16(100), B.u64((1n << 56n) | 5001n),
]);
const V6: B.FieldSpec[] = [
  [IE.sourceIPv6Address, 16], [IE.destinationIPv6Address, 16], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 4], [IE.packetDeltaCount, 4], [IE.flowStartMicroseconds, 8], [IE.flowEndMicroseconds, 8],
  [IE.dot1qVlanId, 2], [IE.flowDirection, 1],
];
const v6Record = (i: number) => Buffer.concat([
  B.ipv6(`2001:db8::${i + 1}`), B.ipv6('fd00:0:0:1::53'), B.u16(40000), B.u16(443), B.u8(6), B.u32(1500 * i + 1), B.u32(i + 1),
  B.ntp(1_764_000_000_250), B.ntp(1_764_000_001_750), B.u16(12), B.u8(i & 1),
]);
const VARLEN: B.FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.applicationName, 65535], [IE.destinationIPv4Address, 4], [7, 65535, 12345], [9, 2, 47450],
  [IE.flowStartSeconds, 4], [161 /* flowDurationMilliseconds */, 4],
];
const varlenRecord = (i: number, long: number) => Buffer.concat([
  B.ipv4(`10.0.${i}.1`), B.u8(3), Buffer.from('ssh'), B.ipv4(`10.0.${i}.2`),
  ...(long >= 255 ? [B.u8(255), B.u16(long)] : [B.u8(long)]), Buffer.alloc(long, 0xab), B.u16(0xbeef), B.u32(1_764_000_000), B.u32(2500),
]);
const SELECTED: B.FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.selectorId, 8], [IE.octetDeltaCount, 4], [IE.flowDirection, 1]];
const selectedRecord = (i: number, selector: number) => Buffer.concat([B.ipv4(`10.9.0.${i}`), B.ipv4('10.9.1.1'), B.u64(selector), B.u32(77), B.u8(0)]);
const UPTIME: B.FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.flowStartSysUpTime, 4], [IE.flowEndSysUpTime, 4],
  [IE.systemInitTimeMilliseconds, 8], [IE.samplerRandomInterval, 4], [IE.flowStartDeltaMicroseconds, 4], [IE.flowEndDeltaMicroseconds, 4],
];
const uptimeRecord = (i: number) => Buffer.concat([
  B.ipv4(`10.8.0.${i}`), B.ipv4('10.8.1.1'), B.u32(1000), B.u32(4000), B.u64(1_764_000_000_000), B.u32(512), B.u32(9_000_000), B.u32(1_000_000),
]);

function ipfixSeeds(): Seed[] {
  const t = (id: number, f: B.FieldSpec[]) => B.templateRecord(id, f);
  const opts = B.set(3,
    B.optionsTemplateRecord(259, [[IE.selectorId, 8]], [[IE.samplingPacketInterval, 4], [IE.samplingPacketSpace, 4]]),
    B.optionsTemplateRecord(260, [[IE.samplerId, 2]], [[IE.samplingInterval, 4], [IE.systemInitTimeMilliseconds, 8]]));
  const optsData = [B.set(259, Buffer.concat([B.u64(9), B.u32(1), B.u32(999)])), B.set(260, Buffer.concat([B.u16(0), B.u32(4096), B.u64(1_763_999_000_000)]))];
  const msgs: [string, Buffer][] = [
    ['dpu template+data', B.ipfixMessage({}, B.set(2, t(256, DPU)), B.set(256, dpuRecord(1), dpuRecord(2)))],
    ['dpu data', B.ipfixMessage({}, B.set(256, dpuRecord(3), dpuRecord(4), dpuRecord(5)))],
    ['v6 template+data', B.ipfixMessage({}, B.set(2, t(257, V6)), B.set(257, v6Record(1), v6Record(2)))],
    ['v6 data', B.ipfixMessage({}, B.set(257, v6Record(3)))],
    ['varlen template+data', B.ipfixMessage({}, B.set(2, t(258, VARLEN)), B.set(258, varlenRecord(1, 4), varlenRecord(2, 300)))],
    ['varlen data', B.ipfixMessage({}, B.set(258, varlenRecord(3, 0), varlenRecord(4, 254), Buffer.alloc(2)))],
    ['options+data', B.ipfixMessage({}, opts, ...optsData, B.set(2, t(261, SELECTED)), B.set(261, selectedRecord(1, 9), selectedRecord(2, 77)))],
    ['selected data', B.ipfixMessage({}, B.set(261, selectedRecord(3, 9)))],
    ['uptime template+data', B.ipfixMessage({}, B.set(2, t(262, UPTIME)), B.set(262, uptimeRecord(1)))],
    ['templates only', B.ipfixMessage({}, B.set(2, t(256, DPU), t(257, V6), t(258, VARLEN)))],
    ['mixed data', B.ipfixMessage({}, B.set(256, dpuRecord(6)), B.set(257, v6Record(4)), B.set(258, varlenRecord(5, 1)), B.set(262, uptimeRecord(2)))],
    ['withdrawal', B.ipfixMessage({}, B.set(2, Buffer.concat([B.u16(262), B.u16(0)])))],
  ];
  return msgs.map(([name, buf]) => ({ name, buf, width: 2, ...setOffsets(buf, false) }));
}

const V9: B.FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 4], [IE.packetDeltaCount, 4], [IE.flowStartSysUpTime, 4], [IE.flowEndSysUpTime, 4],
  [IE.tcpControlBits, 1], [IE.flowDirection, 1], [IE.samplerId, 2],
];
const v9Record = (i: number) => Buffer.concat([
  B.ipv4(`10.1.0.${i}`), B.ipv4('10.20.0.10'), B.u16(40000), B.u16(2049), B.u8(6), B.u32(123456), B.u32(99), B.u32(3_590_000), B.u32(3_599_000),
  B.u8(0x1b), B.u8(1), B.u16(1),
]);
const V9V6: B.FieldSpec[] = [[IE.sourceIPv6Address, 16], [IE.destinationIPv6Address, 16], [IE.octetDeltaCount, 8], [IE.ingressInterface, 2], [IE.vlanId, 2]];
const v9v6Record = (i: number) => Buffer.concat([B.ipv6(`2001:db8::${i + 1}`), B.ipv6('2001:db8::ff'), B.u64(i * 1000), B.u16(3), B.u16(20)]);

function netflow9Seeds(): Seed[] {
  const opts = B.set(1, B.v9OptionsTemplateRecord(300, [[1, 4]], [[IE.samplingInterval, 4], [49, 1], [IE.samplerId, 2]]));
  const optsData = B.set(300, Buffer.concat([B.u32(0), B.u32(100), B.u8(2), B.u16(1), Buffer.alloc(1)]));
  const msgs: [string, Buffer][] = [
    ['v9 template+data', B.v9Packet({}, B.set(0, B.templateRecord(256, V9, true)), B.set(256, v9Record(1), v9Record(2)))],
    ['v9 data', B.v9Packet({}, B.set(256, v9Record(3), v9Record(4), Buffer.alloc(2)))],
    ['v9 options+data', B.v9Packet({}, opts, optsData, B.set(0, B.templateRecord(256, V9, true)), B.set(256, v9Record(5)))],
    ['v9 v6 template+data', B.v9Packet({}, B.set(0, B.templateRecord(257, V9V6, true)), B.set(257, v9v6Record(1), v9v6Record(2)))],
    ['v9 v6 data', B.v9Packet({}, B.set(257, v9v6Record(3)))],
    ['v9 templates only', B.v9Packet({}, B.set(0, B.templateRecord(256, V9, true), B.templateRecord(257, V9V6, true)), opts)],
    ['v9 mixed data', B.v9Packet({}, optsData, B.set(256, v9Record(6)), B.set(257, v9v6Record(4)))],
  ];
  return msgs.map(([name, buf]) => ({ name, buf, width: 2, ...setOffsets(buf, true) }));
}

/** Where the set lengths, template field counts, ids and field lengths of a valid IPFIX / NetFlow v9 message are. */
function setOffsets(buf: Buffer, v9: boolean): Pick<Seed, 'lens' | 'counts' | 'ids' | 'fieldLens'> {
  const lens: number[] = v9 ? [] : [2];
  const counts: number[] = v9 ? [2] : [];
  const ids: number[] = [];
  const fieldLens: number[] = [];
  for (let o = v9 ? 20 : 16; o + 4 <= buf.length;) {
    const id = buf.readUInt16BE(o);
    const len = buf.readUInt16BE(o + 2);
    ids.push(o);
    lens.push(o + 2);
    const options = id === (v9 ? 1 : 3);
    if (id === (v9 ? 0 : 2) || options) {
      const end = o + len;
      for (let p = o + 4; p + 4 <= end;) {
        ids.push(p);
        counts.push(p + 2);
        const count = buf.readUInt16BE(p + 2);
        p += 4;
        if (!v9 && count === 0) continue;
        let n = count;
        if (options) {
          counts.push(p);
          if (v9) n = (count + buf.readUInt16BE(p)) / 4;
          p += 2;
        }
        for (let i = 0; i < n && p + 4 <= end; i++) {
          ids.push(p);
          fieldLens.push(p + 2);
          p += !v9 && buf[p]! & 0x80 ? 8 : 4;
        }
      }
    }
    o += len;
  }
  return { lens, counts, ids, fieldLens };
}

function sflowSeeds(): Seed[] {
  // sFlow v5 datagrams (sflow.org "sFlow Version 5") with every sample and record the decoder reads.
  const frame = (src: string) => S.tcpFrame({ src, payload: 20 });
  const inner = S.ethernet(0x86dd, S.ipv6Packet('fd00::1', 'fd00::2', 6, S.tcp(1, 2, 0x1ff, 20), { hopLimit: 0 }));
  const counters = (i: number) => S.counterSample(i, [S.tlv(2, Buffer.alloc(40)), S.ifCounters({ index: i })]);
  const dgrams: [string, Buffer][] = [
    ['flow', S.datagram([S.flowSample({ records: [S.rawHeader(frame('10.0.0.1'))] })])],
    ['flows+counters', S.datagram([
      S.flowSample({ records: [
        S.extendedSwitch(3, 4),
        S.rawHeader(S.ethernet(0x0800, S.ipv4Packet('10.0.0.1', '10.0.0.2', 17, S.udp(1, 4789, S.vxlan(5, inner))), { vlan: 9 })),
      ] }),
      counters(3),
      S.expandedFlowSample({ input: 0x80000001, output: 12, records: [
        S.rawHeader(S.ipv6Packet('2001:db8::1', '2001:db8::2', 58, Buffer.alloc(8), { hopLimit: 0 }), { protocol: S.HEADER_PROTOCOL.ipv6 }),
      ] }),
    ], { agent: '2001:db8::1', subAgent: 3 })],
    ['sampled structs', S.datagram([
      S.flowSample({ records: [S.sampledIpv4({ length: 1400, protocol: 6, src: '10.9.0.1', dst: '10.9.0.2', srcPort: 22, dstPort: 60000, tcpFlags: 0x11, tos: 0 })] }),
      S.flowSample({ rate: 1, records: [
        S.sampledEthernet(1418),
        S.sampledIpv6({ length: 200, protocol: 17, src: 'fd00::1', dst: 'fd00::2', srcPort: 53, dstPort: 5353, tcpFlags: 0, tos: 0 }),
      ] }),
    ])],
    ['counters', S.datagram([counters(1), S.expandedCounterSample(70000, [S.ifCounters({ index: 70000 })]), S.counterSample(2, [S.tlv(2005, Buffer.alloc(8))])])],
    ['mixed', S.datagram([
      S.tlv((4413 << 12) | 5, Buffer.alloc(36, 0xab)),
      S.flowSample({ records: [S.tlv(1002, Buffer.alloc(12)), S.rawHeader(S.ethernet(0x0806, Buffer.alloc(28))), S.rawHeader(frame('10.0.0.5'))] }),
      S.flowSample({ records: [S.rawHeader(S.ethernet(0x0800, S.ipv4Packet('10.1.0.1', '10.1.0.2', 6, S.tcp(1, 2, 0x02, 20)), { vlan: 101 })), S.extendedSwitch(55, 56)] }),
      counters(4),
    ], { agent: '192.0.2.77', subAgent: 1 })],
  ];
  return dgrams.map(([name, buf]) => ({ name, buf, width: 4, fieldLens: [], ...sampleOffsets(buf) }));
}

/** Where the sample count, sample and record lengths, record counts and formats of a valid datagram are. */
function sampleOffsets(buf: Buffer): Pick<Seed, 'lens' | 'counts' | 'ids'> {
  const lens: number[] = [];
  const counts: number[] = [];
  const ids: number[] = [4];
  let o = 8 + (buf.readUInt32BE(4) === 2 ? 16 : 4);
  counts.push(o + 12);
  const n = buf.readUInt32BE(o + 12);
  o += 16;
  for (let i = 0; i < n; i++) {
    const format = buf.readUInt32BE(o);
    const len = buf.readUInt32BE(o + 4);
    ids.push(o);
    lens.push(o + 4);
    const body = o + 8;
    const countAt = format === 1 ? body + 28 : format === 3 ? body + 40 : format === 2 ? body + 8 : format === 4 ? body + 12 : -1;
    if (countAt >= 0) {
      counts.push(countAt);
      let p = countAt + 4;
      for (let j = buf.readUInt32BE(countAt); j > 0; j--) {
        ids.push(p);
        lens.push(p + 4);
        if ((format === 1 || format === 3) && buf.readUInt32BE(p) === 1) {
          ids.push(p + 8); // header protocol
          lens.push(p + 8 + 12); // header length
        }
        p += 8 + pad4(buf.readUInt32BE(p + 4));
      }
    }
    o = body + pad4(len);
  }
  return { lens, counts, ids };
}
const pad4 = (n: number) => n + ((4 - (n & 3)) & 3);

// ---------------------------------------------------------------------------------------------------------------
// Mutations

const U16_VALUES = [0, 1, 2, 3, 4, 5, 8, 0x7fff, 0x8000, 0xfffe, 0xffff];
const U32_VALUES = [0, 1, 3, 4, 8, 64, 65, 1024, 1025, 0x7fffffff, 0x80000000, 0xffffffff];

function writeField(buf: Buffer, at: number, width: 2 | 4, value: number): void {
  if (at < 0 || at + width > buf.length) return;
  if (width === 2) buf.writeUInt16BE(value & 0xffff, at);
  else buf.writeUInt32BE(value >>> 0, at);
}
const readField = (buf: Buffer, at: number, width: 2 | 4) => (width === 2 ? buf.readUInt16BE(at) : buf.readUInt32BE(at));

/** A hostile value for a length or count field at `at`. */
function evilValue(rng: Rng, buf: Buffer, at: number, width: 2 | 4): number {
  const orig = at + width <= buf.length ? readField(buf, at, width) : 0;
  switch (rng.int(6)) {
    case 0: return rng.pick(width === 2 ? U16_VALUES : U32_VALUES);
    case 1: return width === 2 ? rng.int(0x10000) : rng.u32();
    case 2: return orig + rng.pick([-4, -3, -2, -1, 1, 2, 3, 4]);
    case 3: return buf.length - at + rng.int(9) - 4;
    case 4: return rng.int(64);
    default: return buf.length + rng.int(2000);
  }
}

/** 1 to 4 mutations of a copy of the seed: structural ones first (while offsets still hold), then bytes, then size. */
function mutate(rng: Rng, seed: Seed, others: Seed[]): Buffer {
  let buf = Buffer.from(seed.buf);
  const ops = 1 + (rng.chance(0.5) ? 0 : rng.int(4));
  const kinds: number[] = [];
  for (let i = 0; i < ops; i++) kinds.push(rng.int(10));
  kinds.sort((a, b) => a - b);
  for (const kind of kinds) {
    switch (kind) {
      case 0: { // length fields: random, huge, zero, off by a few
        const at = seed.lens.length && rng.chance(0.85) ? rng.pick(seed.lens) : rng.int(buf.length) & ~(seed.width - 1);
        writeField(buf, at, seed.width, evilValue(rng, buf, at, seed.width));
        break;
      }
      case 1: { // template field counts (0, 65535...) and sample/record counts
        if (!seed.counts.length) break;
        const at = rng.pick(seed.counts);
        writeField(buf, at, seed.width, rng.chance(0.5) ? rng.pick(seed.width === 2 ? [0, 0xffff, 1, 0x8000] : [0, 0xffffffff, 1, 65, 1025]) : evilValue(rng, buf, at, seed.width));
        break;
      }
      case 2: { // template field lengths (0, 65535: variable, odd widths) or ids (set ids, template ids, element ids, formats)
        if (seed.fieldLens.length && rng.chance(0.6)) {
          writeField(buf, rng.pick(seed.fieldLens), 2, rng.pick([0, 1, 2, 3, 5, 7, 8, 9, 16, 17, 0xffff, 0xffff, 0xfffe, rng.int(0x10000)]));
        } else if (seed.ids.length) {
          const at = rng.pick(seed.ids);
          const v = seed.width === 2
            ? rng.pick([0, 1, 2, 3, 4, 255, 256, 257, 258, 300, 0x8000 | rng.int(512), rng.int(512), rng.int(0x10000)])
            : rng.pick([0, 1, 2, 3, 4, 5, 1001, (4413 << 12) | 1, rng.u32()]);
          writeField(buf, at, seed.width, v);
        }
        break;
      }
      case 3: case 4: { // bit flips
        for (let n = 1 + rng.int(8); n > 0 && buf.length; n--) buf[rng.int(buf.length)]! ^= 1 << rng.int(8);
        break;
      }
      case 5: case 6: { // byte overwrites with 0x00, 0xff or random
        for (let n = 1 + rng.int(8); n > 0 && buf.length; n--) buf[rng.int(buf.length)] = rng.pick([0, 0xff, rng.int(256)]);
        break;
      }
      case 7: { // duplicated or spliced chunks, inserted or overwriting
        const src = rng.chance(0.5) ? buf : rng.pick(others).buf;
        const a = rng.int(src.length);
        const chunk = Buffer.from(src.subarray(a, a + 1 + rng.int(Math.min(256, src.length - a))));
        const at = rng.int(buf.length + 1);
        if (rng.chance(0.5)) buf = Buffer.concat([buf.subarray(0, at), chunk, buf.subarray(at)]);
        else buf = Buffer.concat([buf.subarray(0, at), chunk, buf.subarray(Math.min(buf.length, at + chunk.length))]);
        break;
      }
      case 8: { // a random run of bytes
        const at = rng.int(buf.length);
        rng.bytes(Math.min(buf.length - at, 1 + rng.int(32))).copy(buf, at);
        break;
      }
      default: // truncation at a random point
        buf = buf.subarray(0, rng.int(buf.length + 1));
    }
  }
  return buf;
}

/** Random bytes that do not start with the protocol's version. */
function garbage(rng: Rng, protocol: Proto): Buffer {
  const buf = rng.bytes(rng.chance(0.1) ? rng.int(24) : rng.int(1501));
  if (protocol === 'sflow') {
    if (buf.length >= 4 && buf.readUInt32BE(0) === 5) buf[3] = 6;
  } else if (buf.length >= 2 && buf.readUInt16BE(0) === (protocol === 'ipfix' ? 10 : 9)) buf[1] = 11;
  return buf;
}

/** A valid header (version, length, domain) over a random body. */
function headerAndRandom(rng: Rng, protocol: Proto, domain: number): Buffer {
  const body = rng.bytes(rng.int(1501));
  if (protocol === 'ipfix') return B.ipfixMessage({ domain, seq: rng.u32() }, body);
  if (protocol === 'netflow9') return B.v9Packet({ sourceId: domain, seq: rng.u32() }, body);
  const agent = rng.chance(0.5) ? '192.0.2.50' : '2001:db8::50';
  return Buffer.concat([S.datagram([], { agent, subAgent: domain, seq: rng.u32(), uptime: 1, count: rng.int(8) }), body]);
}

// ---------------------------------------------------------------------------------------------------------------
// What "structurally sound" means: a packet the decoders may answer with nothing at all.

function ipfixSound(buf: Buffer, v9: boolean): boolean {
  const header = v9 ? 20 : 16;
  if (buf.length < header || buf.readUInt16BE(0) !== (v9 ? 9 : 10)) return false;
  const end = v9 ? buf.length : buf.readUInt16BE(2);
  if (end < header || end > buf.length) return false;
  let o = header;
  while (o + 4 <= end) {
    const id = buf.readUInt16BE(o);
    const len = buf.readUInt16BE(o + 2);
    if (len < 4 || o + len > end) return false;
    if (id < 256 && id !== (v9 ? 0 : 2) && id !== (v9 ? 1 : 3)) return false; // reserved set id
    o += len;
  }
  return true;
}

function sflowSound(buf: Buffer): boolean {
  if (buf.length < 8 || buf.readUInt32BE(0) !== 5) return false;
  const type = buf.readUInt32BE(4);
  if (type > 2) return false;
  let o = 8 + (type === 1 ? 4 : type === 2 ? 16 : 0);
  if (o + 16 > buf.length) return false;
  const n = buf.readUInt32BE(o + 12);
  o += 16;
  if (n > MAX_SAMPLES) return false;
  for (let i = 0; i < n; i++) {
    if (buf.length - o < 8) return false;
    const len = buf.readUInt32BE(o + 4);
    o += 8;
    if (len > buf.length - o) return false;
    o += Math.min(pad4(len), buf.length - o);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// The run

type Proto = 'ipfix' | 'netflow9' | 'sflow';
type Category = 'valid' | 'mutated' | 'garbage' | 'header+random';

interface Finding {
  what: string;
  protocol: Proto;
  category: Category;
  seed: string;
  hex: string;
  detail: string;
}

interface Stats {
  packets: number;
  byCategory: Record<Category, number>;
  flows: number;
  counters: number;
  errors: number;
  silent: number;
  reasons: Map<string, number>;
  findings: Finding[];
  findingCounts: Map<string, number>;
  /** The largest states.size figures seen, and the most templates one domain held. */
  maxSize: { exporters: number; templates: number; pendingBytes: number; domainTemplates: number };
  /** template-missing because the pending buffer was full (not because the wait ran out). */
  pendingFull: number;
  ms: number;
}

const newStats = (): Stats => ({
  packets: 0, byCategory: { valid: 0, mutated: 0, garbage: 0, 'header+random': 0 }, flows: 0, counters: 0, errors: 0, silent: 0,
  reasons: new Map(), findings: [], findingCounts: new Map(), maxSize: { exporters: 0, templates: 0, pendingBytes: 0, domainTemplates: 0 }, pendingFull: 0, ms: 0,
});

function finding(stats: Stats, f: Finding): void {
  const n = stats.findingCounts.get(f.what) ?? 0;
  stats.findingCounts.set(f.what, n + 1);
  if (n < 3) stats.findings.push({ ...f, hex: f.hex.length > 4000 ? `${f.hex.slice(0, 4000)}...` : f.hex });
}

const stackOf = (e: unknown) => String((e as Error)?.stack ?? e).split('\n').slice(0, 8).join('\n    ');

const report = (stats: Stats) =>
  stats.findings.map((f) => `${f.what} [${f.protocol} ${f.category} ${f.seed}]\n  ${f.detail}\n  input: ${f.hex}`).join('\n\n');

/** Checks one decoder answer, recording what is wrong with it. */
function check(stats: Stats, protocol: Proto, category: Category, seed: string, buf: Buffer, out: Decoded, exporter: string): void {
  const base = { protocol, category, seed, hex: buf.toString('hex') };
  stats.flows += out.flows.length;
  stats.counters += out.counters.length;
  stats.errors += out.errors.length;
  for (const e of out.errors) {
    stats.reasons.set(e.reason, (stats.reasons.get(e.reason) ?? 0) + 1);
    if (e.reason === 'template-missing' && e.detail.includes('buffer full')) stats.pendingFull++;
  }
  for (const f of out.flows) {
    const r = FlowSchema.safeParse(f);
    if (!r.success) {
      const bad = r.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify((f as Record<string, unknown>)[String(i.path[0])])}: ${i.message}`).join('; ');
      finding(stats, { ...base, what: `schema-invalid flow (${r.error.issues.map((i) => i.path.join('.')).join(',')})`, detail: bad });
    } else if (f.source_kind !== protocol || (protocol !== 'sflow' && f.exporter_address !== exporter)) {
      finding(stats, { ...base, what: 'flow with wrong source', detail: JSON.stringify(f) });
    }
  }
  for (const c of out.counters) {
    const r = InterfaceCounterSchema.safeParse(c);
    if (!r.success) finding(stats, { ...base, what: 'schema-invalid counter', detail: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  if (category === 'garbage' && out.errors.length === 0) finding(stats, { ...base, what: 'garbage without error', detail: JSON.stringify(out) });
  if (out.flows.length === 0 && out.counters.length === 0 && out.errors.length === 0) {
    stats.silent++;
    const sound = protocol === 'sflow' ? sflowSound(buf) : ipfixSound(buf, protocol === 'netflow9');
    if (!sound) finding(stats, { ...base, what: 'malformed packet neither decoded nor counted', detail: 'no flow, no counter, no error' });
  }
  if (!Number.isInteger(out.lost) || out.lost < 0) finding(stats, { ...base, what: 'bad lost count', detail: String(out.lost) });
}

function checkBounds(stats: Stats, states: ExporterStates, protocol: Proto): void {
  const over = (detail: string) => finding(stats, { what: 'state over its limits', protocol, category: 'valid', seed: '-', hex: '', detail });
  for (const d of states.domains()) {
    const held = d.pending.reduce((a, p) => a + p.data.length, 0);
    stats.maxSize.domainTemplates = Math.max(stats.maxSize.domainTemplates, d.templates.size);
    if (d.templates.size > LIMITS.maxTemplatesPerDomain) over(`a domain holds ${d.templates.size} templates`);
    if (d.pending.length > LIMITS.maxPendingSets || d.pendingBytes > LIMITS.maxPendingBytes) over(`a domain holds ${d.pending.length} pending sets, ${d.pendingBytes} bytes`);
    if (held !== d.pendingBytes) over(`a domain counts ${d.pendingBytes} pending bytes and holds ${held}`);
  }
  const s = states.size;
  stats.maxSize.exporters = Math.max(stats.maxSize.exporters, s.exporters);
  stats.maxSize.templates = Math.max(stats.maxSize.templates, s.templates);
  stats.maxSize.pendingBytes = Math.max(stats.maxSize.pendingBytes, s.pendingBytes);
  if (s.exporters > LIMITS.maxExporters || s.templates > MAX_TEMPLATES || s.pendingBytes > MAX_PENDING_BYTES || s.pendingBytes < 0) over(JSON.stringify(s));
}

/** Hot exporters keep to a few domains and carry most traffic; cold ones (more than maxExporters) get the rest. */
const HOT = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
const COLD = [...Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`), ...Array.from({ length: 20 }, (_, i) => `2001:db8:ee::${(i + 1).toString(16)}`)];
const HOT_DOMAINS = [0, 1, 2, 3, 4, 5];
const ENTERPRISE_NAMES: ReadonlyMap<string, string> = new Map([['47450.9', 'bf_policy_id']]);

interface Generated {
  buf: Buffer;
  category: Category;
  seed: string;
  exporter: string;
}

class Generator {
  readonly rng: Rng;
  private readonly seeds: Seed[];
  constructor(readonly protocol: Proto, seed: number) {
    this.rng = new Rng(seed);
    this.seeds = protocol === 'ipfix' ? ipfixSeeds() : protocol === 'netflow9' ? netflow9Seeds() : sflowSeeds();
  }
  next(): Generated {
    const { rng, protocol } = this;
    const r = rng.next();
    const domain = rng.pick(HOT_DOMAINS);
    if (r < 0.12) return this.route({ buf: garbage(rng, protocol), category: 'garbage', seed: 'random', exporter: '' });
    if (r < 0.2) return this.route({ buf: headerAndRandom(rng, protocol, domain), category: 'header+random', seed: 'random', exporter: '' });
    if (r < 0.225 && protocol !== 'sflow') return this.route({ buf: this.templateFlood(domain), category: 'valid', seed: 'template flood', exporter: '' });
    if (r < 0.25 && protocol !== 'sflow') return this.route({ buf: this.dataFlood(domain), category: 'valid', seed: 'data flood', exporter: '' });
    const seed = rng.pick(this.seeds);
    const base = Buffer.from(seed.buf);
    // Each packet gets its domain / sub-agent and a sequence number before the damage.
    if (protocol === 'ipfix') { base.writeUInt32BE(domain, 12); base.writeUInt32BE(rng.u32(), 8); }
    else if (protocol === 'netflow9') { base.writeUInt32BE(domain, 16); base.writeUInt32BE(rng.u32(), 12); }
    if (r < 0.34) return this.route({ buf: base, category: 'valid', seed: seed.name, exporter: '' });
    let buf = mutate(rng, { ...seed, buf: base }, this.seeds);
    // Mostly keep the IPFIX message length in step with the damage, so it reaches the sets.
    if (protocol === 'ipfix' && buf.length >= 4 && buf.length <= 0xffff && rng.chance(0.6) && buf.readUInt16BE(2) === seed.buf.length) buf.writeUInt16BE(buf.length, 2);
    if (protocol === 'netflow9' && buf.length >= 4 && rng.chance(0.3)) { buf = Buffer.from(buf); buf.writeUInt16BE(rng.int(40), 2); }
    return this.route({ buf, category: 'mutated', seed: seed.name, exporter: '' });
  }
  /** A valid message announcing many templates under random ids: what fills a domain's template table. */
  private templateFlood(domain: number): Buffer {
    const { rng } = this;
    const v9 = this.protocol === 'netflow9';
    const records = Array.from({ length: 1 + rng.int(12) }, () => B.templateRecord(256 + rng.int(rng.chance(0.5) ? 1024 : 0x10000 - 256), v9 ? V9 : DPU, v9));
    return v9 ? B.v9Packet({ sourceId: domain }, B.set(0, ...records)) : B.ipfixMessage({ domain }, B.set(2, ...records));
  }
  /** A valid message of data sets for templates not (yet) announced: what fills a domain's pending buffer. */
  private dataFlood(domain: number): Buffer {
    const { rng } = this;
    const sets = Array.from({ length: 1 + rng.int(12) }, () => B.set(256 + rng.int(1024), rng.bytes(16 + rng.int(4000))));
    return this.protocol === 'netflow9' ? B.v9Packet({ sourceId: domain }, ...sets) : B.ipfixMessage({ domain }, ...sets);
  }
  /** Packets whose domain the damage changed go to cold exporters, so hot ones keep decoding deep. */
  private route(g: Generated): Generated {
    const { rng, protocol } = this;
    const at = protocol === 'ipfix' ? 12 : 16;
    const keepsDomain = protocol === 'sflow' || (g.buf.length >= at + 4 && HOT_DOMAINS.includes(g.buf.readUInt32BE(at)));
    g.exporter = keepsDomain && g.category !== 'garbage' && rng.chance(0.85) ? rng.pick(HOT) : rng.pick(COLD);
    return g;
  }
}

const decodeWith = (protocol: 'ipfix' | 'netflow9') => (protocol === 'ipfix' ? decodeIpfix : decodeNetflow9);

function runTemplated(protocol: 'ipfix' | 'netflow9', n: number, seed: number): Stats {
  const stats = newStats();
  const t0 = Date.now();
  const gen = new Generator(protocol, seed);
  const { rng } = gen;
  const states = new ExporterStates(LIMITS);
  const decode = decodeWith(protocol);
  let now = START;
  for (let i = 0; i < n; i++) {
    const g = gen.next();
    // Time moves on: mostly milliseconds, sometimes past the pending wait, rarely past the template timeout.
    now += rng.int(40);
    if (rng.chance(0.003)) now += LIMITS.pendingMs + rng.int(1000);
    if (rng.chance(0.0005)) now += LIMITS.templateTimeoutMs + 1;
    const tcp = HOT.includes(g.exporter) && rng.chance(0.1);
    const ctx: DecodeContext = {
      exporter: g.exporter, now, states, transport: tcp ? 'tcp' : 'udp', enterpriseNames: rng.chance(0.5) ? ENTERPRISE_NAMES : undefined,
      session: tcp ? `${g.exporter}:${40000 + rng.int(3)}` : undefined,
    };
    if (tcp && rng.chance(0.01)) states.forget(ctx.session!); // the session closed
    stats.packets++;
    stats.byCategory[g.category]++;
    let out: Decoded;
    try {
      out = decode(g.buf, ctx);
    } catch (e) {
      finding(stats, { what: `exception: ${(e as Error).message}`, protocol, category: g.category, seed: g.seed, hex: g.buf.toString('hex'), detail: stackOf(e) });
      continue;
    }
    check(stats, protocol, g.category, g.seed, g.buf, out, g.exporter);
    if ((i & 63) === 0) checkBounds(stats, states, protocol);
  }
  checkBounds(stats, states, protocol);
  stats.ms = Date.now() - t0;
  return stats;
}

function runSflow(n: number, seed: number): Stats {
  const stats = newStats();
  const t0 = Date.now();
  const gen = new Generator('sflow', seed);
  let now = START;
  for (let i = 0; i < n; i++) {
    const g = gen.next();
    now += gen.rng.int(40);
    stats.packets++;
    stats.byCategory[g.category]++;
    let out: Decoded;
    try {
      out = decodeSflow(g.buf, g.exporter, now);
    } catch (e) {
      finding(stats, { what: `exception: ${(e as Error).message}`, protocol: 'sflow', category: g.category, seed: g.seed, hex: g.buf.toString('hex'), detail: stackOf(e) });
      continue;
    }
    check(stats, 'sflow', g.category, g.seed, g.buf, out, g.exporter);
  }
  stats.ms = Date.now() - t0;
  return stats;
}

const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);

// ---------------------------------------------------------------------------------------------------------------

describe('decoder fuzzing', () => {
  const runs = new Map<Proto | 'collector', Stats>();
  let heapBefore = 0;

  beforeAll(() => {
    heapBefore = process.memoryUsage().heapUsed;
  });

  afterAll(() => {
    if (!VERBOSE) return;
    const lines: string[] = [];
    for (const [p, s] of runs) {
      lines.push(`${p}: ${s.packets} packets in ${s.ms} ms ${JSON.stringify(s.byCategory)}; ${s.flows} flows, ${s.counters} counters, ${s.errors} errors, ${s.silent} silent; max state ${JSON.stringify(s.maxSize)}; pending full ${s.pendingFull}`);
      lines.push(`  reasons: ${sorted(s.reasons).map(([r, c]) => `${r}=${c}`).join(' ')}`);
      if (s.findingCounts.size) lines.push(`  FINDINGS: ${sorted(s.findingCounts).map(([r, c]) => `${r} x${c}`).join(' | ')}`);
    }
    lines.push(`heap growth ${((process.memoryUsage().heapUsed - heapBefore) / 2 ** 20).toFixed(1)} MiB`);
    // eslint-disable-next-line no-console
    console.log(lines.join('\n'));
  });

  /** Last in each test, so the figures above are checked too: the inputs that broke a decoder, as hex. */
  const expectClean = (s: Stats) => expect(report(s)).toBe('');
  /** The limits were reached, and held (checkBounds found no excess, or expectClean says so). */
  const expectLimitsHeld = (s: Stats) => {
    expect(s.maxSize.exporters).toBe(LIMITS.maxExporters);
    expect(s.maxSize.templates).toBeGreaterThan(LIMITS.maxTemplatesPerDomain);
    expect(s.maxSize.domainTemplates).toBe(LIMITS.maxTemplatesPerDomain);
    expect(s.pendingFull).toBeGreaterThan(0);
    expectClean(s);
  };
  const expectReasons = (s: Stats, reasons: string[]) => {
    const missing = reasons.filter((r) => !s.reasons.has(r));
    expect(missing).toEqual([]);
  };

  it(`IPFIX: ${COUNTS.ipfix} packets through one shared exporter state`, () => {
    const s = runTemplated('ipfix', COUNTS.ipfix, 0x1f1f);
    runs.set('ipfix', s);
    expect(s.flows).toBeGreaterThan(COUNTS.ipfix / 5); // the damage did not stop everything at the header
    expect(s.errors).toBeGreaterThan(COUNTS.ipfix / 2);
    expectReasons(s, [
      'truncated-header', 'bad-version', 'bad-length', 'bad-set-length', 'set-past-end', 'reserved-set-id', 'bad-template-id',
      'template-too-many-fields', 'template-truncated', 'bad-template', 'record-truncated', 'record-without-addresses',
      'template-missing', 'template-expired', 'template-evicted', 'exporter-limit', 'domain-limit',
    ]);
    expectLimitsHeld(s);
  });

  it(`NetFlow v9: ${COUNTS.netflow9} packets through one shared exporter state`, () => {
    const s = runTemplated('netflow9', COUNTS.netflow9, 0x9999);
    runs.set('netflow9', s);
    expect(s.flows).toBeGreaterThan(COUNTS.netflow9 / 5);
    expect(s.errors).toBeGreaterThan(COUNTS.netflow9 / 2);
    // No bad-length (v9 has no message length) and no record-truncated (v9 records have a fixed size).
    expectReasons(s, [
      'truncated-header', 'bad-version', 'bad-set-length', 'set-past-end', 'reserved-set-id', 'bad-template-id', 'template-zero-fields',
      'template-too-many-fields', 'template-truncated', 'bad-template', 'record-without-addresses',
      'template-missing', 'template-expired', 'template-evicted', 'exporter-limit', 'domain-limit',
    ]);
    expectLimitsHeld(s);
  });

  it(`sFlow: ${COUNTS.sflow} datagrams`, () => {
    const s = runSflow(COUNTS.sflow, 0x5f5f);
    runs.set('sflow', s);
    expect(s.flows).toBeGreaterThan(COUNTS.sflow / 4);
    expect(s.counters).toBeGreaterThan(COUNTS.sflow / 10);
    expect(s.errors).toBeGreaterThan(COUNTS.sflow / 3);
    expectReasons(s, ['sflow-truncated', 'sflow-bad-version', 'sflow-bad-address-type', 'sflow-bad-count', 'sflow-bad-length']);
    // sflow-bad-sample is an unexpected exception inside a sample, caught: a bug signal, not a packet fault.
    expect(s.reasons.get('sflow-bad-sample') ?? 0).toBe(0);
    expectClean(s);
  });

  it(`Collector: ${COUNTS.collector} mixed packets, every error counted per reason, under its exporter or "other"`, async () => {
    const stats = newStats();
    const t0 = Date.now();
    const sunk = { flows: 0, counters: 0 };
    const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
    // Room for every exporter: an evicted exporter's series are removed, and then the counts would not add up.
    const collector = new Collector({
      states: new ExporterStates({ ...LIMITS, maxExporters: HOT.length + COLD.length }), enterpriseNames: ENTERPRISE_NAMES, log: silent,
      sinks: { flow: () => void sunk.flows++, counter: () => void sunk.counters++ },
    });
    const gens = { ipfix: new Generator('ipfix', 0xc01), netflow9: new Generator('netflow9', 0xc02), sflow: new Generator('sflow', 0xc03) };
    const pickRng = new Rng(0xc04);
    const key = (source: string, reason: string) => `${source}|${reason}`;
    const snapshot = async () => {
      const m = new Map<string, number>();
      for (const v of (await recordsFailed.get()).values) if (v.labels.stage === 'collector') m.set(key(String(v.labels.source), String(v.labels.reason)), v.value);
      return m;
    };
    const before = await snapshot();
    const expected = new Map<string, number>();
    let now = START;
    for (let i = 0; i < COUNTS.collector; i++) {
      const protocol: CollectorProtocol = pickRng.pick(['ipfix', 'ipfix', 'netflow9', 'sflow'] as const);
      const g = gens[protocol].next();
      now += pickRng.int(40);
      stats.packets++;
      stats.byCategory[g.category]++;
      let out: Decoded;
      try {
        out = collector.handle(protocol, g.buf, g.exporter, 'udp', g.exporter, now);
      } catch (e) {
        finding(stats, { what: `exception: ${(e as Error).message}`, protocol, category: g.category, seed: g.seed, hex: g.buf.toString('hex'), detail: stackOf(e) });
        continue;
      }
      check(stats, protocol, g.category, g.seed, g.buf, out, g.exporter);
      for (const e of out.errors) expected.set(e.reason, (expected.get(e.reason) ?? 0) + 1);
    }
    stats.ms = Date.now() - t0;
    runs.set('collector', stats);
    const after = await snapshot();
    // An error counts under its exporter's address once that sent a valid template or sFlow datagram, else
    // under "other", so spoofed addresses cannot multiply the series: per reason, each error exactly once.
    const grew = new Map<string, number>();
    const sources = new Set<string>();
    for (const [k, v] of after) {
      const d = v - (before.get(k) ?? 0);
      if (d === 0) continue;
      const [source, reason] = k.split('|') as [string, string];
      sources.add(source);
      grew.set(reason, (grew.get(reason) ?? 0) + d);
    }
    expect(Object.fromEntries([...grew].sort())).toEqual(Object.fromEntries([...expected].sort()));
    expect([...sources].filter((s) => s !== 'other' && !HOT.includes(s) && !COLD.includes(s))).toEqual([]);
    expect(HOT.filter((h) => !sources.has(h))).toEqual([]);
    expect([...grew.values()].reduce((a, b) => a + b, 0)).toBe(stats.errors);
    expect(stats.errors).toBeGreaterThan(COUNTS.collector / 3);
    expect(sunk).toEqual({ flows: stats.flows, counters: stats.counters });
    // And in the exposition format, labelled by exporter address and reason.
    const text = await registry.getSingleMetricAsString('eastwatch_records_failed_total');
    const [someKey] = [...after.keys()].filter((k) => HOT.includes(k.split('|')[0]!));
    const [source, reason] = someKey!.split('|') as [string, string];
    expect(text).toContain(`eastwatch_records_failed_total{stage="collector",source="${source}",reason="${reason}"}`);
    expectClean(stats);
  });

  it('ran at least 100k packets, with bounded memory', () => {
    const total = [...runs.values()].reduce((a, s) => a + s.packets, 0);
    expect(total).toBeGreaterThanOrEqual(100_000);
    const grownMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    expect(grownMiB).toBeLessThan(200);
  });
});
