import { FlowSchema } from '../../core/flow';
import { decodeIpfix, decodeNetflow9, DecodeContext } from '../../ingest/ipfix/decoder';
import { DEFAULT_LIMITS, ExporterStates } from '../../ingest/ipfix/state';
import {
  FieldSpec, IE, ipfixMessage, ipv4, ipv6, ntp, optionsTemplateRecord, set, templateRecord, u16, u32, u64, u8, v9OptionsTemplateRecord, v9Packet,
} from '../ipfix-builder';

const NOW = 1_764_000_100_000;
const ctx = (over: Partial<DecodeContext> = {}): DecodeContext => ({
  exporter: '192.0.2.10', now: NOW, states: new ExporterStates(), transport: 'udp', ...over,
});
/** A data record laid out as `fields`, each field's bytes from `values` by element id, zeros when absent. */
const record = (fields: FieldSpec[], values: Record<number, Buffer>) => Buffer.concat(fields.map(([id, len]) => values[id] ?? Buffer.alloc(len)));

/** What DPUs export: 5-tuple, counters, ms times, flags, interfaces, VLAN, VNI. */
const DPU: FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 4], [IE.flowStartMilliseconds, 8],
  [IE.flowEndMilliseconds, 8], [IE.tcpControlBits, 2], [IE.ingressInterface, 4], [IE.egressInterface, 4],
  [IE.vlanId, 2], [IE.layer2SegmentId, 8],
];
const dpuRecord = (src: string, bytes: number, start = 1_764_000_000_000) => Buffer.concat([
  ipv4(src), ipv4('10.102.0.20'), u16(49152), u16(4791), u8(17), u64(bytes), u32(1000), u64(start), u64(start + 5000),
  u16(0x12), u32(3), u32(7), u16(100), u64((1n << 56n) | 5001n),
]);

