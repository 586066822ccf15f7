import { FlowSchema } from '../../core/flow';
import { InterfaceCounterSchema } from '../../core/records';
import { decodeSflow, MAX_SAMPLES, type SflowDecoded } from '../../ingest/sflow/decoder';

const NOW = 1_760_000_000_123;
const FROM = '192.0.2.1';

// --- XDR datagrams, built field by field (sflow.org sFlow Version 5) ---
class Xdr {
  private parts: Buffer[] = [];
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }
  /** Bytes padded to a multiple of 4. */
  raw(b: Buffer): this {
    this.parts.push(b, Buffer.alloc((4 - (b.length % 4)) % 4));
    return this;
  }
  opaque(b: Buffer): this {
    return this.u32(b.length).raw(b);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}
/** A sample or a record: format, length, body. */
const tlv = (format: number, body: Buffer) => new Xdr().u32(format).opaque(body).done();

function datagram(samples: Buffer[], o: { version?: number; agent?: Buffer; agentType?: number; subAgent?: number; seq?: number; count?: number } = {}): Buffer {
  const agent = o.agent ?? Buffer.from([10, 0, 255, 1]);
  const x = new Xdr().u32(o.version ?? 5).u32(o.agentType ?? (agent.length === 16 ? 2 : 1)).raw(agent);
  x.u32(o.subAgent ?? 0).u32(o.seq ?? 1).u32(123456).u32(o.count ?? samples.length);
  for (const s of samples) x.raw(s);
  return x.done();
}
interface FlowSampleOpts { rate?: number; input?: number; output?: number; records: Buffer[] }
const flowSample = (o: FlowSampleOpts) =>
  tlv(1, new Xdr().u32(77).u32(0x00000011).u32(o.rate ?? 4096).u32(1_000_000).u32(0).u32(o.input ?? 17).u32(o.output ?? 18).u32(o.records.length).raw(Buffer.concat(o.records)).done());
const expandedFlowSample = (o: FlowSampleOpts & { inFormat?: number }) =>
  tlv(3, new Xdr().u32(78).u32(0).u32(5_000_000).u32(o.rate ?? 512).u32(2_000_000).u32(3)
    .u32(o.inFormat ?? 0).u32(o.input ?? 0).u32(0).u32(o.output ?? 0).u32(o.records.length).raw(Buffer.concat(o.records)).done());
/** Raw packet header record: header_protocol, frame_length, stripped, header (cut to 128 bytes like an agent). */
const rawHeader = (frame: Buffer, frameLength = frame.length + 4, protocol = 1) =>
  tlv(1, new Xdr().u32(protocol).u32(frameLength).u32(4).opaque(frame.subarray(0, 128)).done());
const extendedSwitch = (srcVlan: number, dstVlan: number) => tlv(1001, new Xdr().u32(srcVlan).u32(0).u32(dstVlan).u32(0).done());

interface IfCounters {
  index: number; type: number; speed: bigint; direction: number; status: number; inOctets: bigint; inUcast: number;
  inMulti: number; inBroad: number; inDiscards: number; inErrors: number; outOctets: bigint; outUcast: number;
  outMulti: number; outBroad: number; outDiscards: number; outErrors: number;
}
const ifCounters = (c: IfCounters) => tlv(1, new Xdr().u32(c.index).u32(c.type).u64(c.speed).u32(c.direction).u32(c.status)
  .u64(c.inOctets).u32(c.inUcast).u32(c.inMulti).u32(c.inBroad).u32(c.inDiscards).u32(c.inErrors).u32(999)
  .u64(c.outOctets).u32(c.outUcast).u32(c.outMulti).u32(c.outBroad).u32(c.outDiscards).u32(c.outErrors).u32(0).done());
const counterSample = (sourceId: number, records: Buffer[]) =>
  tlv(2, new Xdr().u32(5).u32(sourceId).u32(records.length).raw(Buffer.concat(records)).done());
const expandedCounterSample = (type: number, index: number, records: Buffer[]) =>
  tlv(4, new Xdr().u32(6).u32(type).u32(index).u32(records.length).raw(Buffer.concat(records)).done());

// --- packets (the same byte-by-byte builders as packet.test.ts, trimmed) ---
const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
const v4 = (a: string) => Buffer.from(a.split('.').map(Number));
const v6 = (hex: string) => Buffer.from(hex, 'hex'); // 32 hex digits
const eth = (type: number, payload: Buffer, vlan?: number) =>
  Buffer.concat([Buffer.from('020000000002020000000001', 'hex'), vlan === undefined ? Buffer.alloc(0) : Buffer.concat([u16(0x8100), u16(vlan)]), u16(type), payload]);
