/**
 * Spoofed export packets (issue 10): any source address can be forged over UDP, so junk from many addresses must
 * neither lock real exporters out of the exporter table nor fill Prometheus with one series per address. Driven
 * through the Collector and the decoder with distinct exporter address strings and injected time; the listeners'
 * side, on real sockets, is in collector-listeners.test.ts.
 */
import { loadConfig } from '../../app/config';
import type { Flow } from '../../core/flow';
import type { Logger } from '../../core/log';
import { recordsFailed, registry } from '../../core/metrics';
import { Collector, CollectorOptions } from '../../ingest/collector';
import { decodeIpfix } from '../../ingest/ipfix/decoder';
import { DEFAULT_LIMITS, ExporterStates, Limits } from '../../ingest/ipfix/state';
import { type FieldSpec, IE, ipfixMessage, ipv4, set, templateRecord, u16, u64 } from '../ipfix-builder';
import { datagram, flowSample, rawHeader, tcpFrame } from '../sflow-builder';

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const NOW = 1_764_000_000_000;
const FIELDS: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.octetDeltaCount, 8]];
const template = () => ipfixMessage({}, set(2, templateRecord(256, FIELDS)));
const record = (bytes: number) => Buffer.concat([ipv4('10.1.0.1'), ipv4('10.1.0.2'), u64(bytes)]);
const data = (bytes: number) => ipfixMessage({}, set(256, record(bytes)));
/** A bare 16-byte IPFIX header: valid, carries nothing, and used to buy a place in the exporter table. */
const HEADER = ipfixMessage({});
const GARBAGE = Buffer.concat([u16(0xbeef), Buffer.alloc(46)]);
const sflow = (seq: number, agent = '10.0.255.1') => datagram([flowSample({ rate: 1, records: [rawHeader(tcpFrame(), { frameLength: 100 })] })], { agent, seq });
/** The i-th forged source address (100.64.0.0/10 holds 4M). */
const spoofed = (i: number) => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function setup(limits: Partial<Limits> = {}, opts: Partial<CollectorOptions> = {}) {
  const flows: Flow[] = [];
  const states = new ExporterStates({ ...DEFAULT_LIMITS, ...limits });
  const collector = new Collector({ states, enterpriseNames: new Map(), log: silent, sinks: { flow: (f) => void flows.push(f), counter() {} }, ...opts });
  const udp = (packet: Buffer, exporter: string, now: number, protocol: 'ipfix' | 'sflow' = 'ipfix') => collector.handle(protocol, packet, exporter, 'udp', exporter, now);
  return { states, collector, flows, udp };
}

const reasons = (out: { errors: { reason: string }[] }) => out.errors.map((e) => e.reason);

/** Series of the collector's per-exporter metrics, and the size of the whole /metrics text. */
async function exposition() {
  const metrics = await registry.getMetricsAsJSON();
  const count = (name: string) => metrics.find((m) => m.name === name)?.values.length ?? 0;
  const text = await registry.metrics();
  const series = count('eastwatch_collector_packets_total') + count('eastwatch_collector_lost_total') + count('eastwatch_records_failed_total');
  return { series, bytes: Buffer.byteLength(text), text };
}

const failed = async (source: string, reason: string) =>
  (await recordsFailed.get()).values.find((v) => v.labels.stage === 'collector' && v.labels.source === source && v.labels.reason === reason)?.value ?? 0;

beforeEach(() => registry.resetMetrics());

