/**
 * The simulator's emitters and clock (issue 11): what they send over real loopback sockets and into real files
 * comes back through eastwatch's own decoders and parsers as the flows it was made from, the same events give
 * the same bytes at any pace, and the clock keeps its pace, its backfill order and its stop.
 */
import * as dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type Flow, FlowSchema } from '../../core/flow';
import { normalizeHubble } from '../../ingest/hubble/normalize';
import { decodeIpfix } from '../../ingest/ipfix/decoder';
import { ExporterStates } from '../../ingest/ipfix/state';
import { parseSquidLine } from '../../ingest/proxy/squid';
import { decodeSflow } from '../../ingest/sflow/decoder';
import { mulberry32 } from '../../simulator/model/random';
import { ExporterAddresses, type FlowEmitter, loopbackAddress, newStats } from '../../simulator/emit/emitter';
import { Emitters, openEmitters } from '../../simulator/emit/emitters';
import { toFlow } from '../../simulator/emit/flows';
import { IpfixEmitter } from '../../simulator/emit/ipfix';
import { switchPort } from '../../simulator/emit/sflow';
import { hubbleLine } from '../../simulator/emit/hubble';
import { squidLine } from '../../simulator/emit/squid';
import type { PodEndpoint, SimEvent, SimFlow } from '../../simulator/events';
import { runSimulation, type RunOptions } from '../../simulator/run';
import { POLICY_DENIED } from '../hubble-fixtures';
import { until } from '../until';
import { ClusterModel } from '../../simulator/model/model';
import { DEFAULT_SCENARIO, loadScenario, scenarioInventory } from '../../simulator/scenario';

const START = Date.UTC(2025, 10, 24, 16);
const NODES = ['gpu001', 'gpu002', 'gpu003', 'fe-leaf01', 'fe-leaf02'];
const PROXY = '10.10.0.10';
const SAMPLING = 1024;

const trainer = (i: number, node: string): PodEndpoint => ({
  namespace: 'ai-training', pod: `trainer-88214-worker-${i}`, node,
  labels: { app: 'trainer', 'training.kubeflow.org/job-name': 'trainer-88214' }, workload: { name: 'trainer-88214', kind: 'PyTorchJob' },
});

/** A seeded mix of every path over `seconds` of simulated time from START, in time order. */
function scenario(seed: number, seconds = 20): SimEvent[] {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const events: SimEvent[] = [{ kind: 'allocation', time: START, event: { job_id: '88214', nodes: 'gpu[001-003]', start: START, pattern: 'all-to-all' } }];
  const flow = (time: number, f: Omit<SimFlow, 'start' | 'end'>, length = 1 + int(30_000)) =>
    events.push({ kind: 'flow', time, flow: { ...f, start: time - length, end: time } });
  for (let i = 0; i < 240; i++) {
    const time = START + Math.floor((i * seconds * 1000) / 240) + int(50);
    const a = int(3);
    const b = (a + 1 + int(2)) % 3;
    const packets = 1 + int(100_000);
    flow(time, {
      src: `10.200.0.${a + 1}`, dst: `10.200.0.${b + 1}`, srcPort: 49152 + int(16384), dstPort: 4791, protocol: 17,
      packets, bytes: packets * (64 + int(4000)), tcpFlags: 0, via: 'dpu', exporter: NODES[a],
    });
    if (i % 40 === 0) {
      // an IPv6 flow and a TCP flow with flags, from the same DPU
      flow(time, { src: 'fd00:10:244:3::17', dst: 'fd00:10:244:7::41', srcPort: 40112, dstPort: 29500, protocol: 6, packets: 12, bytes: 4321, tcpFlags: 0x1b, via: 'dpu', exporter: NODES[a] });
    }
    if (i % 6 === 0) {
      flow(time, {
        src: `10.244.3.${10 + a}`, dst: `10.244.7.${10 + b}`, srcPort: 50000 + i, dstPort: i % 12 === 0 ? 5432 : 29500, protocol: 6, packets: 3, bytes: 180,
        tcpFlags: 0x02, via: 'hubble',
        hubble: i % 12 === 0
          ? { src: trainer(a, NODES[a]!), dst: { namespace: 'prod', pod: 'orders-db-0', node: 'db-002', labels: { app: 'orders-db' } }, verdict: 'DROPPED', dropReason: 'POLICY_DENIED', node: NODES[a]! }
          : { src: trainer(a, NODES[a]!), dst: trainer(b, NODES[b]!), verdict: 'FORWARDED', node: NODES[b]! },
      });
      const method = (['CONNECT', 'GET', 'PUT'] as const)[int(3)]!;
      flow(time, {
        src: `10.30.1.${a + 1}`, dst: PROXY, srcPort: 0, dstPort: 3128, protocol: 6, packets: 10, bytes: 1000 + int(1_000_000), tcpFlags: 0, via: 'proxy',
        proxy: { host: i % 18 === 0 ? 'exfil.example' : 'huggingface.co', method, status: i % 18 === 0 ? 403 : 200 },
      }, 1 + int(2000));
    }
  }
  // Big flows through the leaves: enough samples each to check the scale-up.
  for (let i = 0; i < 4; i++) {
    const packets = 200_000 + int(1000);
    flow(START + 1000 + i * 3000, {
      src: `10.30.1.${i + 1}`, dst: `10.40.0.${11 + i}`, srcPort: 800 + i, dstPort: 2049, protocol: 6, packets, bytes: packets * 1500,
      tcpFlags: 0x18, via: 'switch', exporter: NODES[3 + (i % 2)],
    });
  }
  return events.sort((x, y) => x.time - y.time);
}