function ipv4(src: string, dst: string, proto: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h[8] = 64;
  h[9] = proto;
  v4(src).copy(h, 12);
  v4(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}
function ipv6(src: Buffer, dst: Buffer, next: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, payload]);
}
function tcp(sport: number, dport: number, flags: number, payloadLength = 0): Buffer {
  const h = Buffer.alloc(20 + payloadLength);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h[12] = 0x50 | ((flags >> 8) & 1);
  h[13] = flags & 0xff;
  return h;
}
const udp = (sport: number, dport: number, payload: Buffer = Buffer.alloc(0)) =>
  Buffer.concat([u16(sport), u16(dport), u16(8 + payload.length), u16(0), payload]);
const vxlan = (vni: number, inner: Buffer) => Buffer.concat([Buffer.from([0x08, 0, 0, 0, vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0]), inner]);

const tcpFrame = (src = '10.101.0.10', dst = '10.101.0.11', sport = 43512, dport = 4791) =>
  eth(0x0800, ipv4(src, dst, 6, tcp(sport, dport, 0x18, 1460)));
const decode = (buf: Buffer, from = FROM) => decodeSflow(buf, from, NOW);
const valid = (d: SflowDecoded) => {
  for (const f of d.flows) expect(FlowSchema.parse(f)).toEqual(f);
  for (const c of d.counters) expect(InterfaceCounterSchema.parse(c)).toEqual(c);
  return d;
};