describe('the exporter table under spoofed packets', () => {
  it('does not lock out an exporter that starts after 10,000 junk datagrams from distinct addresses (UDP and TCP sessions)', () => {
    const { states, udp, collector } = setup();
    for (let i = 0; i < DEFAULT_LIMITS.maxExporters; i++) udp(HEADER, spoofed(i), NOW + i);
    expect(states.size.exporters).toBe(DEFAULT_LIMITS.maxExporters);

    const later = NOW + 20_000;
    expect(reasons(udp(template(), '192.0.2.10', later))).toEqual([]);
    const out = udp(data(1500), '192.0.2.10', later + 1);
    expect(reasons(out)).toEqual([]);
    expect(out.flows.map((f) => [f.exporter_address, f.bytes])).toEqual([['192.0.2.10', 1500]]);

    // IPFIX/TCP sessions share the table: a flood of junk sessions does not lock a real one out either.
    for (let i = 0; i < DEFAULT_LIMITS.maxExporters; i++) collector.handle('ipfix', HEADER, '192.0.2.66', 'tcp', `[192.0.2.66]:${i}`, later + 2);
    collector.handle('ipfix', template(), '192.0.2.11', 'tcp', '[192.0.2.11]:4000', later + 3);
    expect(collector.handle('ipfix', data(9), '192.0.2.11', 'tcp', '[192.0.2.11]:4000', later + 4).flows).toHaveLength(1);
    expect(states.size.exporters).toBe(DEFAULT_LIMITS.maxExporters);
  });

  it('evicts exporters that never sent a valid template first, then the least recently seen', () => {
    const states = new ExporterStates({ ...DEFAULT_LIMITS, maxExporters: 4 });
    const ctx = (exporter: string, now: number) => ({ exporter, now, states, transport: 'udp' as const });
    const send = (p: Buffer, exporter: string, now: number) => decodeIpfix(p, ctx(exporter, now));
    const [A, B, C, D, E] = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'];
    const [J1, J2, J3, J4] = [spoofed(1), spoofed(2), spoofed(3), spoofed(4)];
    let t = NOW;
    const tick = () => (t += 1000);
    send(template(), A, tick());
    send(template(), B, tick());
    send(HEADER, J1, tick());
    send(HEADER, J2, tick());
    expect(states.size.exporters).toBe(4);

    // A newcomer takes the place of the junk seen least recently; junk only ever displaces junk.
    expect(reasons(send(template(), C, tick()))).toEqual([]);
    expect([states.has(J1), states.has(J2)]).toEqual([false, true]);
    expect(reasons(send(HEADER, J3, tick()))).toEqual([]);
    expect([states.has(J2), states.has(J3)]).toEqual([false, true]);
    expect(reasons(send(template(), D, tick()))).toEqual([]);
    expect(states.has(J3)).toBe(false);

    // Every place is held by an exporter that sent a template: junk is refused and displaces nobody.
    expect(reasons(send(HEADER, J4, tick()))).toEqual(['exporter-limit']);
    expect(reasons(send(data(1), J4, tick()))).toEqual(['exporter-limit']);
    expect(states.has(J4)).toBe(false);
    for (const x of [B, C, D, A]) expect(send(data(1), x, tick()).flows).toHaveLength(1); // their templates were kept

    // A newcomer with a valid template takes the place of the exporter seen least recently (B).
    const out = send(ipfixMessage({}, set(2, templateRecord(256, FIELDS)), set(256, record(2))), E, tick());
    expect(reasons(out)).toEqual([]);
    expect(out.flows).toHaveLength(1);
    expect([A, B, C, D, E].map((x) => states.has(x))).toEqual([true, false, true, true, true]);
    expect(states.size.exporters).toBe(4);
  });

  it('forgets an exporter idle for exporterIdleMs, and with it its templates', () => {
    const { states, udp } = setup({ exporterIdleMs: 60_000 });
    udp(template(), '192.0.2.1', NOW);
    udp(HEADER, spoofed(1), NOW);
    expect(udp(data(1), '192.0.2.1', NOW + 59_000).flows).toHaveLength(1);
    expect(states.size.exporters).toBe(2);

    // The junk has been quiet for 61 s, the exporter for 2 s.
    udp(HEADER, spoofed(2), NOW + 61_000);
    expect([states.has(spoofed(1)), states.has('192.0.2.1'), states.has(spoofed(2))]).toEqual([false, true, true]);

    // Quiet for longer than 60 s, the exporter starts over: its data waits for a template.
    const out = udp(data(1), '192.0.2.1', NOW + 59_000 + 60_001);
    expect(out.flows).toEqual([]);
    expect(states.size.templates).toBe(0);
  });

  it('tracks sFlow sequence gaps of an agent that starts after 10,000 others, and forgets idle agents', () => {
    const { udp } = setup({ exporterIdleMs: 60_000 });
    for (let i = 0; i < DEFAULT_LIMITS.maxExporters; i++) udp(sflow(1, spoofed(i)), spoofed(i), NOW, 'sflow');
    expect(udp(sflow(1), '192.0.2.20', NOW + 1000, 'sflow').lost).toBe(0);
    expect(udp(sflow(5), '192.0.2.20', NOW + 2000, 'sflow').lost).toBe(3);
    // Back after a long silence: nothing to compare with, so no loss is claimed.
    expect(udp(sflow(100), '192.0.2.20', NOW + 2000 + 60_001, 'sflow').lost).toBe(0);
    expect(udp(sflow(102), '192.0.2.20', NOW + 2000 + 60_002, 'sflow').lost).toBe(1);
  });
});