describe('IPFIX decoder', () => {
  it('decodes a DPU template and its data records into Flows', () => {
    const c = ctx();
    const out = decodeIpfix(ipfixMessage({ domain: 7 }, set(2, templateRecord(256, DPU)), set(256, dpuRecord('10.101.0.10', 4_096_000), dpuRecord('10.101.0.11', 10))), c);
    expect(out.errors).toEqual([]);
    expect(out.flows).toHaveLength(2);
    expect(out.flows[0]).toEqual({
      time_received: NOW, time_start: 1_764_000_000_000, time_end: 1_764_000_005_000,
      source_kind: 'ipfix', exporter_address: '192.0.2.10', observation_domain: 7, observation_point: 'dpu',
      src_addr: '10.101.0.10', dst_addr: '10.102.0.20', src_port: 49152, dst_port: 4791, protocol: 17,
      bytes: 4_096_000, packets: 1000, tcp_flags: 0x12, sampling_rate: 1, direction: 'unknown',
      in_if: 3, out_if: 7, vlan: 100, vni: 5001,
    });
    for (const f of out.flows) expect(FlowSchema.parse(f)).toEqual(f);
  });

  it('holds data that arrives before its template, then decodes it when the template comes', () => {
    const c = ctx();
    const early = decodeIpfix(ipfixMessage({ seq: 0 }, set(256, dpuRecord('10.101.0.12', 1))), c);
    expect(early.flows).toEqual([]);
    expect(early.errors).toEqual([]);
    const later = decodeIpfix(ipfixMessage({ seq: 1 }, set(2, templateRecord(256, DPU))), c);
    expect(later.flows.map((f) => f.src_addr)).toEqual(['10.101.0.12']);
  });

  it('drops held data after the bounded wait and counts it', () => {
    const c = ctx();
    decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.12', 1))), c);
    const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(300, DPU))), { ...c, now: NOW + DEFAULT_LIMITS.pendingMs + 1 });
    expect(out.errors.map((e) => e.reason)).toEqual(['template-missing']);
    expect(out.flows).toEqual([]);
  });

  it('bounds the data held per domain', () => {
    const c = ctx({ states: new ExporterStates({ ...DEFAULT_LIMITS, maxPendingSets: 2 }) });
    const reasons = [1, 2, 3].flatMap(() => decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.12', 1))), c).errors.map((e) => e.reason));
    expect(reasons).toEqual(['template-missing']);
    expect(c.states.size.pendingBytes).toBe(2 * dpuRecord('10.101.0.12', 1).length);
  });

  it('withdraws one template, or all of a kind', () => {
    const c = ctx();
    decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, DPU), templateRecord(257, DPU))), c);
    decodeIpfix(ipfixMessage({}, set(2, Buffer.concat([u16(256), u16(0)]))), c);
    expect(decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.1', 1))), c).flows).toEqual([]);
    expect(decodeIpfix(ipfixMessage({}, set(257, dpuRecord('10.101.0.1', 1))), c).flows).toHaveLength(1);
    decodeIpfix(ipfixMessage({}, set(2, Buffer.concat([u16(2), u16(0)]))), c);
    expect(decodeIpfix(ipfixMessage({}, set(257, dpuRecord('10.101.0.1', 1))), c).flows).toEqual([]);
  });

  it('expires UDP templates that are not refreshed, and keeps refreshed ones', () => {
    const c = ctx();
    decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, DPU))), c);
    const half = NOW + DEFAULT_LIMITS.templateTimeoutMs / 2 + 1;
    decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, DPU))), { ...c, now: half });
    expect(decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.1', 1))), { ...c, now: NOW + DEFAULT_LIMITS.templateTimeoutMs + 2 }).flows).toHaveLength(1);
    const late = decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.1', 1))), { ...c, now: half + DEFAULT_LIMITS.templateTimeoutMs + 1 });
    expect(late.errors.map((e) => e.reason)).toEqual(['template-expired']);
    expect(late.flows).toEqual([]);
    const tcp = ctx({ transport: 'tcp' });
    decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, DPU))), tcp);
    expect(decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.1', 1))), { ...tcp, now: NOW + 10 * DEFAULT_LIMITS.templateTimeoutMs }).flows).toHaveLength(1);
  });

  it('reads variable-length fields (1- and 3-byte lengths) and keeps enterprise elements as named hex columns', () => {
    const fields: FieldSpec[] = [
      [IE.sourceIPv4Address, 4], [IE.applicationName, 65535], [IE.destinationIPv4Address, 4], [7, 65535, 12345], [9, 2, 47450],
    ];
    const long = Buffer.alloc(300, 0xab);
    const rec = Buffer.concat([ipv4('10.0.0.1'), u8(3), Buffer.from('ssh'), ipv4('10.0.0.2'), u8(255), u16(300), long, u16(0xbeef)]);
    const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(400, fields)), set(400, rec)), ctx({ enterpriseNames: new Map([['47450.9', 'bf_policy_id']]) }));
    expect(out.errors).toEqual([]);
    expect(out.flows).toHaveLength(1);
    expect(out.flows[0]!.src_addr).toBe('10.0.0.1');
    expect(out.flows[0]!.dst_addr).toBe('10.0.0.2');
    expect(out.flows[0]!.enterprise_fields).toEqual({ '12345.7': 'ab'.repeat(300), bf_policy_id: 'beef' });
    expect(FlowSchema.safeParse(out.flows[0]).success).toBe(true);
  });

  it('reads IPv6, and every time form: seconds, NTP microseconds, delta microseconds, sysUpTime with systemInitTime', () => {
    const exportSec = 1_764_000_100;
    const t0 = 1_764_000_000_250;
    const msgs: [FieldSpec[], Buffer][] = [
      [[[IE.flowStartSeconds, 4], [IE.flowEndSeconds, 4]], Buffer.concat([u32(Math.floor(t0 / 1000)), u32(Math.floor(t0 / 1000) + 2)])],
      [[[IE.flowStartMicroseconds, 8], [IE.flowEndMicroseconds, 8]], Buffer.concat([ntp(t0), ntp(t0 + 1500)])],
      [[[IE.flowStartDeltaMicroseconds, 4], [IE.flowEndDeltaMicroseconds, 4]], Buffer.concat([u32(9_000_000), u32(1_000_000)])],
      [[[IE.flowStartSysUpTime, 4], [IE.flowEndSysUpTime, 4], [IE.systemInitTimeMilliseconds, 8]], Buffer.concat([u32(1000), u32(4000), u64(t0)])],
    ];
    const got = msgs.map(([timeFields, timeBytes], i) => {
      const fields: FieldSpec[] = [[IE.sourceIPv6Address, 16], [IE.destinationIPv6Address, 16], ...timeFields];
      const rec = Buffer.concat([ipv6('2001:db8::1'), ipv6('fd00:0:0:1::53'), timeBytes]);
      const out = decodeIpfix(ipfixMessage({ exportSec }, set(2, templateRecord(256 + i, fields)), set(256 + i, rec)), ctx());
      expect(out.errors).toEqual([]);
      return [out.flows[0]!.src_addr, out.flows[0]!.dst_addr, out.flows[0]!.time_start, out.flows[0]!.time_end];
    });
    expect(got).toEqual([
      ['2001:db8::1', 'fd00:0:0:1::53', 1_764_000_000_000, 1_764_000_002_000],
      ['2001:db8::1', 'fd00:0:0:1::53', t0, t0 + 1500],
      ['2001:db8::1', 'fd00:0:0:1::53', exportSec * 1000 - 9000, exportSec * 1000 - 1000],
      ['2001:db8::1', 'fd00:0:0:1::53', t0 + 1000, t0 + 4000],
    ]);
  });

  it('applies sampling announced in options data, domain-wide and per selector', () => {
    const c = ctx();
    const opts = set(3,
      optionsTemplateRecord(500, [[IE.selectorId, 8]], [[IE.samplingPacketInterval, 4], [IE.samplingPacketSpace, 4]]),
      optionsTemplateRecord(501, [[IE.samplerId, 2]], [[IE.samplingInterval, 4]]));
    const data = set(500, Buffer.concat([u64(9), u32(1), u32(999)]));
    const domainWide = set(501, Buffer.concat([u16(0), u32(4096)]));
    const fields: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.selectorId, 8]];
    const out = decodeIpfix(ipfixMessage({}, opts, data, set(2, templateRecord(600, fields)),
      set(600, Buffer.concat([ipv4('10.0.0.1'), ipv4('10.0.0.2'), u64(9)]), Buffer.concat([ipv4('10.0.0.3'), ipv4('10.0.0.4'), u64(77)]))), c);
    expect(out.errors).toEqual([]);
    // Selector 9 samples 1 in 1000; selector 77 is unknown and there is no domain-wide rate yet.
    expect(out.flows.map((f) => f.sampling_rate)).toEqual([1000, 1]);
    // A sampler id of 0 in options data is still a selector: it does not set the domain rate.
    const more = decodeIpfix(ipfixMessage({}, domainWide, set(600, Buffer.concat([ipv4('10.0.0.5'), ipv4('10.0.0.6'), u64(77)]))), c);
    expect(more.flows.map((f) => f.sampling_rate)).toEqual([1]);
    const rateInRecord: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.samplerRandomInterval, 4]];
    const own = decodeIpfix(ipfixMessage({}, set(2, templateRecord(601, rateInRecord)), set(601, Buffer.concat([ipv4('10.0.0.7'), ipv4('10.0.0.8'), u32(512)]))), c);
    expect(own.flows.map((f) => f.sampling_rate)).toEqual([512]);
  });

  it('counts records lost from sequence gaps and ignores reordering', () => {
    const c = ctx();
    const tpl = set(2, templateRecord(256, DPU));
    const two = set(256, dpuRecord('10.101.0.1', 1), dpuRecord('10.101.0.2', 1));
    expect(decodeIpfix(ipfixMessage({ seq: 100 }, tpl, two), c).lost).toBe(0);
    expect(decodeIpfix(ipfixMessage({ seq: 102 }, two), c).lost).toBe(0);
    expect(decodeIpfix(ipfixMessage({ seq: 110 }, two), c).lost).toBe(6);
    expect(decodeIpfix(ipfixMessage({ seq: 105 }, two), c).lost).toBe(0);
  });

  it('follows exporters whose sequence number includes the message\'s own records (softflowd)', () => {
    const c = ctx();
    const tpl = set(2, templateRecord(256, DPU));
    const recs = (n: number) => set(256, ...Array.from({ length: n }, (_, i) => dpuRecord(`10.101.0.${i + 1}`, 1)));
    expect(decodeIpfix(ipfixMessage({ seq: 2 }, tpl, recs(2)), c).lost).toBe(0);
    expect(decodeIpfix(ipfixMessage({ seq: 5 }, recs(3)), c).lost).toBe(0);
    expect(decodeIpfix(ipfixMessage({ seq: 10 }, recs(2)), c).lost).toBe(3);
  });

  it('skips set padding', () => {
    const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, DPU)), set(256, dpuRecord('10.101.0.1', 1), Buffer.alloc(3))), ctx());
    expect(out.errors).toEqual([]);
    expect(out.flows).toHaveLength(1);
  });

  it.each([
    ['truncated-header', Buffer.from([0, 10, 0])],
    ['bad-version', ipfixMessage({}).fill(0, 0, 2)],
    ['bad-length', Buffer.concat([ipfixMessage({}, set(2, templateRecord(256, DPU))).subarray(0, 30)])],
    ['bad-set-length', ipfixMessage({}, Buffer.concat([u16(2), u16(2)]))],
    ['set-past-end', (() => { const m = ipfixMessage({}, set(2, templateRecord(256, DPU))); m.writeUInt16BE(200, 18); return m; })()],
    ['template-too-many-fields', ipfixMessage({}, set(2, Buffer.concat([u16(256), u16(5000)])))],
    ['template-truncated', ipfixMessage({}, set(2, templateRecord(256, DPU).subarray(0, 20)))],
    ['bad-template', ipfixMessage({}, set(2, templateRecord(256, [[IE.sourceIPv4Address, 3]])))],
    ['bad-template', ipfixMessage({}, set(2, templateRecord(256, [[IE.sourceIPv4Address, 0]])))],
    ['bad-template', ipfixMessage({}, set(2, templateRecord(256, [[IE.protocolIdentifier, 2]])))],
    ['bad-template', ipfixMessage({}, set(2, templateRecord(256, [[IE.sourceIPv4Address, 65535]])))],
    ['bad-template-id', ipfixMessage({}, set(2, templateRecord(12, DPU)))],
    ['reserved-set-id', ipfixMessage({}, set(100, Buffer.alloc(4)))],
    ['record-truncated', ipfixMessage({}, set(2, templateRecord(256, [[IE.sourceIPv4Address, 4], [IE.applicationName, 65535]])), set(256, Buffer.concat([ipv4('10.0.0.1'), u8(200), Buffer.alloc(10)])))],
  ])('reports %s', (reason, packet) => {
    const out = decodeIpfix(packet, ctx());
    expect(out.errors.map((e) => e.reason)).toContain(reason);
    expect(out.flows).toEqual([]);
  });

  it.each([
    ['variable-length protocol of 0 bytes', '000a0031692481000000000000000001000200140100000300080004000c00040004ffff0100000d0a0000010a00000200'],
    ['variable-length IPv4 address', '000a002a692481000000000000000001000200100100000200080004000cffff0100000a0a0000010109'],
    ['fixed fields after a long variable-length field', '000a003b6924810000000000000000010002001801000004000800040060ffff000c000400010004010000130a000001066162636465660a000002'],
    ['a 2-byte protocol, 4-byte port, 8-byte interface', '000a00466924810000000000000000010002001c0100000500080004000c00040004000200070004000a00080100001a0a0000010a0000021234000100000000010000000000'],
    ['flowEndMilliseconds of 2^56', '000a0044692481000000000000000001000200180100000400080004000c000400980008009900080100001c0a0000010a0000020000019ab697e8000100000000000000'],
  ])('found by fuzzing, stays safe: %s', (_name, hex) => {
    const out = decodeIpfix(Buffer.from(hex, 'hex'), ctx());
    for (const f of out.flows) expect(FlowSchema.safeParse(f).success).toBe(true);
    expect(out.flows.length + out.errors.length).toBeGreaterThan(0);
  });

  it('does not let one absurd systemInitTimeMilliseconds poison later flow times', () => {
    const c = ctx();
    decodeIpfix(Buffer.from('000a003269248100000000000000000100030012012c00020001012e000400a00008012c0010000000001000000000000000', 'hex'), c);
    const out = decodeIpfix(Buffer.from('000a003c692481000000000000000001000200180100000400080004000c00040016000400150004010000140a0000010a000002000003e8000007d0', 'hex'), c);
    expect(out.flows).toHaveLength(1);
    expect(FlowSchema.safeParse(out.flows[0]).success).toBe(true);
    expect(out.flows[0]!.time_end).toBe(0x69248100 * 1000);
  });

  it('caps templates per domain, evicting the least recently used, and exporters per collector', () => {
    const states = new ExporterStates({ ...DEFAULT_LIMITS, maxTemplatesPerDomain: 2, maxExporters: 1 });
    const c = ctx({ states });
    decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, DPU), templateRecord(257, DPU))), c);
    expect(decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.1', 1))), { ...c, now: NOW + 1 }).flows).toHaveLength(1);
    const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(258, DPU))), { ...c, now: NOW + 2 });
    expect(out.errors.map((e) => e.reason)).toEqual(['template-evicted']);
    expect(states.size.templates).toBe(2);
    // 257 was never used, so it went; 256 (in use) and the newcomer stay.
    expect(decodeIpfix(ipfixMessage({}, set(256, dpuRecord('10.101.0.1', 1)), set(258, dpuRecord('10.101.0.2', 1))), { ...c, now: NOW + 3 }).flows).toHaveLength(2);
    expect(decodeIpfix(ipfixMessage({}, set(257, dpuRecord('10.101.0.3', 1))), { ...c, now: NOW + 4 }).flows).toEqual([]);
    expect(decodeIpfix(ipfixMessage({}), ctx({ states, exporter: '192.0.2.99' })).errors.map((e) => e.reason)).toEqual(['exporter-limit']);
  });

  describe('alternative fields of one column (both address families in one template)', () => {
    // IANA ipNextHopIPv4Address and ipNextHopIPv6Address.
    const NEXT_HOP_V4 = 15;
    const NEXT_HOP_V6 = 62;
    const V4_FIRST: FieldSpec[] = [
      [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceIPv6Address, 16], [IE.destinationIPv6Address, 16],
      [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2], [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 4],
    ];
    const V6_FIRST: FieldSpec[] = [...V4_FIRST.slice(2, 4), ...V4_FIRST.slice(0, 2), ...V4_FIRST.slice(4)];
    const common = { [IE.sourceTransportPort]: u16(40000), [IE.destinationTransportPort]: u16(443), [IE.protocolIdentifier]: u8(6), [IE.octetDeltaCount]: u64(1500), [IE.packetDeltaCount]: u32(3) };
    const v4Flow = { ...common, [IE.sourceIPv4Address]: ipv4('10.1.0.5'), [IE.destinationIPv4Address]: ipv4('10.2.0.9') };
    const v6Flow = { ...common, [IE.sourceIPv6Address]: ipv6('2001:db8::5'), [IE.destinationIPv6Address]: ipv6('fd00::9') };

    it.each([['IPv4 fields first', V4_FIRST], ['IPv6 fields first', V6_FIRST]])('decodes IPv4 and IPv6 flows with their own addresses (%s)', (_name, fields) => {
      const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, fields)), set(256, record(fields, v4Flow), record(fields, v6Flow))), ctx());
      expect(out.errors).toEqual([]);
      expect(out.flows.map((f) => [f.src_addr, f.dst_addr, f.src_port, f.dst_port, f.protocol, f.bytes, f.packets])).toEqual([
        ['10.1.0.5', '10.2.0.9', 40000, 443, 6, 1500, 3],
        ['2001:db8::5', 'fd00::9', 40000, 443, 6, 1500, 3],
      ]);
      for (const f of out.flows) expect(FlowSchema.parse(f)).toEqual(f);
    });

    it('keeps the first alternative when every alternative is zero', () => {
      const decoded = [V4_FIRST, V6_FIRST].map((fields) =>
        decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, fields)), set(256, record(fields, common))), ctx()).flows.map((f) => [f.src_addr, f.dst_addr]));
      expect(decoded).toEqual([[['0.0.0.0', '0.0.0.0']], [['::', '::']]]);
    });

    it('decodes a lone IPv4 address of 0.0.0.0 as 0.0.0.0', () => {
      const fields: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4]];
      const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, fields)), set(256, Buffer.concat([ipv4('0.0.0.0'), ipv4('10.2.0.9')]))), ctx());
      expect(out.flows.map((f) => [f.src_addr, f.dst_addr])).toEqual([['0.0.0.0', '10.2.0.9']]);
    });

    it('takes the VLAN from whichever of vlanId and dot1qVlanId is set', () => {
      const fields: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.vlanId, 2], [IE.dot1qVlanId, 2]];
      const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, fields)),
        set(256, record(fields, { ...v4Flow, [IE.dot1qVlanId]: u16(100) }), record(fields, { ...v4Flow, [IE.vlanId]: u16(200) }))), ctx());
      expect(out.flows.map((f) => f.vlan)).toEqual([100, 200]);
    });

    it.each([
      ['IPv4 next hop first', [[NEXT_HOP_V4, 4], [NEXT_HOP_V6, 16]]],
      ['IPv6 next hop first', [[NEXT_HOP_V6, 16], [NEXT_HOP_V4, 4]]],
    ] as [string, FieldSpec[]][])('decodes the next hop of either family, and none when both are zero (%s)', (_name, nextHops) => {
      const fields: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], ...nextHops];
      const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, fields)), set(256,
        record(fields, { ...v4Flow, [NEXT_HOP_V4]: ipv4('10.255.0.1') }),
        record(fields, { ...v4Flow, [NEXT_HOP_V6]: ipv6('fe80::1') }),
        record(fields, v4Flow))), ctx());
      expect(out.errors).toEqual([]);
      expect(out.flows.map((f) => f.next_hop)).toEqual(['10.255.0.1', 'fe80::1', undefined]);
      expect(out.flows[2]).not.toHaveProperty('next_hop');
      for (const f of out.flows) expect(FlowSchema.parse(f)).toEqual(f);
    });

    it('decodes a lone next hop, none when it is the unspecified address', () => {
      const fields: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [NEXT_HOP_V4, 4]];
      const out = decodeIpfix(ipfixMessage({}, set(2, templateRecord(256, fields)), set(256,
        record(fields, { ...v4Flow, [NEXT_HOP_V4]: ipv4('10.255.0.1') }), record(fields, v4Flow))), ctx());
      expect(out.flows.map((f) => f.next_hop)).toEqual(['10.255.0.1', undefined]);
    });
  });
});

