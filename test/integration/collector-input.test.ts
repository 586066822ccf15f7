/**
 * The flow collectors on real sockets: sFlow v5 datagrams (flow and interface counter samples) through Kafka into
 * ClickHouse; garbage on every UDP listener interleaved with valid exports (counted per reason, sampled to the
 * dead-letter topic byte for byte, and never stopping a listener); IPFIX over TCP cut at awkward boundaries, a
 * stream out of step that the server closes, and the collector serving on; spoofed sources (clients bound to
 * other 127.0.0.x addresses) kept out by the exporter allow-list, the bounded exporter table and metric series.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { Child, deadLetters, killChildren, query, spawnCli, testEnv, testKafka, TestEnv, waitFor } from '../helpers';
import { FieldSpec, IE, ipfixMessage, ipv4 as ip4, set, templateRecord, u16, u32, u64, u8, v9Packet } from '../ipfix-builder';
import { counterSample, datagram, flowSample, IfCounters, ifCounters, rawHeader, tcpFrame } from '../sflow-builder';
import { connectFrom as connect } from '../tcp-client';

const kafka = testKafka();

// --- the child, its listeners and its metrics ---

const COLLECTOR_ENV = { EASTWATCH_COLLECTOR_HOST: '127.0.0.1', EASTWATCH_IPFIX_PORT: '0', EASTWATCH_NETFLOW9_PORT: '0', EASTWATCH_SFLOW_PORT: '0' };

function start(t: TestEnv): Child {
  return spawnCli(t, ['start', '--roles', 'collectors,writer,http']);
}

/** The ports the child's listeners logged ("collector listening"). */
async function listenerPorts(app: Child, wanted: { protocol: string; transport: 'udp' | 'tcp' }[]): Promise<number[]> {
  return waitFor(() => {
    const ports = wanted.map(({ protocol, transport }) =>
      Number(new RegExp(`"protocol":"${protocol}","transport":"${transport}","host":"127\\.0\\.0\\.1","port":(\\d+)`).exec(app.output())?.[1] ?? 0));
    return ports.every((p) => p > 0) ? ports : undefined;
  }, 60_000, () => `collectors did not report their ports:\n${app.output().slice(-3000)}`);
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function metrics(httpPort: number): Promise<Sample[]> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const total = (samples: Sample[], name: string, match: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

/** Every collector failure the child counted, as "source reason count", sorted. */
const collectorFailures = (samples: Sample[]) =>
  samples.filter((s) => s.name === 'eastwatch_records_failed_total' && s.labels.stage === 'collector')
    .map((s) => `${s.labels.source} ${s.labels.reason} ${s.value}`).sort();

/** Waits until the writer has inserted at least these many rows per table; returns the last metrics. */
async function waitStored(app: Child, httpPort: number, rows: Record<string, number>, more: (s: Sample[]) => boolean = () => true): Promise<Sample[]> {
  let last: Sample[] = [];
  return waitFor(async () => {
    last = await metrics(httpPort);
    const done = Object.entries(rows).every(([table, n]) => total(last, 'eastwatch_clickhouse_inserted_rows_total', { table }) >= n) && more(last);
    return done ? last : undefined;
  }, 90_000, () => `writer did not store ${JSON.stringify(rows)}: ${JSON.stringify(last.filter((s) => /inserted_rows|records_|collector_packets|dead_letter/.test(s.name)))}\n${app.output().slice(-3000)}`);
}

async function stop(app: Child): Promise<void> {
  app.proc.kill('SIGTERM');
  expect(await app.exited).toEqual({ code: 0, signal: null });
  // A packet that made a decoder throw is logged by the listener (and would have skipped its records).
  expect(app.output()).not.toMatch(/collector failed on a packet/);
}

/** Sends in order from `from` (any 127.0.0.x: all loopback), or from 127.0.0.1. */
async function sendUdp(port: number, packets: Buffer[], from?: string): Promise<void> {
  const sock = dgram.createSocket('udp4');
  if (from) await new Promise<void>((resolve) => sock.bind({ address: from, port: 0 }, () => resolve()));
  try {
    for (const p of packets) {
      await new Promise<void>((resolve, reject) => sock.send(p, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      await new Promise((r) => setTimeout(r, 2)); // in order, without overrunning anything
    }
  } finally {
    sock.close();
  }
}

/** A seeded byte generator: "random" garbage that is the same on every run. */
function garbage(seed: number, length: number, head: Buffer): Buffer {
  const b = Buffer.alloc(length);
  let s = seed;
  for (let i = 0; i < length; i++) b[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  head.copy(b, 0);
  return b;
}

const ipv4Mapped = (a: string) => `::ffff:${a}`;

// --- sFlow v5 datagrams ---

/** A sampled TCP packet and the Flow columns it must become. */
interface SampledTcp { src: string; dst: string; sport: number; dport: number; flags: number; frameLength: number; rate: number; input: number; output: number }
const sampled = (p: SampledTcp) => flowSample({
  rate: p.rate, input: p.input, output: p.output,
  records: [rawHeader(tcpFrame({ src: p.src, dst: p.dst, sport: p.sport, dport: p.dport, flags: p.flags, payload: 1460 }), { frameLength: p.frameLength })],
});

// --- IPFIX / NetFlow v9 records of one template ---

/** IPFIX: 5-tuple, counts and millisecond times. */
const IPFIX_FIELDS: FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 8], [IE.flowStartMilliseconds, 8], [IE.flowEndMilliseconds, 8],
];
/** NetFlow v9: 5-tuple, 4-byte counts and sysUptime times. */
const V9_FIELDS: FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 4], [IE.packetDeltaCount, 4], [IE.flowStartSysUpTime, 4], [IE.flowEndSysUpTime, 4],
];

interface FlowSpec { src: string; dst: string; sport: number; dport: number; proto: number; bytes: number; packets: number; start: number; end: number }

const ipfixRecord = (f: FlowSpec) => Buffer.concat([ip4(f.src), ip4(f.dst), u16(f.sport), u16(f.dport), u8(f.proto), u64(f.bytes), u64(f.packets), u64(f.start), u64(f.end)]);
/** v9 times are sysUptime ms: `start` and `end` here are uptimes. */
const v9Record = (f: FlowSpec) => Buffer.concat([ip4(f.src), ip4(f.dst), u16(f.sport), u16(f.dport), u8(f.proto), u32(f.bytes), u32(f.packets), u32(f.start), u32(f.end)]);

const T0 = 1_764_000_000_000;
/** The n-th test flow of a group: distinct ports per flow make every stored row identifiable. */
const flowN = (group: number, n: number, proto = 6): FlowSpec => ({
  src: `10.${group}.0.${n}`, dst: `10.${group}.1.${n}`, sport: group * 1000 + n, dport: 4791, proto,
  bytes: 1000 * n + group, packets: n + 1, start: T0 + group * 10_000 + n * 100, end: T0 + group * 10_000 + n * 100 + 50,
});

/** How a stored flow is compared: the columns the exporter gave. */
const FLOW_COLUMNS = `source_kind, toString(exporter_address) AS exporter, observation_domain, toString(src_addr) AS src, toString(dst_addr) AS dst,
  src_port, dst_port, protocol, toString(bytes) AS bytes, toString(packets) AS packets, sampling_rate`;
interface StoredFlow { source_kind: string; exporter: string; observation_domain: number; src: string; dst: string; src_port: number; dst_port: number; protocol: number; bytes: string; packets: string; sampling_rate: number }
const expectedFlow = (kind: string, domain: number, f: FlowSpec): StoredFlow => ({
  source_kind: kind, exporter: ipv4Mapped('127.0.0.1'), observation_domain: domain, src: ipv4Mapped(f.src), dst: ipv4Mapped(f.dst),
  src_port: f.sport, dst_port: f.dport, protocol: f.proto, bytes: String(f.bytes), packets: String(f.packets), sampling_rate: 1,
});
const byPort = (a: { src_port: number }, b: { src_port: number }) => a.src_port - b.src_port;

describe('collector input on real sockets', () => {
  let t: TestEnv | undefined;
  afterEach(() => {
    killChildren();
    t?.cleanup();
    t = undefined;
  });

  it('stores sFlow v5 flow samples and 64-bit interface counters sent over UDP', async () => {
    const startedAt = Date.now();
    t = testEnv({ ...COLLECTOR_ENV, EASTWATCH_COLLECTORS: 'sflow' });
    const app = start(t);
    const httpPort = await app.httpPort();
    const [sflowPort] = await listenerPorts(app, [{ protocol: 'sflow', transport: 'udp' }]);

    const packets: SampledTcp[] = [
      { src: '10.101.0.10', dst: '10.101.0.11', sport: 43512, dport: 4791, flags: 0x18, frameLength: 1518, rate: 4096, input: 17, output: 18 },
      { src: '10.101.0.12', dst: '10.101.0.13', sport: 50000, dport: 443, flags: 0x02, frameLength: 74, rate: 4096, input: 17, output: 19 },
      { src: '10.102.0.20', dst: '10.101.0.10', sport: 33000, dport: 22, flags: 0x12, frameLength: 1066, rate: 512, input: 21, output: 17 },
      { src: '10.102.0.21', dst: '10.102.0.22', sport: 49152, dport: 4791, flags: 0x1ff, frameLength: 9000, rate: 1, input: 22, output: 23 },
      { src: '192.168.7.1', dst: '10.101.0.11', sport: 61000, dport: 8443, flags: 0x11, frameLength: 66, rate: 2048, input: 24, output: 18 },
    ];
    const port12: IfCounters = {
      index: 12, type: 6, speed: 400_000_000_000n, direction: 1, status: 3, inOctets: 0x1_2345_6789n, inUcast: 1000,
      inMulti: 20, inBroad: 3, inDiscards: 4, inErrors: 5, outOctets: 98_765_432_101_234n, outUcast: 2000, outMulti: 30,
      outBroad: 1, outDiscards: 6, outErrors: 7,
    };
    const port13: IfCounters = {
      index: 13, type: 6, speed: 100_000_000_000n, direction: 2, status: 1, inOctets: 2n ** 40n + 17n, inUcast: 4_000_000_000,
      inMulti: 1, inBroad: 0, inDiscards: 0, inErrors: 99, outOctets: 5n, outUcast: 1, outMulti: 0, outBroad: 0, outDiscards: 3, outErrors: 0,
    };
    await sendUdp(sflowPort!, [
      datagram([sampled(packets[0]!), sampled(packets[1]!)], { agent: '10.0.255.1', subAgent: 3, seq: 1 }),
      datagram([counterSample(12, [ifCounters(port12)]), sampled(packets[2]!)], { agent: '10.0.255.1', subAgent: 3, seq: 2 }),
      datagram([sampled(packets[3]!), counterSample(13, [ifCounters(port13)]), sampled(packets[4]!)], { agent: '10.0.255.2', subAgent: 0, seq: 7 }),
    ]);

    const m = await waitStored(app, httpPort, { flows: 5, interface_counters: 2 });
    expect(total(m, 'eastwatch_collector_packets_total', { protocol: 'sflow', exporter: '127.0.0.1' })).toBe(3);
    expect(total(m, 'eastwatch_records_in_total', { stage: 'collector', source: 'sflow' })).toBe(5);
    expect(total(m, 'eastwatch_collector_lost_total')).toBe(0);
    expect(collectorFailures(m)).toEqual([]);
    await stop(app);
    const stoppedAt = Date.now();

    const flows = await query<StoredFlow & { observation_point: string; tcp_flags: number; in_if: number; out_if: number; vlan: number; received: string; start: string; end: string }>(t,
      `SELECT ${FLOW_COLUMNS}, observation_point, tcp_flags, in_if, out_if, vlan,
         toString(toUnixTimestamp64Milli(time_received)) AS received, toString(toUnixTimestamp64Milli(time_start)) AS start,
         toString(toUnixTimestamp64Milli(time_end)) AS end
       FROM eastwatch.flows ORDER BY src_port`);
    expect(flows.map(({ received, start: s, end, ...rest }) => rest)).toEqual(packets.map((p, i) => ({
      source_kind: 'sflow', exporter: ipv4Mapped(i < 3 ? '10.0.255.1' : '10.0.255.2'), observation_domain: i < 3 ? 3 : 0,
      src: ipv4Mapped(p.src), dst: ipv4Mapped(p.dst), src_port: p.sport, dst_port: p.dport, protocol: 6,
      bytes: String(p.frameLength), packets: '1', sampling_rate: p.rate, observation_point: 'switch', tcp_flags: p.flags,
      in_if: p.input, out_if: p.output, vlan: 0,
    })).sort(byPort));
    for (const f of flows) {
      // A sample is one packet at the moment it arrived.
      expect(Number(f.received)).toBeGreaterThanOrEqual(startedAt);
      expect(Number(f.received)).toBeLessThanOrEqual(stoppedAt);
      expect([f.start, f.end]).toEqual([f.received, f.received]);
    }

    // The per-minute rollup scales each sample by its sampling rate.
    const [rollup] = await query<{ flows: string; bytes: string; packets: string }>(t,
      'SELECT toString(sum(flows)) AS flows, toString(sum(bytes)) AS bytes, toString(sum(packets)) AS packets FROM eastwatch.flows_1m');
    expect(rollup).toEqual({
      flows: '5',
      bytes: String(packets.reduce((n, p) => n + p.frameLength * p.rate, 0)),
      packets: String(packets.reduce((n, p) => n + p.rate, 0)),
    });

    const counters = await query(t, `SELECT toString(exporter_address) AS exporter, source_id, if_index, if_type, toString(if_speed) AS if_speed,
        if_direction, if_admin_up, if_oper_up, toString(in_octets) AS in_octets, toString(in_packets) AS in_packets,
        toString(in_discards) AS in_discards, toString(in_errors) AS in_errors, toString(out_octets) AS out_octets,
        toString(out_packets) AS out_packets, toString(out_discards) AS out_discards, toString(out_errors) AS out_errors,
        toUnixTimestamp64Milli(time_received) BETWEEN ${startedAt} AND ${stoppedAt} AS received_now
      FROM eastwatch.interface_counters ORDER BY if_index`);
    const expectedCounter = (exporter: string, c: IfCounters) => ({
      exporter: ipv4Mapped(exporter), source_id: c.index, if_index: c.index, if_type: c.type, if_speed: String(c.speed),
      if_direction: c.direction, if_admin_up: (c.status & 1) !== 0, if_oper_up: (c.status & 2) !== 0,
      in_octets: String(c.inOctets), in_packets: String(c.inUcast + c.inMulti + c.inBroad), in_discards: String(c.inDiscards),
      in_errors: String(c.inErrors), out_octets: String(c.outOctets), out_packets: String(c.outUcast + c.outMulti + c.outBroad),
      out_discards: String(c.outDiscards), out_errors: String(c.outErrors), received_now: 1,
    });
    expect(counters).toEqual([expectedCounter('10.0.255.1', port12), expectedCounter('10.0.255.2', port13)]);
    expect(BigInt(counters[0]!.in_octets as string)).toBeGreaterThan(2n ** 32n);
  });

  it('counts and dead-letters garbage on every UDP listener while the valid exports around it are stored', async () => {
    t = testEnv({ ...COLLECTOR_ENV, EASTWATCH_COLLECTORS: 'ipfix,netflow9,sflow' });
    const prefix = t.prefix;
    const app = start(t);
    const httpPort = await app.httpPort();
    const [ipfixPort, netflow9Port, sflowPort] = await listenerPorts(app, [
      { protocol: 'ipfix', transport: 'udp' }, { protocol: 'netflow9', transport: 'udp' }, { protocol: 'sflow', transport: 'udp' },
    ]);

    /** Each bad packet and the one reason it must be rejected with. */
    const bad: { origin: string; reason: string; packet: Buffer }[] = [];
    const reject = (protocol: string, reason: string, packet: Buffer) => (bad.push({ origin: `${protocol}/udp/127.0.0.1`, reason, packet }), packet);

    // IPFIX, observation domain 7: flows 1..7, of which 4 (set past the end) and 7 (message longer than the datagram) are in bad messages.
    const a = (n: number) => flowN(1, n);
    const ipfixData = (seq: number, ...flows: FlowSpec[]) => ipfixMessage({ domain: 7, seq }, set(256, ...flows.map(ipfixRecord)));
    const setPastEnd = ipfixData(3, a(4));
    setPastEnd.writeUInt16BE(200, 16 + 2); // the set claims 200 bytes; the message is 16 + 4 + 49
    const longerThanDatagram = ipfixData(3, a(7)).subarray(0, 40); // the header says 69 bytes
    await sendUdp(ipfixPort!, [
      ipfixMessage({ domain: 7, seq: 0 }, set(2, templateRecord(256, IPFIX_FIELDS)), set(256, ipfixRecord(a(1)), ipfixRecord(a(2)))),
      reject('ipfix', 'bad-version', garbage(1, 48, u16(0xbeef))),
      reject('ipfix', 'truncated-header', ipfixData(2, a(3)).subarray(0, 10)),
      ipfixData(2, a(3)),
      reject('ipfix', 'bad-version', v9Packet({ sourceId: 7 }, set(0, templateRecord(256, V9_FIELDS, true)))),
      reject('ipfix', 'set-past-end', setPastEnd),
      reject('ipfix', 'bad-length', longerThanDatagram),
      ipfixData(3, a(5), a(6)),
    ]);

    // NetFlow v9, source id 9: flows 1..5, all in valid packets.
    const n = (i: number) => ({ ...flowN(2, i, 17), start: 1_000_000 + i * 100, end: 1_000_000 + i * 100 + 50 });
    const v9Data = (seq: number, ...flows: FlowSpec[]) => v9Packet({ sourceId: 9, seq }, set(260, ...flows.map(v9Record)));
    const v5Header = Buffer.concat([u16(5), u16(1), u32(3_600_000), u32(1_764_000_000), u32(0), u32(0), u32(0)]);
    await sendUdp(netflow9Port!, [
      v9Packet({ sourceId: 9, seq: 0 }, set(0, templateRecord(260, V9_FIELDS, true)), set(260, v9Record(n(1)), v9Record(n(2)))),
      reject('netflow9', 'bad-version', garbage(2, 40, u16(0xabcd))),
      reject('netflow9', 'truncated-header', v9Data(1, n(3)).subarray(0, 12)),
      v9Data(1, n(3)),
      reject('netflow9', 'bad-version', v5Header),
      reject('netflow9', 'template-zero-fields', v9Packet({ sourceId: 9, seq: 2 }, set(0, Buffer.concat([u16(300), u16(0)])))),
      v9Data(3, n(4), n(5)),
    ]);

    // sFlow, agent 10.0.255.2: samples 1..6; 1, 2, 3 (before the lying sample) and 6 are in datagrams that decode.
    const s = (i: number): SampledTcp => ({ src: `10.3.0.${i}`, dst: `10.3.1.${i}`, sport: 3000 + i, dport: 4791, flags: 0x10, frameLength: 100 * i, rate: 1000 + i, input: i, output: 100 + i });
    const agent = { agent: '10.0.255.2', subAgent: 1 };
    const liar = sampled(s(4));
    liar.writeUInt32BE(liar.length + 100, 4);
    await sendUdp(sflowPort!, [
      datagram([sampled(s(1)), sampled(s(2))], { ...agent, seq: 1 }),
      reject('sflow', 'sflow-bad-version', garbage(3, 60, u32(0xdeadbeef))),
      reject('sflow', 'sflow-truncated', datagram([sampled(s(5))], { ...agent, seq: 2 }).subarray(0, 14)),
      reject('sflow', 'sflow-bad-version', datagram([sampled(s(5))], { ...agent, seq: 2, version: 4 })),
      reject('sflow', 'sflow-bad-length', datagram([sampled(s(3)), liar], { ...agent, seq: 2 })),
      reject('sflow', 'sflow-bad-count', datagram([sampled(s(5))], { ...agent, seq: 3, count: 1025 })),
      datagram([sampled(s(6))], { ...agent, seq: 4 }),
    ]);

    const ipfixFlows = [1, 2, 3, 5, 6].map(a);
    const v9Flows = [1, 2, 3, 4, 5].map(n);
    const sflowFlows = [1, 2, 3, 6].map(s);
    const m = await waitStored(app, httpPort, { flows: ipfixFlows.length + v9Flows.length + sflowFlows.length },
      (last) => total(last, 'eastwatch_dead_letter_total', { stage: 'collector' }) >= bad.length);

    // Every packet reached its listener, and each bad one was counted once under its reason.
    expect(['ipfix', 'netflow9', 'sflow'].map((protocol) => total(m, 'eastwatch_collector_packets_total', { protocol, exporter: '127.0.0.1' }))).toEqual([8, 7, 7]);
    expect(collectorFailures(m)).toEqual([
      '127.0.0.1 bad-length 1', '127.0.0.1 bad-version 4', '127.0.0.1 set-past-end 1',
      '127.0.0.1 sflow-bad-count 1', '127.0.0.1 sflow-bad-length 1', '127.0.0.1 sflow-bad-version 2', '127.0.0.1 sflow-truncated 1',
      '127.0.0.1 template-zero-fields 1', '127.0.0.1 truncated-header 2',
    ]);
    const perReason = new Map<string, number>();
    for (const b of bad) perReason.set(b.reason, (perReason.get(b.reason) ?? 0) + 1);
    for (const [reason, count] of perReason) expect([reason, total(m, 'eastwatch_dead_letter_total', { stage: 'collector', reason })]).toEqual([reason, count]);
    expect(['ipfix', 'netflow9', 'sflow'].map((source) => total(m, 'eastwatch_records_in_total', { stage: 'collector', source }))).toEqual([5, 5, 4]);
    await stop(app);

    // ClickHouse holds exactly the valid packets' flows.
    const stored = await query<StoredFlow>(t, `SELECT ${FLOW_COLUMNS} FROM eastwatch.flows ORDER BY src_port`);
    expect(stored).toEqual([
      ...ipfixFlows.map((f) => expectedFlow('ipfix', 7, f)),
      ...v9Flows.map((f) => expectedFlow('netflow9', 9, f)),
      ...sflowFlows.map((p) => ({
        source_kind: 'sflow', exporter: ipv4Mapped('10.0.255.2'), observation_domain: 1, src: ipv4Mapped(p.src), dst: ipv4Mapped(p.dst),
        src_port: p.sport, dst_port: p.dport, protocol: 6, bytes: String(p.frameLength), packets: '1', sampling_rate: p.rate,
      })),
    ].sort(byPort));
    const times = await query<{ src_port: number; start: string; end: string }>(t,
      `SELECT src_port, toString(toUnixTimestamp64Milli(time_start)) AS start, toString(toUnixTimestamp64Milli(time_end)) AS end
       FROM eastwatch.flows WHERE source_kind IN ('ipfix', 'netflow9') ORDER BY src_port`);
    const v9Base = 1_764_000_000_000 - 3_600_000; // export time - sysUptime of v9Packet's defaults
    expect(times).toEqual([
      ...ipfixFlows.map((f) => ({ src_port: f.sport, start: String(f.start), end: String(f.end) })),
      ...v9Flows.map((f) => ({ src_port: f.sport, start: String(v9Base + f.start), end: String(v9Base + f.end) })),
    ]);

    // The dead-letter topic has every bad packet, byte for byte, with its reason.
    const dead = await deadLetters(kafka, prefix, bad.length);
    expect(dead.every((d) => d.stage === 'collector' && d.source === '127.0.0.1' && d.key === '127.0.0.1')).toBe(true);
    const asSent = bad.map((b) => `${b.origin} ${b.reason} ${b.packet.toString('hex')}`).sort();
    const asDead = dead.map((d) => {
      const reason = /^([\w-]+): \S/.exec(d.reason)?.[1] ?? `no reason in "${d.reason}"`; // "reason: detail"
      return `${d.origin} ${reason} ${d.value.toString('hex')}`;
    }).sort();
    expect(asDead).toEqual(asSent);
  });

  it('decodes an IPFIX/TCP stream cut anywhere, closes a stream out of step, and keeps serving', async () => {
    t = testEnv({ ...COLLECTOR_ENV, EASTWATCH_COLLECTORS: 'ipfix-tcp' });
    const app = start(t);
    const httpPort = await app.httpPort();
    const [tcpPort] = await listenerPorts(app, [{ protocol: 'ipfix', transport: 'tcp' }]);

    const connect = async () => {
      const sock = net.connect({ host: '127.0.0.1', port: tcpPort! });
      sock.setNoDelay(true);
      const state = { closed: false, error: undefined as Error | undefined };
      sock.on('close', () => (state.closed = true));
      sock.on('error', (e) => (state.error = e));
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      });
      const write = async (b: Buffer) => {
        await new Promise<void>((resolve, reject) => sock.write(b, (e) => (e ? reject(e) : resolve())));
        await new Promise((r) => setTimeout(r, 3)); // lets the segment go out alone
      };
      const end = () => new Promise<void>((resolve) => sock.end(resolve));
      return { sock, state, write, end };
    };
    const template = (domain: number) => ipfixMessage({ domain, seq: 0 }, set(2, templateRecord(256, IPFIX_FIELDS)));
    const sequence = new Map<number, number>(); // IPFIX counts data records per domain
    const data = (domain: number, ...flows: FlowSpec[]) => {
      const seq = sequence.get(domain) ?? 0;
      sequence.set(domain, seq + flows.length);
      return ipfixMessage({ domain, seq }, set(256, ...flows.map(ipfixRecord)));
    };

    // Connection A, domain 21: six messages, cut at awkward boundaries.
    const a = (i: number) => flowN(4, i);
    const A = await connect();
    const [m0, m1, m2, m3, m4, m5] = [template(21), data(21, a(1)), data(21, a(2), a(3)), data(21, a(4)), data(21, a(5)), data(21, a(6), a(7))];
    await A.write(Buffer.concat([m0!, m1!.subarray(0, 10)])); // a message cut across two writes
    await A.write(m1!.subarray(10));
    await A.write(Buffer.concat([m2!, m3!])); // two messages in one write
    for (let i = 0; i < m4!.length; i++) await A.write(m4!.subarray(i, i + 1)); // one byte at a time
    await A.write(m5!.subarray(0, 3)); // not even the length field yet
    await A.write(m5!.subarray(3));
    await waitStored(app, httpPort, { flows: 7 });

    // Connection B, domain 22: a template and a data message, then a version 7 header: the server hangs up.
    const b = (i: number) => flowN(5, i);
    const B = await connect();
    const outOfStep = Buffer.concat([u16(7), u16(20), u32(1_764_000_000), u32(0), u32(22), u32(0xffffffff)]);
    await B.write(Buffer.concat([template(22), data(22, b(1)), outOfStep]));
    await waitFor(() => (B.state.closed ? true : undefined), 30_000, () => `the server kept the out-of-step session open:\n${app.output().slice(-2000)}`);
    expect(app.output()).toMatch(/IPFIX\/TCP stream out of step; closing the session/);

    // A is still served, with its templates; a new connection is too.
    expect(A.state.closed).toBe(false);
    await A.write(data(21, a(8)));
    const c = (i: number) => flowN(6, i);
    const C = await connect();
    await C.write(Buffer.concat([template(23), data(23, c(1), c(2))]));
    const m = await waitStored(app, httpPort, { flows: 7 + 1 + 1 + 2 });
    expect(A.state.closed).toBe(false);
    await A.end();
    await C.end();

    // 6 + 1 messages on A, 2 + the bad one on B, 2 on C; the bad one counted once, as a bad version.
    expect(total(m, 'eastwatch_collector_packets_total', { protocol: 'ipfix', exporter: '127.0.0.1' })).toBe(12);
    expect(collectorFailures(m)).toEqual(['127.0.0.1 bad-version 1']);
    expect(total(m, 'eastwatch_clickhouse_inserted_rows_total', { table: 'flows' })).toBe(11);
    await stop(app);

    const stored = await query<StoredFlow>(t, `SELECT ${FLOW_COLUMNS} FROM eastwatch.flows ORDER BY src_port`);
    expect(stored).toEqual([
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => expectedFlow('ipfix', 21, a(i))),
      expectedFlow('ipfix', 22, b(1)),
      ...[1, 2].map((i) => expectedFlow('ipfix', 23, c(i))),
    ]);
    const times = await query<{ start: string; end: string }>(t,
      'SELECT toString(toUnixTimestamp64Milli(time_start)) AS start, toString(toUnixTimestamp64Milli(time_end)) AS end FROM eastwatch.flows ORDER BY src_port');
    expect(times).toEqual([...[1, 2, 3, 4, 5, 6, 7, 8].map(a), b(1), c(1), c(2)].map((f) => ({ start: String(f.start), end: String(f.end) })));
  });

  it('keeps spoofed sources out: the exporter allow-list, a bounded exporter table, bounded metric series', async () => {
    t = testEnv({ ...COLLECTOR_ENV, EASTWATCH_COLLECTORS: 'ipfix,ipfix-tcp', EASTWATCH_EXPORTER_CIDRS: '127.0.0.0/16', EASTWATCH_MAX_EXPORTERS: '4' });
    const app = start(t);
    const httpPort = await app.httpPort();
    const [udpPort, tcpPort] = await listenerPorts(app, [{ protocol: 'ipfix', transport: 'udp' }, { protocol: 'ipfix', transport: 'tcp' }]);
    const template = (domain: number) => ipfixMessage({ domain, seq: 0 }, set(2, templateRecord(256, IPFIX_FIELDS)));
    const data = (domain: number, seq: number, ...flows: FlowSpec[]) => ipfixMessage({ domain, seq }, set(256, ...flows.map(ipfixRecord)));
    const header = ipfixMessage({ domain: 1, seq: 0 });
    const connectFrom = (localAddress: string) => connect(localAddress, tcpPort!);
    const junk = async (addresses: string[]) => {
      for (const a of addresses) await sendUdp(udpPort!, [header, garbage(a.length, 48, u16(0xbeef))], a);
    };
    const range = (prefix: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

    // Outside 127.0.0.0/16: a template and data from each of 20 addresses, and 5 TCP connections, none decoded.
    const outsiders = range('127.1.0.', 1, 20);
    for (const a of outsiders) await sendUdp(udpPort!, [template(30), data(30, 0, flowN(9, 1))], a);
    for (const a of outsiders.slice(0, 5)) {
      const c = await connectFrom(a);
      await c.write(Buffer.concat([template(31), data(31, 0, flowN(9, 2))]));
      await waitFor(() => (c.state.closed ? true : undefined), 30_000, () => `the collector kept a connection from ${a} open`);
    }

    // Junk from 100 allowed addresses (a bare header buys a place in the table, garbage does not), then two real
    // exporters, one over UDP and one over TCP, then 100 more junk addresses.
    await junk(range('127.0.1.', 1, 100));
    const a = (i: number) => flowN(7, i);
    const b = (i: number) => flowN(8, i);
    await sendUdp(udpPort!, [template(32), data(32, 0, a(1), a(2))], '127.0.0.2');
    const tcp = await connectFrom('127.0.0.3');
    await tcp.write(Buffer.concat([template(33), data(33, 0, b(1), b(2))]));
    await waitStored(app, httpPort, { flows: 4 });
    await junk(range('127.0.2.', 1, 100));
    await sendUdp(udpPort!, [data(32, 2, a(3))], '127.0.0.2');
    await tcp.write(data(33, 2, b(3)));
    const m = await waitStored(app, httpPort, { flows: 6 });
    expect(tcp.state.closed).toBe(false);
    tcp.sock.end();

    // Outsiders were counted once a datagram or connection, under "other", and have no series.
    expect(total(m, 'eastwatch_records_failed_total', { stage: 'collector', source: 'other', reason: 'exporter-not-allowed' })).toBe(20 * 2 + 5);
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    for (const o of outsiders) expect(text).not.toContain(`"${o}"`);
    // At most EASTWATCH_MAX_EXPORTERS addresses have their own series; the real exporters are among them.
    const collectorSeries = m.filter((s) => ['eastwatch_collector_packets_total', 'eastwatch_collector_lost_total'].includes(s.name)
      || (s.name === 'eastwatch_records_failed_total' && s.labels.stage === 'collector'));
    const named = new Set(collectorSeries.map((s) => s.labels.exporter ?? s.labels.source).filter((x) => x !== 'other'));
    expect(named.size).toBeLessThanOrEqual(4);
    expect([...named]).toEqual(expect.arrayContaining(['127.0.0.2', '127.0.0.3']));
    expect(total(m, 'eastwatch_collector_packets_total', { protocol: 'ipfix', exporter: '127.0.0.2' })).toBe(3);
    expect(total(m, 'eastwatch_collector_packets_total', { protocol: 'ipfix', exporter: '127.0.0.3' })).toBe(3);
    expect(collectorSeries.length).toBeLessThan(20);
    // eslint-disable-next-line no-console
    console.log(`after 20 outsiders, 5 outside connections and 400 junk datagrams from 200 addresses: ${collectorSeries.length} collector series, /metrics ${text.length} bytes`);
    await stop(app);

    const stored = await query<StoredFlow>(t, `SELECT ${FLOW_COLUMNS} FROM eastwatch.flows ORDER BY src_port`);
    expect(stored).toEqual([
      ...[1, 2, 3].map((i) => ({ ...expectedFlow('ipfix', 32, a(i)), exporter: ipv4Mapped('127.0.0.2') })),
      ...[1, 2, 3].map((i) => ({ ...expectedFlow('ipfix', 33, b(i)), exporter: ipv4Mapped('127.0.0.3') })),
    ]);
  });
});