describe('decodeSflow', () => {
  it('turns a flow sample with a raw Ethernet + IPv4 + TCP header into one Flow', () => {
    const d = valid(decode(datagram([flowSample({ rate: 4096, input: 17, output: 18, records: [rawHeader(tcpFrame(), 1518)] })], { subAgent: 3, seq: 991 })));
    expect(d.errors).toEqual([]);
    expect([d.agent, d.subAgentId, d.sequence, d.lost]).toEqual(['10.0.255.1', 3, 991, 0]);
    expect(d.flows).toEqual([{
      time_received: NOW, time_start: NOW, time_end: NOW, source_kind: 'sflow', exporter_address: '10.0.255.1',
      observation_domain: 3, observation_point: 'switch', src_addr: '10.101.0.10', dst_addr: '10.101.0.11',
      src_port: 43512, dst_port: 4791, protocol: 6, bytes: 1518, packets: 1, tcp_flags: 0x18, sampling_rate: 4096,
      direction: 'unknown', in_if: 17, out_if: 18, vlan: 0, vni: 0,
    }]);
    expect(d.counters).toEqual([]);
  });

  it('decodes IPv6 + UDP from an agent with an IPv6 address', () => {
    const a = v6('20010db8000000000000000000000001');
    const frame = eth(0x86dd, ipv6(v6('fd000101000000000000000000000a0a'), v6('fd000101000000000000000000000b0b'), 17, udp(49152, 4791, Buffer.alloc(1000))));
    const d = valid(decode(datagram([flowSample({ rate: 1, records: [rawHeader(frame, 1066)] })], { agent: a, subAgent: 9 })));
    expect(d.agent).toBe('2001:db8::1');
    expect(d.flows).toHaveLength(1);
    expect(d.flows[0]).toMatchObject({
      exporter_address: '2001:db8::1', observation_domain: 9, src_addr: 'fd00:101::a0a', dst_addr: 'fd00:101::b0b',
      src_port: 49152, dst_port: 4791, protocol: 17, bytes: 1066, tcp_flags: 0, sampling_rate: 1,
    });
  });

  it('takes the VLAN from the 802.1Q tag, else from the extended switch record', () => {
    const tagged = eth(0x0800, ipv4('10.1.0.1', '10.1.0.2', 6, tcp(1, 2, 0x02)), 101);
    const d = valid(decode(datagram([
      flowSample({ records: [rawHeader(tagged), extendedSwitch(55, 56)] }),
      flowSample({ records: [extendedSwitch(55, 56), rawHeader(tcpFrame())] }),
      flowSample({ records: [extendedSwitch(0, 57), rawHeader(tcpFrame())] }),
    ])));
    expect(d.flows.map((f) => f.vlan)).toEqual([101, 55, 57]);
    expect(d.flows[0]).toMatchObject({ src_addr: '10.1.0.1', dst_port: 2, tcp_flags: 0x02 });
  });

  it('reports the inner 5-tuple and VNI of VXLAN traffic', () => {
    const inner = eth(0x0800, ipv4('172.16.5.1', '172.16.5.2', 6, tcp(33000, 443, 0x12)));
    const outer = eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(51234, 4789, vxlan(0x123456, inner))), 20);
    const d = valid(decode(datagram([flowSample({ records: [rawHeader(outer, 9000)] })])));
    expect(d.flows[0]).toMatchObject({
      src_addr: '172.16.5.1', dst_addr: '172.16.5.2', src_port: 33000, dst_port: 443, protocol: 6, tcp_flags: 0x12,
      vni: 0x123456, vlan: 20, bytes: 9000,
    });
  });

  it('reads expanded flow samples: full 32-bit interface indexes; discarded packets have no output', () => {
    const d = valid(decode(datagram([
      expandedFlowSample({ rate: 512, input: 0x80000001, output: 0x40000002, records: [rawHeader(tcpFrame())] }),
      flowSample({ input: 0x3fffffff, output: (1 << 30) | 257, records: [rawHeader(tcpFrame())] }), // output: dropped, reason 257
      flowSample({ rate: 0, input: 5, output: (2 << 30) | 7, records: [rawHeader(tcpFrame())] }), // output: flooded to 7 ports
    ])));
    expect(d.flows.map((f) => [f.sampling_rate, f.in_if, f.out_if])).toEqual([[512, 0x80000001, 0x40000002], [4096, 0x3fffffff, 0], [1, 5, 0]]);
    expect(d.flows[0]).toMatchObject({ src_addr: '10.101.0.10', dst_port: 4791, bytes: tcpFrame().length + 4 });
  });

  it('builds flows from the sampled IPv4/IPv6 structs when there is no raw header', () => {
    const ip4 = tlv(3, new Xdr().u32(1400).u32(6).raw(v4('10.9.0.1')).raw(v4('10.9.0.2')).u32(22).u32(60000).u32(0x11).u32(0).done());
    const ip6 = tlv(4, new Xdr().u32(200).u32(17).raw(v6('fd000000000000000000000000000001')).raw(v6('fd000000000000000000000000000002'))
      .u32(53).u32(5353).u32(0).u32(0).done());
    const ethernet = tlv(2, new Xdr().u32(1418).raw(Buffer.alloc(6)).raw(Buffer.alloc(6)).u32(0x0800).done());
    const d = valid(decode(datagram([flowSample({ records: [ip4] }), flowSample({ records: [ethernet, ip6] })])));
    expect(d.flows.map((f) => [f.src_addr, f.dst_addr, f.protocol, f.src_port, f.dst_port, f.tcp_flags, f.bytes])).toEqual([
      ['10.9.0.1', '10.9.0.2', 6, 22, 60000, 0x11, 1400],
      ['fd00::1', 'fd00::2', 17, 53, 5353, 0, 1418], // the Ethernet record's frame length beats the IP length
    ]);
  });

  it('turns generic interface counters into InterfaceCounters, 64-bit octets included', () => {
    const c: IfCounters = {
      index: 12, type: 6, speed: 400_000_000_000n, direction: 1, status: 3, inOctets: 0x1_2345_6789n, inUcast: 1000,
      inMulti: 20, inBroad: 3, inDiscards: 4, inErrors: 5, outOctets: 98_765_432_101_234n, outUcast: 2000, outMulti: 30,
      outBroad: 1, outDiscards: 6, outErrors: 7,
    };
    const d = valid(decode(datagram([
      counterSample(12, [tlv(2, Buffer.alloc(40)), ifCounters(c)]), // an Ethernet counters record first: skipped
      expandedCounterSample(0, 70000, [ifCounters({ ...c, index: 70000, status: 1, direction: 4, speed: 2n ** 64n - 1n })]),
    ])));
    expect(d.errors).toEqual([]);
    expect(d.counters[0]).toEqual({
      time_received: NOW, exporter_address: '10.0.255.1', source_id: 12, if_index: 12, if_type: 6, if_speed: 400_000_000_000,
      if_direction: 1, if_admin_up: true, if_oper_up: true, in_octets: 0x1_2345_6789, in_packets: 1023, in_discards: 4,
      in_errors: 5, out_octets: 98_765_432_101_234, out_packets: 2031, out_discards: 6, out_errors: 7,
    });
    expect(d.counters[1]).toMatchObject({
      source_id: 70000, if_index: 70000, if_admin_up: true, if_oper_up: false, if_speed: Number.MAX_SAFE_INTEGER, if_direction: 4,
    });
    expect(d.flows).toEqual([]);
  });

  it('skips unknown sample and record formats by their length', () => {
    const d = valid(decode(datagram([
      tlv((4413 << 12) | 5, Buffer.alloc(36, 0xab)), // an enterprise sample
      flowSample({ records: [tlv(1002, Buffer.alloc(12)), tlv((9 << 12) | 1, Buffer.alloc(5)), rawHeader(tcpFrame('10.0.0.5'))] }),
      tlv(99, Buffer.alloc(0)),
      counterSample(1, [tlv(2005, Buffer.alloc(8))]), // a counter record this decoder does not read
      flowSample({ records: [rawHeader(tcpFrame('10.0.0.6'))] }),
    ])));
    expect(d.errors).toEqual([]);
    expect(d.flows.map((f) => f.src_addr)).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(d.counters).toEqual([]);
  });

  it('ignores samples of non-IP frames without calling them errors', () => {
    const arp = eth(0x0806, Buffer.alloc(28));
    const d = decode(datagram([flowSample({ records: [rawHeader(arp)] }), flowSample({ records: [rawHeader(tcpFrame())] })]));
    expect([d.flows.length, d.errors]).toEqual([1, []]);
  });

  it('uses the UDP source for agent address type 0 and rejects unknown types', () => {
    const zero = datagram([flowSample({ records: [rawHeader(tcpFrame())] })], { agentType: 0, agent: Buffer.alloc(0) });
    expect(valid(decode(zero, '10.0.0.99')).flows[0]!.exporter_address).toBe('10.0.0.99');
    const bad = decode(datagram([flowSample({ records: [rawHeader(tcpFrame())] })], { agentType: 7 }));
    expect(bad.errors.map((e) => e.reason)).toEqual(['sflow-bad-address-type']);
    expect([bad.flows, bad.agent, bad.sequence]).toEqual([[], undefined, undefined]);
  });

  it('rejects other versions', () => {
    const d = decode(datagram([flowSample({ records: [rawHeader(tcpFrame())] })], { version: 4 }));
    expect(d.errors).toEqual([{ reason: 'sflow-bad-version', detail: `version 4 from ${FROM}, expected 5` }]);
    expect([d.flows, d.counters, d.agent]).toEqual([[], [], undefined]);
  });

  it('keeps the flows before a sample whose length points past the end', () => {
    const good = flowSample({ records: [rawHeader(tcpFrame('10.0.0.1'))] });
    const liar = flowSample({ records: [rawHeader(tcpFrame('10.0.0.2'))] });
    liar.writeUInt32BE(liar.length + 100, 4);
    const d = decode(datagram([good, liar]));
    expect(d.flows.map((f) => f.src_addr)).toEqual(['10.0.0.1']);
    expect(d.errors.map((e) => e.reason)).toEqual(['sflow-bad-length']);
    expect(d.sequence).toBe(1);
  });

  it('drops a sample whose record overruns it, and decodes the next one', () => {
    const bad = flowSample({ records: [rawHeader(tcpFrame('10.0.0.1'))] });
    bad.writeUInt32BE(10_000, 8 + 32 + 4); // the raw header record's length
    const shortHeader = flowSample({ records: [tlv(1, Buffer.alloc(8))] }); // a raw header record too short for its fields
    const d = decode(datagram([bad, shortHeader, flowSample({ records: [rawHeader(tcpFrame('10.0.0.3'))] })]));
    expect(d.flows.map((f) => f.src_addr)).toEqual(['10.0.0.3']);
    expect(d.errors.map((e) => e.reason)).toEqual(['sflow-bad-length', 'sflow-bad-length']);
  });

  it('refuses absurd sample and record counts', () => {
    const one = flowSample({ records: [rawHeader(tcpFrame())] });
    const many = decode(datagram([one], { count: MAX_SAMPLES + 1 }));
    expect([many.errors.map((e) => e.reason), many.flows.length]).toEqual([['sflow-bad-count'], 0]);
    const fewer = decode(datagram([one], { count: 4 })); // announces 4, carries 1: the one still counts
    expect([fewer.errors.map((e) => e.reason), fewer.flows.length]).toEqual([['sflow-truncated'], 1]);
    const records = flowSample({ records: [rawHeader(tcpFrame())] });
    records.writeUInt32BE(1_000_000, 8 + 28); // num_records
    const d = decode(datagram([records, one]));
    expect([d.errors.map((e) => e.reason), d.flows.length]).toEqual([['sflow-bad-count'], 1]);
  });

  it('reports truncation at every byte offset, with no exception and no garbage', () => {
    const full = datagram([
      flowSample({ records: [rawHeader(tcpFrame('10.0.0.1'))] }),
      counterSample(3, [ifCounters({ index: 3, type: 6, speed: 10n ** 11n, direction: 1, status: 3, inOctets: 1n, inUcast: 1, inMulti: 0, inBroad: 0, inDiscards: 0, inErrors: 0, outOctets: 2n, outUcast: 2, outMulti: 0, outBroad: 0, outDiscards: 0, outErrors: 0 })]),
      expandedFlowSample({ records: [extendedSwitch(7, 7), rawHeader(tcpFrame('10.0.0.2'))] }),
    ], { agent: v6('20010db8000000000000000000000001') });
    const whole = valid(decode(full));
    expect([whole.flows.length, whole.counters.length, whole.errors.length]).toEqual([2, 1, 0]);
    const known = ['sflow-truncated', 'sflow-bad-length'];
    for (let cut = 0; cut < full.length; cut++) {
      const d = decode(full.subarray(0, cut));
      expect(d.errors.length).toBe(1);
      expect(known).toContain(d.errors[0]!.reason);
      expect(whole.flows.slice(0, d.flows.length)).toEqual(d.flows); // only whole samples, in order
      expect(whole.counters.slice(0, d.counters.length)).toEqual(d.counters);
    }
  });

  it('never throws on random or mutated datagrams, and whatever it emits is valid', () => {
    let seed = 42;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const inner = eth(0x86dd, ipv6(v6('fd000000000000000000000000000001'), v6('fd000000000000000000000000000002'), 6, tcp(1, 2, 0x1ff)));
    const bases = [
      datagram([
        flowSample({ records: [extendedSwitch(3, 4), rawHeader(eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(1, 4789, vxlan(5, inner))), 9))] }),
        counterSample(1, [ifCounters({ index: 1, type: 6, speed: 1n, direction: 1, status: 3, inOctets: 1n, inUcast: 1, inMulti: 0, inBroad: 0, inDiscards: 0, inErrors: 0, outOctets: 1n, outUcast: 1, outMulti: 0, outBroad: 0, outDiscards: 0, outErrors: 0 })]),
        expandedFlowSample({ records: [rawHeader(ipv6(v6('20010db8000000000000000000000001'), v6('20010db8000000000000000000000002'), 58, Buffer.alloc(8)), 48, 12)] }),
      ]),
      datagram([flowSample({ records: [tlv(3, new Xdr().u32(1).u32(6).raw(v4('1.2.3.4')).raw(v4('5.6.7.8')).u32(1).u32(2).u32(3).u32(4).done())] })]),
    ];
    let flows = 0;
    let errors = 0;
    const invalid: unknown[] = [];
    const reasons = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      let buf: Buffer;
      if (i % 4 === 0) {
        buf = Buffer.alloc(Math.floor(rnd() * 300));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rnd() * 256);
        if (rnd() < 0.5 && buf.length >= 4) buf.writeUInt32BE(5, 0); // get past the version check
      } else {
        buf = Buffer.from(bases[i % 2]!);
        for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
          const at = Math.floor(rnd() * buf.length);
          if (rnd() < 0.5) buf[at] = Math.floor(rnd() * 256);
          else if (at + 4 <= buf.length) buf.writeUInt32BE([0, 1, 0xffffffff, 0x7fffffff, Math.floor(rnd() * 2 ** 32)][Math.floor(rnd() * 5)]!, at & ~3);
        }
        if (rnd() < 0.3) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
      }
      const d = decodeSflow(buf, FROM, NOW);
      for (const f of d.flows) if (!FlowSchema.safeParse(f).success) invalid.push(f);
      for (const c of d.counters) if (!InterfaceCounterSchema.safeParse(c).success) invalid.push(c);
      for (const e of d.errors) reasons.add(e.reason);
      flows += d.flows.length;
      errors += d.errors.length;
    }
    expect(invalid).toEqual([]);
    expect([...reasons].sort()).toEqual(['sflow-bad-address-type', 'sflow-bad-count', 'sflow-bad-length', 'sflow-bad-version', 'sflow-truncated']);
    expect(flows).toBeGreaterThan(1000); // the mutations did not just hit the header every time
    expect(errors).toBeGreaterThan(5000);
  });
});
