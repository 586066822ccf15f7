import { FlowSchema } from '../../core/flow';
import { InterfaceCounterSchema } from '../../core/records';
import { decodeSflow, MAX_SAMPLES, type SflowDecoded } from '../../ingest/sflow/decoder';
import {
  counterSample, datagram, ethernet, expandedCounterSample, expandedFlowSample, extendedSwitch, flowSample, HEADER_PROTOCOL, IfCounters,
  ifCounters, ipv4Packet, ipv6Packet, rawHeader, sampledEthernet, sampledIpv4, sampledIpv6, tcp, tcpFrame, tlv, udp, vxlan,
} from '../sflow-builder';

const NOW = 1_760_000_000_123;
const FROM = '192.0.2.1';

const decode = (buf: Buffer, from = FROM) => decodeSflow(buf, from, NOW);
const valid = (d: SflowDecoded) => {
  for (const f of d.flows) expect(FlowSchema.parse(f)).toEqual(f);
  for (const c of d.counters) expect(InterfaceCounterSchema.parse(c)).toEqual(c);
  return d;
};

describe('decodeSflow', () => {
  it('turns a flow sample with a raw Ethernet + IPv4 + TCP header into one Flow', () => {
    const d = valid(decode(datagram([flowSample({ rate: 4096, input: 17, output: 18, records: [rawHeader(tcpFrame(), { frameLength: 1518 })] })], { subAgent: 3, seq: 991 })));
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
    const frame = ethernet(0x86dd, ipv6Packet('fd00:101::a0a', 'fd00:101::b0b', 17, udp(49152, 4791, Buffer.alloc(1000)), { hopLimit: 0 }));
    const d = valid(decode(datagram([flowSample({ rate: 1, records: [rawHeader(frame, { frameLength: 1066 })] })], { agent: '2001:db8::1', subAgent: 9 })));
    expect(d.agent).toBe('2001:db8::1');
    expect(d.flows).toHaveLength(1);
    expect(d.flows[0]).toMatchObject({
      exporter_address: '2001:db8::1', observation_domain: 9, src_addr: 'fd00:101::a0a', dst_addr: 'fd00:101::b0b',
      src_port: 49152, dst_port: 4791, protocol: 17, bytes: 1066, tcp_flags: 0, sampling_rate: 1,
    });
  });

  it('takes the VLAN from the 802.1Q tag, else from the extended switch record', () => {
    const tagged = ethernet(0x0800, ipv4Packet('10.1.0.1', '10.1.0.2', 6, tcp(1, 2, 0x02)), { vlan: 101 });
    const d = valid(decode(datagram([
      flowSample({ records: [rawHeader(tagged), extendedSwitch(55, 56)] }),
      flowSample({ records: [extendedSwitch(55, 56), rawHeader(tcpFrame())] }),
      flowSample({ records: [extendedSwitch(0, 57), rawHeader(tcpFrame())] }),
    ])));
    expect(d.flows.map((f) => f.vlan)).toEqual([101, 55, 57]);
    expect(d.flows[0]).toMatchObject({ src_addr: '10.1.0.1', dst_port: 2, tcp_flags: 0x02 });
  });

  it('reports the inner 5-tuple and VNI of VXLAN traffic', () => {
    const inner = ethernet(0x0800, ipv4Packet('172.16.5.1', '172.16.5.2', 6, tcp(33000, 443, 0x12)));
    const outer = ethernet(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(51234, 4789, vxlan(0x123456, inner))), { vlan: 20 });
    const d = valid(decode(datagram([flowSample({ records: [rawHeader(outer, { frameLength: 9000 })] })])));
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
    const ip4 = sampledIpv4({ length: 1400, protocol: 6, src: '10.9.0.1', dst: '10.9.0.2', srcPort: 22, dstPort: 60000, tcpFlags: 0x11, tos: 0 });
    const ip6 = sampledIpv6({ length: 200, protocol: 17, src: 'fd00::1', dst: 'fd00::2', srcPort: 53, dstPort: 5353, tcpFlags: 0, tos: 0 });
    const eth = sampledEthernet(1418);
    const d = valid(decode(datagram([flowSample({ records: [ip4] }), flowSample({ records: [eth, ip6] })])));
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
      expandedCounterSample(70000, [ifCounters({ ...c, index: 70000, status: 1, direction: 4, speed: 2n ** 64n - 1n })]),
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
      flowSample({ records: [tlv(1002, Buffer.alloc(12)), tlv((9 << 12) | 1, Buffer.alloc(5)), rawHeader(tcpFrame({ src: '10.0.0.5' }))] }),
      tlv(99, Buffer.alloc(0)),
      counterSample(1, [tlv(2005, Buffer.alloc(8))]), // a counter record this decoder does not read
      flowSample({ records: [rawHeader(tcpFrame({ src: '10.0.0.6' }))] }),
    ])));
    expect(d.errors).toEqual([]);
    expect(d.flows.map((f) => f.src_addr)).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(d.counters).toEqual([]);
  });

  it('ignores samples of non-IP frames without calling them errors', () => {
    const arp = ethernet(0x0806, Buffer.alloc(28));
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
    const good = flowSample({ records: [rawHeader(tcpFrame({ src: '10.0.0.1' }))] });
    const liar = flowSample({ records: [rawHeader(tcpFrame({ src: '10.0.0.2' }))] });
    liar.writeUInt32BE(liar.length + 100, 4);
    const d = decode(datagram([good, liar]));
    expect(d.flows.map((f) => f.src_addr)).toEqual(['10.0.0.1']);
    expect(d.errors.map((e) => e.reason)).toEqual(['sflow-bad-length']);
    expect(d.sequence).toBe(1);
  });

  it('drops a sample whose record overruns it, and decodes the next one', () => {
    const bad = flowSample({ records: [rawHeader(tcpFrame({ src: '10.0.0.1' }))] });
    bad.writeUInt32BE(10_000, 8 + 32 + 4); // the raw header record's length
    const shortHeader = flowSample({ records: [tlv(1, Buffer.alloc(8))] }); // a raw header record too short for its fields
    const d = decode(datagram([bad, shortHeader, flowSample({ records: [rawHeader(tcpFrame({ src: '10.0.0.3' }))] })]));
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
      flowSample({ records: [rawHeader(tcpFrame({ src: '10.0.0.1' }))] }),
      counterSample(3, [ifCounters({ index: 3, type: 6, speed: 10n ** 11n, direction: 1, status: 3, inOctets: 1n, inUcast: 1, inMulti: 0, inBroad: 0, inDiscards: 0, inErrors: 0, outOctets: 2n, outUcast: 2, outMulti: 0, outBroad: 0, outDiscards: 0, outErrors: 0 })]),
      expandedFlowSample({ records: [extendedSwitch(7, 7), rawHeader(tcpFrame({ src: '10.0.0.2' }))] }),
    ], { agent: '2001:db8::1' });
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
    const inner = ethernet(0x86dd, ipv6Packet('fd00::1', 'fd00::2', 6, tcp(1, 2, 0x1ff), { hopLimit: 0 }));
    const bases = [
      datagram([
        flowSample({ records: [extendedSwitch(3, 4), rawHeader(ethernet(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(1, 4789, vxlan(5, inner))), { vlan: 9 }))] }),
        counterSample(1, [ifCounters({ index: 1, type: 6, speed: 1n, direction: 1, status: 3, inOctets: 1n, inUcast: 1, inMulti: 0, inBroad: 0, inDiscards: 0, inErrors: 0, outOctets: 1n, outUcast: 1, outMulti: 0, outBroad: 0, outDiscards: 0, outErrors: 0 })]),
        expandedFlowSample({ records: [rawHeader(ipv6Packet('2001:db8::1', '2001:db8::2', 58, Buffer.alloc(8), { hopLimit: 0 }), { frameLength: 48, protocol: HEADER_PROTOCOL.ipv6 })] }),
      ]),
      datagram([flowSample({ records: [sampledIpv4({ length: 1, protocol: 6, src: '1.2.3.4', dst: '5.6.7.8', srcPort: 1, dstPort: 2, tcpFlags: 3, tos: 4 })] })]),
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