describe('EASTWATCH_EXPORTER_CIDRS', () => {
  it('drops and counts packets from outside the allow-list before any state is created', async () => {
    const { states, udp, flows, collector } = setup({}, { exporterCidrs: ['192.0.2.0/24', '2001:db8::/32'] });
    const outsiders = ['198.51.100.7', '192.0.3.1', '2001:db9::1', '::ffff:198.51.100.8'];
    for (const x of outsiders) {
      for (const p of [template(), data(1), HEADER, GARBAGE]) expect(udp(p, x, NOW)).toEqual({ flows: [], counters: [], errors: [], lost: 0 });
      expect(udp(sflow(1, x), x, NOW, 'sflow')).toEqual({ flows: [], counters: [], errors: [], lost: 0 });
      expect(collector.handle('ipfix', template(), x, 'tcp', `[${x}]:4000`, NOW).flows).toEqual([]);
    }
    expect(states.size.exporters).toBe(0);
    expect(flows).toEqual([]);
    expect(await failed('other', 'exporter-not-allowed')).toBe(outsiders.length * 6);
    expect(collector.admits('198.51.100.7')).toBe(false);

    for (const x of ['192.0.2.9', '2001:db8::9']) {
      udp(template(), x, NOW);
      expect(udp(data(7), x, NOW).flows).toHaveLength(1);
    }
    expect(states.size.exporters).toBe(2);
    const { text } = await exposition();
    for (const x of outsiders) expect(text).not.toContain(x);
    expect(text).toContain('eastwatch_collector_packets_total{protocol="ipfix",exporter="192.0.2.9"} 2');
  });

  it('is validated at config load, naming the bad CIDR', () => {
    expect(loadConfig({ EASTWATCH_EXPORTER_CIDRS: '10.0.0.0/8, fd00::/8,192.0.2.7' }).collectors.exporterCidrs).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.7']);
    expect(loadConfig({}).collectors.exporterCidrs).toEqual([]);
    expect(() => loadConfig({ EASTWATCH_EXPORTER_CIDRS: '10.0.0.0/8,10.1.2.3/16' })).toThrow(/collectors\.exporterCidrs\.1 \(env EASTWATCH_EXPORTER_CIDRS\): invalid CIDR "10\.1\.2\.3\/16"/);
    expect(() => loadConfig({ EASTWATCH_EXPORTER_CIDRS: '10.0.0.0/33' })).toThrow(/collectors\.exporterCidrs\.0 .*invalid CIDR "10\.0\.0\.0\/33"/);
    expect(() => loadConfig({ EASTWATCH_EXPORTER_CIDRS: 'dpu-rack-1' })).toThrow(/invalid CIDR "dpu-rack-1"/);
  });
});

describe('metric series under spoofed packets', () => {
  it('keeps 50,000 junk datagrams from distinct addresses under one "other" label; real exporters keep their own', async () => {
    const { udp } = setup();
    const REAL = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
    let t = NOW;
    for (const x of REAL) {
      udp(template(), x, t++);
      udp(data(1), x, t++);
      udp(GARBAGE, x, t++);
    }
    udp(sflow(1), '192.0.2.4', t++, 'sflow');
    const before = await exposition();

    const started = process.hrtime.bigint();
    const kinds = [HEADER, GARBAGE, data(1), Buffer.from(sflow(1)).fill(0xff, 0, 4)];
    const N = 50_000;
    for (let i = 0; i < N; i++) {
      const kind = kinds[i % kinds.length]!;
      udp(kind, spoofed(i), t + i, kind === kinds[3] ? 'sflow' : 'ipfix');
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const after = await exposition();
    // eslint-disable-next-line no-console
    console.log(`${N} junk datagrams from distinct addresses in ${ms.toFixed(0)} ms: series ${before.series} -> ${after.series}, /metrics ${before.bytes} -> ${after.bytes} bytes`);

    expect(after.series - before.series).toBeLessThanOrEqual(8); // packets per protocol and failures per reason, under "other"
    expect(after.bytes - before.bytes).toBeLessThan(2000);
    expect(after.text).not.toContain(spoofed(0));
    expect(after.text).toContain(`eastwatch_collector_packets_total{protocol="ipfix",exporter="other"} ${N * 3 / 4}`);
    for (const x of REAL) {
      expect(after.text).toContain(`eastwatch_collector_packets_total{protocol="ipfix",exporter="${x}"} 3`);
      expect(after.text).toContain(`eastwatch_records_failed_total{stage="collector",source="${x}",reason="bad-version"} 1`);
    }
    expect(after.text).toContain('eastwatch_collector_packets_total{protocol="sflow",exporter="192.0.2.4"} 1');
  });

  it('gives allowed exporters their own series, bounded by the exporter limit, and removes the series of an evicted exporter', async () => {
    const { udp } = setup({ maxExporters: 2, exporterIdleMs: 60_000 }, { exporterCidrs: ['192.0.2.0/24'] });
    const [A, B, C] = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
    udp(GARBAGE, A, NOW); // allowed: named, though it never sent a template
    expect((await exposition()).text).toContain(`source="${A}",reason="bad-version"`);
    udp(template(), B, NOW + 1000);
    udp(GARBAGE, B, NOW + 1000);
    udp(template(), C, NOW + 2000);
    udp(GARBAGE, C, NOW + 2000);
    // C took A's place (A never sent a template): A's series are gone, B's and C's stay.
    let { text } = await exposition();
    expect(text).not.toContain(`"${A}"`);
    for (const x of [B, C]) expect(text).toContain(`eastwatch_records_failed_total{stage="collector",source="${x}",reason="bad-version"} 1`);

    // A comes back with a template: B, seen least recently, makes way, series and all.
    udp(template(), A, NOW + 3000);
    ({ text } = await exposition());
    expect(text).not.toContain(`"${B}"`);
    expect(text).toContain(`eastwatch_collector_packets_total{protocol="ipfix",exporter="${A}"} 1`);

    // Idle for longer than exporterIdleMs: forgotten, series too.
    udp(HEADER, A, NOW + 3000 + 59_000);
    udp(HEADER, A, NOW + 2000 + 60_001 + 1000);
    ({ text } = await exposition());
    expect(text).not.toContain(`"${C}"`);
    expect(text).toContain(`exporter="${A}"`);
  });
});