describe('NetFlow v9 decoder', () => {
  const V9: FieldSpec[] = [
    [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
    [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 4], [IE.packetDeltaCount, 4], [IE.flowStartSysUpTime, 4], [IE.flowEndSysUpTime, 4],
    [IE.tcpControlBits, 1], [IE.flowDirection, 1],
  ];
  const rec = Buffer.concat([ipv4('10.1.0.5'), ipv4('10.20.0.10'), u16(40000), u16(2049), u8(6), u32(123456), u32(99), u32(3_590_000), u32(3_599_000), u8(0x1b), u8(1), Buffer.alloc(1)]);

  it('decodes templates and data, with times relative to sysUptime and options sampling', () => {
    const c = ctx();
    const opts = set(1, v9OptionsTemplateRecord(300, [[1, 4]], [[IE.samplingInterval, 4], [49, 1]]));
    const optsData = set(300, Buffer.concat([u32(0), u32(100), u8(2), Buffer.alloc(3)]));
    const out = decodeNetflow9(v9Packet({ uptimeMs: 3_600_000, exportSec: 1_764_000_000, sourceId: 3 }, opts, optsData, set(0, templateRecord(256, V9, true)), set(256, rec)), c);
    expect(out.errors).toEqual([]);
    expect(out.flows).toEqual([{
      time_received: NOW, time_start: 1_764_000_000_000 - 10_000, time_end: 1_764_000_000_000 - 1000,
      source_kind: 'netflow9', exporter_address: '192.0.2.10', observation_domain: 3, observation_point: 'dpu',
      src_addr: '10.1.0.5', dst_addr: '10.20.0.10', src_port: 40000, dst_port: 2049, protocol: 6,
      bytes: 123456, packets: 99, tcp_flags: 0x1b, sampling_rate: 100, direction: 'egress',
    }]);
  });

  it('decodes a template carrying both address families with each flow\'s own addresses', () => {
    const fields: FieldSpec[] = [
      [IE.sourceIPv6Address, 16], [IE.destinationIPv6Address, 16], [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4],
      [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 4], [IE.packetDeltaCount, 4],
    ];
    const counters = { [IE.protocolIdentifier]: u8(17), [IE.octetDeltaCount]: u32(900), [IE.packetDeltaCount]: u32(2) };
    const out = decodeNetflow9(v9Packet({}, set(0, templateRecord(256, fields, true)), set(256,
      record(fields, { ...counters, [IE.sourceIPv4Address]: ipv4('10.1.0.5'), [IE.destinationIPv4Address]: ipv4('10.20.0.10') }),
      record(fields, { ...counters, [IE.sourceIPv6Address]: ipv6('2001:db8::5'), [IE.destinationIPv6Address]: ipv6('fd00::9') }))), ctx());
    expect(out.errors).toEqual([]);
    expect(out.flows.map((f) => [f.src_addr, f.dst_addr, f.bytes])).toEqual([['10.1.0.5', '10.20.0.10', 900], ['2001:db8::5', 'fd00::9', 900]]);
  });

  it('counts lost export packets and rejects v9 templates without fields', () => {
    const c = ctx();
    decodeNetflow9(v9Packet({ seq: 10 }, set(0, templateRecord(256, V9, true))), c);
    expect(decodeNetflow9(v9Packet({ seq: 14 }, set(256, rec)), c).lost).toBe(3);
    const zero = decodeNetflow9(v9Packet({}, set(0, Buffer.concat([u16(256), u16(0)]))), ctx());
    expect(zero.errors.map((e) => e.reason)).toEqual(['template-zero-fields']);
    expect(decodeNetflow9(Buffer.alloc(19), ctx()).errors.map((e) => e.reason)).toEqual(['truncated-header']);
  });
});