const slicer = (events: SimEvent[]) => (from: number, to: number) => events.filter((e) => e.time >= from && e.time < to);

interface Datagram {
  from: string;
  data: Buffer;
}

async function udpSink(): Promise<{ socket: dgram.Socket; port: number; got: Datagram[] }> {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const got: Datagram[] = [];
  socket.on('message', (data, rinfo) => got.push({ from: rinfo.address, data }));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, got };
}

interface Output {
  ipfix: Datagram[];
  sflow: Datagram[];
  hubble: string;
  squid: string;
  result: Awaited<ReturnType<typeof runSimulation>>;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs `events` through the real emitters into sockets and files, as eastwatch would receive them. */
async function emit(events: SimEvent[], pace: Partial<RunOptions> = { speed: Infinity }, duration = 120_000, nodes: Iterable<string> = NODES, start = START): Promise<Output> {
  const dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-sim-'));
  dirs.push(dir);
  const ipfix = await udpSink();
  const sflow = await udpSink();
  const files = { hubbleFile: path.join(dir, 'hubble.json'), squidFile: path.join(dir, 'access.log') };
  const emitters = await openEmitters({
    nodes, collector: { host: '127.0.0.1', ipfixPort: ipfix.port, sflowPort: sflow.port }, ...files,
    sflow: { samplingRate: SAMPLING, seed: 7 },
  });
  try {
    const result = await runSimulation({ events: slicer(events), start, duration, emitters, ...pace });
    await emitters.close();
    await until(() => ipfix.got.length === result.byEmitter.ipfix!.messages && sflow.got.length === result.byEmitter.sflow!.messages);
    return { ipfix: ipfix.got, sflow: sflow.got, hubble: readFileSync(files.hubbleFile, 'utf8'), squid: readFileSync(files.squidFile, 'utf8'), result };
  } finally {
    ipfix.socket.close();
    sflow.socket.close();
  }
}

const flowsOf = (events: SimEvent[], via: SimFlow['via']) => events.flatMap((e) => (e.kind === 'flow' && e.flow.via === via ? [e.flow] : []));
const lines = (text: string) => text.split('\n').filter(Boolean);
const hex = (ds: Datagram[]) => ds.map((d) => `${d.from} ${d.data.toString('hex')}`);
const addresses = new ExporterAddresses(NODES);

describe('simulator emitters', () => {
  const events = scenario(1);
  let out: Output;
  beforeAll(async () => {
    out = await emit(events);
  });

  it('counts what it emitted, per path and per emitter; allocations without Kafka are counted as unrouted', () => {
    const r = out.result;
    expect(r.byVia).toEqual({ dpu: 246, switch: 4, hubble: 40, proxy: 40 });
    expect(r.flows).toBe(330);
    expect(r.allocations).toBe(1);
    expect(r.unrouted).toEqual({ allocation: 1 });
    expect(r.stopped).toBe(false);
    expect(r.end).toBe(START + 120_000);
    expect(r.byEmitter.ipfix!.records).toBe(246);
    expect(r.byEmitter.hubble).toEqual({ records: 40, messages: 40, bytes: Buffer.byteLength(out.hubble) });
    expect(r.byEmitter.squid).toEqual({ records: 40, messages: 40, bytes: Buffer.byteLength(out.squid) });
  });

  it('gives byte-identical datagrams and lines for the same events, at any pace, and different ones for other events', async () => {
    const again = await emit(events, { rate: 5000 });
    expect(hex(again.ipfix)).toEqual(hex(out.ipfix));
    expect(hex(again.sflow)).toEqual(hex(out.sflow));
    expect(again.hubble).toBe(out.hubble);
    expect(again.squid).toBe(out.squid);

    const other = await emit(scenario(2));
    expect(hex(other.ipfix)).not.toEqual(hex(out.ipfix));
    expect(hex(other.sflow)).not.toEqual(hex(out.sflow));
    expect(other.hubble).not.toBe(out.hubble);
    expect(other.squid).not.toBe(out.squid);
  });

  it('plays a scenario byte-identically from the same seed (datagrams, lines, truth), and differently from another', async () => {
    const play = async (seed: number) => {
      const scenario = loadScenario(DEFAULT_SCENARIO);
      scenario.seed = seed;
      const inventory = scenarioInventory(scenario);
      const model = new ClusterModel(scenario, inventory, { start: START });
      const span = 2 * 60_000;
      const out = await emit([...model.events(START, START + span)], { rate: 20_000 }, span, inventory.nodes.keys());
      return { ...out, truth: JSON.stringify(model.truth(START, START + span)) };
    };
    const [a, b, c] = [await play(42), await play(42), await play(43)];
    expect(a.result.flows).toBeGreaterThan(1000);
    for (const k of ['ipfix', 'sflow'] as const) {
      expect(hex(b[k])).toEqual(hex(a[k]));
      expect(hex(c[k])).not.toEqual(hex(a[k]));
    }
    for (const k of ['hubble', 'squid', 'truth'] as const) {
      expect(b[k]).toBe(a[k]);
      expect(c[k]).not.toBe(a[k]);
    }
    expect(JSON.parse(a.truth).length).toBeGreaterThan(0);
  });

  it('sends IPFIX from one loopback address per DPU, templates first, that decodes back to the flows', () => {
    const states = new ExporterStates();
    const decoded: Flow[] = [];
    const firstOf = new Map<string, number>();
    for (const d of out.ipfix) {
      const r = decodeIpfix(d.data, { exporter: d.from, now: Date.now(), states, transport: 'udp' });
      expect(r.errors).toEqual([]);
      expect(r.lost).toBe(0);
      if (!firstOf.has(d.from)) firstOf.set(d.from, r.flows.length);
      expect(d.data.length).toBeLessThanOrEqual(1400);
      // export time is simulated time: at or after the message's flows ended, within the simulated run
      const exportMs = d.data.readUInt32BE(4) * 1000;
      expect(exportMs).toBeGreaterThanOrEqual(START - 1000);
      for (const f of r.flows) expect(exportMs).toBeGreaterThanOrEqual(f.time_end - 999);
      decoded.push(...r.flows);
    }
    // each DPU's first datagram is its templates alone
    expect([...firstOf].sort()).toEqual([['127.1.0.1', 0], ['127.1.0.2', 0], ['127.1.0.3', 0]]);
    const strip = ({ time_received: _, ...f }: Flow) => f;
    const expected = flowsOf(events, 'dpu').map((f) => strip(toFlow(f, addresses)));
    const key = (f: object) => JSON.stringify(Object.entries(f).sort());
    expect(decoded.map(strip).map(key).sort()).toEqual(expected.map(key).sort());
  });

  it('batches IPFIX records per exporter: a message when the next would not fit 1400 bytes, or flushMs after its first', async () => {
    const sink = await udpSink();
    const ipfix = new IpfixEmitter({ target: { host: '127.0.0.1', port: sink.port }, addresses });
    const [f] = flowsOf(events, 'dpu');
    for (let i = 0; i < 100; i++) ipfix.flow({ ...f!, exporter: 'gpu002', srcPort: 1000 + i }, START);
    ipfix.flow({ ...f!, exporter: 'gpu002', srcPort: 2000 }, START + 500);
    ipfix.advance(START + 999);
    expect(ipfix.stats.messages).toBe(4); // the template, then three full messages
    ipfix.advance(START + 1000);
    // a minute later the templates are due again, ahead of the data
    ipfix.flow({ ...f!, exporter: 'gpu002', srcPort: 3000 }, START + 61_000);
    await ipfix.close();
    await until(() => sink.got.length === 7);
    sink.socket.close();
    const states = new ExporterStates();
    const decoded = sink.got.map((d) => ({ flows: decodeIpfix(d.data, { exporter: d.from, now: Date.now(), states, transport: 'udp' }).flows.length, exportSec: d.data.readUInt32BE(4), bytes: d.data.length }));
    expect(decoded.map((d) => d.flows)).toEqual([0, 28, 28, 28, 17, 0, 1]);
    expect(decoded.map((d) => d.exportSec - START / 1000)).toEqual([0, 0, 0, 0, 1, 62, 62]);
    expect(decoded[1]!.bytes).toBe(16 + 4 + 28 * 48);
    expect(sink.got.map((d) => d.from)).toEqual(Array(7).fill('127.1.0.2'));
  });

  it('sends sFlow from one loopback agent per leaf whose samples scale back to the flows, with consistent pools and counters', () => {
    const samples = new Map<string, number>();
    const bytes = new Map<string, number>();
    const counters = new Map<string, { in_packets: number; in_octets: number }>();
    const seqs = new Map<string, number[]>();
    const pools = new Map<string, number[]>();
    for (const d of out.sflow) {
      const r = decodeSflow(d.data, d.from, Date.now());
      expect(r.errors).toEqual([]);
      expect(r.agent).toBe(d.from);
      seqs.set(d.from, [...(seqs.get(d.from) ?? []), r.sequence!]);
      for (const f of r.flows) {
        expect(f.sampling_rate).toBe(SAMPLING);
        const k = `${f.src_addr} ${f.dst_addr} ${f.src_port} ${f.dst_port} ${f.protocol} ${f.tcp_flags}`;
        samples.set(k, (samples.get(k) ?? 0) + 1);
        bytes.set(k, (bytes.get(k) ?? 0) + f.bytes! * f.sampling_rate);
      }
      for (const c of r.counters) counters.set(`${c.exporter_address} ${c.if_index}`, c);
      for (const s of flowSamplesOf(d.data)) {
        expect(s.drops).toBe(0);
        expect(s.rate).toBe(SAMPLING);
        pools.set(`${d.from} ${s.sourceId}`, [...(pools.get(`${d.from} ${s.sourceId}`) ?? []), s.pool]);
      }
    }
    expect([...seqs.keys()].sort()).toEqual([addresses.switch('fe-leaf01'), addresses.switch('fe-leaf02')]);
    for (const s of seqs.values()) expect(s).toEqual(s.map((_, i) => i + 1));
    for (const f of flowsOf(events, 'switch')) {
      const k = `${f.src} ${f.dst} ${f.srcPort} ${f.dstPort} ${f.protocol} ${f.tcpFlags}`;
      const expected = f.packets / SAMPLING;
      // Binomial(P, 1/N): within 4 standard deviations
      expect(Math.abs(samples.get(k)! - expected)).toBeLessThan(4 * Math.sqrt(expected));
      expect(bytes.get(k)! / samples.get(k)!).toBe(f.bytes / f.packets * SAMPLING);
    }
    // Each port's pool grows with its samples and ends within what its counters say the port saw.
    for (const [k, p] of pools) {
      expect(p).toEqual([...p].sort((a, b) => a - b));
      expect(p[p.length - 1]!).toBeLessThanOrEqual(counters.get(k)!.in_packets);
    }
    const total = flowsOf(events, 'switch').reduce((s, f) => s + f.packets, 0);
    expect([...counters.values()].reduce((s, c) => s + c.in_packets, 0)).toBe(total);
    expect([...counters.values()].reduce((s, c) => s + c.in_octets, 0)).toBe(total * 1500);
  });

  it('writes Hubble lines in the shape eastwatch reads, normalizing to the flows\' addresses, pods and verdicts', () => {
    const flows = flowsOf(events, 'hubble');
    const got = lines(out.hubble);
    expect(got).toHaveLength(flows.length);
    const fixtureKeys = Object.keys(JSON.parse(POLICY_DENIED).flow as object);
    const uuids = new Set<string>();
    got.forEach((line, i) => {
      const f = flows[i]!;
      const doc = JSON.parse(line) as { flow: Record<string, unknown>; time: string; node_name: string };
      expect(Object.keys(doc)).toEqual(['flow', 'node_name', 'time']);
      expect(doc.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      for (const k of Object.keys(doc.flow)) expect([...fixtureKeys, 'is_reply']).toContain(k);
      uuids.add(doc.flow.uuid as string);
      const r = normalizeHubble(line, 0);
      expect(r.error).toBeUndefined();
      const h = f.hubble!;
      expect(r.flow).toMatchObject({
        time_start: f.start, src_addr: f.src, dst_addr: f.dst, src_port: f.srcPort, dst_port: f.dstPort, protocol: 6, tcp_flags: 0x02,
        src_namespace: h.src!.namespace, src_pod: h.src!.pod, dst_pod: h.dst!.pod, verdict: h.verdict, is_reply: false,
        src_workload: 'pytorchjob/trainer-88214', src_labels: { ...h.src!.labels, 'io.kubernetes.pod.namespace': 'ai-training' },
        ...(h.verdict === 'DROPPED' ? { drop_reason: 'POLICY_DENIED', direction: 'egress', src_node: h.node } : { direction: 'ingress', dst_node: h.node }),
      });
      expect(r.flow).toEqual(toFlow(f, addresses, 0));
    });
    expect(uuids.size).toBe(flows.length);
    for (const u of uuids) expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('writes Squid native lines that parse back to the same client, host, bytes and status', () => {
    const flows = flowsOf(events, 'proxy');
    const got = lines(out.squid);
    expect(got).toHaveLength(flows.length);
    got.forEach((line, i) => {
      const f = flows[i]!;
      const r = parseSquidLine(line, PROXY, 0);
      expect(r.error).toBeUndefined();
      expect(r.flow).toMatchObject({
        time_start: f.start, time_end: f.end, src_addr: f.src, exporter_address: PROXY, proxy_host: f.proxy!.host, bytes: f.bytes,
        proxy_status: f.proxy!.status, proxy_method: f.proxy!.method, verdict: f.proxy!.status === 403 ? 'DENIED' : 'FORWARDED',
      });
      expect(r.flow).toEqual(toFlow(f, addresses, 0));
    });
    const one = flows.find((f) => f.proxy!.method === 'CONNECT' && f.proxy!.status === 200)!;
    expect(squidLine(one)).toMatch(/^\d+\.\d{3} +\d+ 10\.30\.1\.\d TCP_TUNNEL\/200 \d+ CONNECT huggingface\.co:443 - HIER_DIRECT\/huggingface\.co -$/);
    const denied = flows.find((f) => f.proxy!.status === 403)!;
    expect(squidLine(denied)).toContain(' TCP_DENIED/403 ');
    expect(squidLine({ ...one, proxy: { host: '2001:db8::7', method: 'GET', status: 200 } })).toContain(' TCP_MISS/200 ');
    expect(parseSquidLine(squidLine({ ...one, proxy: { host: '2001:db8::7', method: 'GET', status: 200 } }), PROXY, 0).flow)
      .toMatchObject({ dst_addr: '2001:db8::7', dst_port: 80, proxy_host: '2001:db8::7' });
  });

  it('makes each flow into the raw Flow a collector would produce (toFlow)', () => {
    for (const f of events.flatMap((e) => (e.kind === 'flow' ? [e.flow] : []))) {
      const flow = toFlow(f, addresses);
      expect(FlowSchema.parse(flow)).toEqual(flow);
      // Hubble reports an event at the flow's first packet, not a span
      expect(flow).toMatchObject({ time_received: f.end, time_start: f.start, time_end: f.via === 'hubble' ? f.start : f.end, src_addr: f.src });
    }
    const [sw] = flowsOf(events, 'switch');
    expect(toFlow(sw!, addresses)).toMatchObject({
      source_kind: 'sflow', exporter_address: addresses.switch(sw!.exporter!), bytes: sw!.bytes, packets: sw!.packets, sampling_rate: 1,
      in_if: switchPort(sw!.src), out_if: switchPort(sw!.dst),
    });
  });

  it('maps exporters to loopback addresses by their place in the node list', () => {
    expect(addresses.dpu('gpu001')).toBe('127.1.0.1');
    expect(addresses.switch('fe-leaf02')).toBe('127.2.0.5');
    expect(loopbackAddress(1, 253)).toBe('127.1.0.254');
    expect(loopbackAddress(1, 254)).toBe('127.1.1.1');
    expect(() => addresses.dpu('gpu999')).toThrow('gpu999');
    expect(() => hubbleLine({ ...flowsOf(events, 'dpu')[0]!, via: 'hubble' }, 0)).toThrow('no hubble context');
  });
});

/** The fixed fields of the flow samples (format 1) of a datagram with an IPv4 agent. */
function flowSamplesOf(d: Buffer): Array<{ sourceId: number; rate: number; pool: number; drops: number }> {
  const out = [];
  let o = 28;
  for (let i = 0, n = d.readUInt32BE(24); i < n; i++) {
    const format = d.readUInt32BE(o);
    const length = d.readUInt32BE(o + 4);
    if (format === 1) out.push({ sourceId: d.readUInt32BE(o + 12), rate: d.readUInt32BE(o + 16), pool: d.readUInt32BE(o + 20), drops: d.readUInt32BE(o + 24) });
    o += 8 + length;
  }
  return out;
}

/** Records what the runner hands it, for the clock's tests. */
class Recorder implements FlowEmitter {
  readonly name = 'recorder';
  readonly stats = newStats();
  readonly seen: Array<{ time: number; wall: number }> = [];
  flushed = false;
  flow(_f: SimFlow, now: number): void {
    this.seen.push({ time: now, wall: performance.now() });
    this.stats.records++;
  }
  advance(): void {}
  async drain(): Promise<void> {}
  async flush(): Promise<void> {
    this.flushed = true;
  }
  async close(): Promise<void> {}
}

/** `count` dpu flows spread evenly over [from, to). */
function evenFlows(from: number, to: number, count: number): SimEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const time = from + Math.floor(((to - from) * i) / count);
    return { kind: 'flow', time, flow: { start: time - 10, end: time, src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2, protocol: 17, bytes: 100, packets: 1, tcpFlags: 0, via: 'dpu', exporter: 'gpu001' } };
  });
}

describe('simulation clock', () => {
  const recorded = () => {
    const r = new Recorder();
    return { r, emitters: new Emitters({ flows: { dpu: r } }) };
  };

  it('paces by speed: simulated seconds per wall second, no event before its simulated time', async () => {
    const { r, emitters } = recorded();
    const wall0 = performance.now();
    const result = await runSimulation({ events: slicer(evenFlows(START, START + 4000, 40)), start: START, duration: 4000, speed: 10, stepMs: 100, emitters });
    expect(result.flows).toBe(40);
    expect(result.wallMs).toBeGreaterThanOrEqual(390);
    expect(result.wallMs).toBeLessThan(2000);
    for (const s of r.seen) expect(s.wall - wall0).toBeGreaterThanOrEqual((s.time - START) / 10 - 5);
    expect(r.flushed).toBe(true);
  });

  it('paces by rate: flows per wall second, simulated time advancing as needed', async () => {
    const { r, emitters } = recorded();
    // 300 flows in one simulated second, at 1000 flows/s
    const result = await runSimulation({ events: slicer(evenFlows(START, START + 1000, 300)), start: START, duration: 1000, rate: 1000, emitters });
    expect(result.flows).toBe(300);
    expect(result.wallMs).toBeGreaterThanOrEqual(280);
    expect(result.wallMs).toBeLessThan(1500);
    const spread = r.seen[299]!.wall - r.seen[0]!.wall;
    expect(spread).toBeGreaterThanOrEqual(280);
  });

  it('stops on its signal even at a rate it cannot reach (the loop never sleeps)', async () => {
    const { emitters } = recorded();
    const endless: RunOptions['events'] = function* (from, to) {
      for (let t = from; t < to; t += 10) yield evenFlows(t, t + 10, 1)[0]!;
    };
    const result = await runSimulation({ events: endless, start: START, duration: 365 * 86_400_000, rate: 1e9, emitters, signal: AbortSignal.timeout(200) });
    expect(result.stopped).toBe(true);
    expect(result.wallMs).toBeLessThan(3000);
  });

  it('emits the backfill first, in the past and capped by its rate, then the live part', async () => {
    const { r, emitters } = recorded();
    const asked: Array<[number, number]> = [];
    const all = [...evenFlows(START - 60_000, START, 200), ...evenFlows(START, START + 2000, 20)];
    const result = await runSimulation({
      events: (from, to) => (asked.push([from, to]), slicer(all)(from, to)), start: START, duration: 2000, backfill: 60_000, backfillRate: 1000, speed: Infinity, emitters,
    });
    expect(result).toMatchObject({ flows: 220, backfillFlows: 200, end: START + 2000 });
    expect(r.seen.map((s) => s.time)).toEqual(all.map((e) => e.time));
    expect(asked[0]).toEqual([START - 60_000, START - 59_000]);
    expect(asked.findIndex(([from]) => from >= START)).toBe(60);
    // 200 backfill flows at 1000/s take about 200 ms; the live 20 at infinite speed take none
    expect(r.seen[199]!.wall - r.seen[0]!.wall).toBeGreaterThanOrEqual(180);
  });

  it('stops cleanly on abort, flushing what it holds', async () => {
    const { r, emitters } = recorded();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 150);
    const result = await runSimulation({ events: slicer(evenFlows(START, START + 60_000, 600)), start: START, duration: 60_000, speed: 20, emitters, signal: abort.signal });
    expect(result.stopped).toBe(true);
    expect(result.flows).toBeGreaterThan(0);
    expect(result.flows).toBeLessThan(600);
    expect(result.end).toBeLessThan(START + 60_000);
    expect(r.flushed).toBe(true);
  });

  it('refuses speed and rate together', async () => {
    await expect(runSimulation({ events: () => [], start: START, duration: 1, speed: 2, rate: 2, emitters: recorded().emitters })).rejects.toThrow('not both');
  });
});
