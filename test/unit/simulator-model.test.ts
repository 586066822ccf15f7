/**
 * The cluster model, judged on its output (SimEvents and truth labels), not on its internals: determinism and
 * ranges, what normal traffic may touch, the collective patterns and rails, the allow list, every attack and
 * trap with its label, time order; and how fast it runs and how many flows a simulated day makes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AllocationEventSchema, type AllocationEvent } from '../../allocations/event';
import { expandHostlist } from '../../inventory/hostlist';
import { Inventory } from '../../inventory/inventory';
import { InventorySchema } from '../../inventory/schema';
import { clusterInventory } from '../../simulator/cluster';
import { ATTACK_KINDS, type SimEvent, type SimFlow, TRAP_KINDS } from '../../simulator/events';
import { ClusterModel } from '../../simulator/model/model';
import { doubleBinaryTree } from '../../simulator/model/collective';
import { loadScenario, parseDuration, parseScenario, type Scenario, ScenarioError, scenarioInventory } from '../../simulator/scenario';
import { truthLines } from '../../simulator/truth';
import { parseTruth } from '../../simulator/truth-file';

const SCENARIOS = path.join(__dirname, '../../simulator/scenarios');
const START = Date.parse('2025-06-02T09:00:00Z'); // a Monday
const MIN = 60_000;
const scenarioText = readFileSync(path.join(SCENARIOS, 'default.yaml'), 'utf8');
const scenario = loadScenario(path.join(SCENARIOS, 'default.yaml'));
const inventory = scenarioInventory(scenario);
const model = (s: Scenario = scenario, inv: Inventory = inventory, rate?: number) => new ClusterModel(s, inv, { start: START, ...(rate !== undefined ? { rate } : {}) });

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function digest(events: Iterable<SimEvent>): string {
  const h = createHash('sha256');
  for (const e of events) h.update(`${JSON.stringify(e)}\n`);
  return h.digest('hex');
}

const m = model();
const events = [...m.events(m.start, m.end)];
const flows = events.flatMap((e) => (e.kind === 'flow' ? [e.flow] : []));
const normal = flows.filter((f) => f.label === undefined);
const truth = m.truth(m.start, m.end);

/** The allocations the model announced, as the pipeline would store them. */
const allocations: AllocationEvent[] = events.flatMap((e) => (e.kind === 'allocation' ? [AllocationEventSchema.parse(e.event)] : []));
const jobs = new Map<string, { ranks: string[]; start: number; end: number; pattern: string; podIps: Map<string, string> }>();
for (const a of allocations) {
  const ranks = a.pods ? a.pods.map((p) => p.node) : expandHostlist(a.nodes as string);
  jobs.set(a.job_id, { ranks, start: a.start, end: a.end ?? Infinity, pattern: a.pattern, podIps: new Map((a.pods ?? []).map((p) => [p.ip!, p.node])) });
}
/** The node that owns an address: an inventory address, or a pod address of an announced job. */
const nodeOf = (addr: string): string | undefined => inventory.endpointOf(addr)?.node
  ?? [...jobs.values()].find((j) => j.podIps.has(addr))?.podIps.get(addr);
const jobOf = (node: string, t: number) => [...jobs.entries()].find(([, j]) => j.start <= t && t < j.end && j.ranks.includes(node));
const roleOf = (addr: string) => inventory.endpointOf(addr)?.role;
const allowed = (f: SimFlow) => inventory.allows(inventory.zoneOf(f.src), inventory.zoneOf(f.dst), f.protocol, f.dstPort);
const isRoce = (f: SimFlow) => f.protocol === 17 && f.dstPort === 4791;

describe('scenario files', () => {
  it('parses durations and offsets', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('-2h')).toBe(-7_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('10')).toBeUndefined();
  });

  it('names every problem by its key', () => {
    const bad = `
seed: 1
duration: 10
cluster: { inventory: x.yaml, generate: { nodes: 64, rails: 8 } }
jobs:
  - { id: 1, nodes: 4, pattern: hexagon }
  - { id: 2, nodes: 4, pattern: ring, start: 5m, end: 1m }
attacks:
  - { kind: teleport, at: 1m }
`;
    const problems = (text: string) => {
      try {
        parseScenario(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        return (e as ScenarioError).problems;
      }
      return [];
    };
    expect(problems(bad)).toEqual([
      'duration: expected a duration such as 90s, 10m, 7d, not 10 (a number needs a unit)',
      'cluster: give either inventory or generate',
      expect.stringMatching(/^jobs\.0\.pattern: Invalid option: expected one of "ring"/),
      'jobs.1.end: not after start',
      expect.stringMatching(/^attacks\.0\.kind: Invalid discriminator value/),
    ]);
    // References between keys are checked once every key parses.
    expect(problems(`
seed: 1
duration: 10m
cluster: { generate: { nodes: 64, rails: 8 } }
jobs:
  - { id: 1, nodes: 4, pattern: ring }
attacks:
  - { kind: lateral-ssh, at: 1m, job: 99 }
  - { kind: exfil-proxy-fast, at: 1m, job: 1, host: pypi.org }
  - { kind: policy-denied, at: 1m, job: 1 }
traps:
  - { kind: job-edges, job: 1 }
`)).toEqual([
      'attacks.0.job: no job 99 in jobs',
      'attacks.1.host: pypi.org is on the approved list: exfiltration goes to a new host',
      'attacks.2.job: a policy-denied attempt comes from a pod: the job must be a Kubernetes job',
      'traps.0.job: job 1 has no end: its last seconds never come',
    ]);
  });

  it('names the problems only the inventory shows by key too', () => {
    const s = parseScenario(`
seed: 1
duration: 1m
cluster: { inventory: ${path.join(__dirname, '../../inventory/example-64-nodes.yaml')} }
jobs:
  - { id: 1, nodes: 60, pattern: ring }
  - { id: 2, nodes: 8, pattern: ring }
  - { id: 3, nodes: "gpu[001-002],inf01", pattern: tree }
`);
    expect(() => model(s)).toThrow(ScenarioError);
    try {
      model(s);
    } catch (e) {
      expect((e as ScenarioError).problems).toEqual([
        'jobs.2.nodes: not training nodes of this cluster: inf01',
        'jobs.1.nodes: 8 nodes asked, 2 free from 0s to the end',
      ]);
    }
    const attack = parseScenario(`${scenarioText.replace(/attacks:[^]*$/, '')}attacks:\n  - { kind: bmc-access, at: 1m, node: nosuch }\n  - { kind: rail-crossing, at: 14m, job: 88215 }\n`, SCENARIOS);
    expect(() => model(attack)).toThrow(/attacks\.0\.node: nosuch is not a node[^]*attacks\.1\.job: job 88215 is not running at the incident's start/);
  });

  it('ships a 512-node scenario whose generated inventory validates and runs', () => {
    const large = loadScenario(path.join(SCENARIOS, 'large.yaml'));
    const inv = scenarioInventory(large);
    expect([...inv.nodes.values()].filter((r) => r === 'gpu').length).toBeGreaterThanOrEqual(512);
    const lm = model(large, inv);
    const kinds = new Set(lm.truth(lm.start, lm.end).map((l) => l.kind));
    expect(kinds).toEqual(new Set([...large.attacks.map((a) => a.kind), ...large.traps.map((t) => t.kind)]));
    // 41003 started an hour before: a consumer joining at the start learns of it from activeAllocations.
    expect(lm.activeAllocations(lm.start).map((e) => e.kind === 'allocation' && e.event.job_id)).toContain('41003');
  });
});

describe('determinism and ranges', () => {
  const range = [START, START + 4 * MIN] as const;

  it('gives the same events and truth for the same seed, different ones for another seed', () => {
    const a = digest(model().events(...range));
    expect(digest(model().events(...range))).toBe(a);
    expect(sha(truthLines(model().truth(...range)))).toBe(sha(truthLines(m.truth(...range))));
    const other = model({ ...scenario, seed: scenario.seed + 1 });
    expect(digest(other.events(...range))).not.toBe(a);
    expect(sha(truthLines(other.truth(...range)))).not.toBe(sha(truthLines(m.truth(...range))));
  });

  it('gives one range split in two exactly what it gives it whole', () => {
    const cut = START + 61_234; // inside a slot
    expect(digest([...m.events(range[0], cut), ...m.events(cut, range[1])])).toBe(digest(m.events(...range)));
  });

  it('generates history before the start: normal traffic, no incidents', () => {
    const history = [...m.events(START - 2 * 3_600_000, START - 3_600_000)];
    expect(history.filter((e) => e.kind === 'flow').length).toBeGreaterThan(5000);
    expect(history.some((e) => e.kind === 'flow' && e.flow.label !== undefined)).toBe(false);
    expect(history.some((e) => e.kind === 'allocation')).toBe(true); // the automatic stream's jobs come and go
  });

  it('scales normal traffic with the rate option, not the incidents', () => {
    const fast = model(scenario, inventory, 3);
    const normalOf = (mm: ClusterModel) => [...mm.events(START, START + 2 * MIN)].filter((e) => e.kind === 'flow' && e.flow.label === undefined);
    const more = normalOf(fast);
    const ratio = more.length / normalOf(m).length;
    expect(ratio).toBeGreaterThan(2.3);
    expect(ratio).toBeLessThan(3.7);
    expect(more.filter((e) => e.kind === 'flow' && ![e.time, e.flow.start, e.flow.end].every(Number.isInteger))).toEqual([]);
    // Traps made of normal traffic (late flows, a reassigned node's flows) follow the rate; attacks do not.
    const attacks = (mm: ClusterModel) => truthLines(mm.truth().filter((l) => l.class === 'attack'));
    expect(attacks(fast)).toBe(attacks(m));
  });
});

describe('normal traffic', () => {
  it('comes in time order, allocations with the right shape', () => {
    expect(events.filter((e, i) => i > 0 && e.time < events[i - 1]!.time)).toEqual([]);
    expect(flows.filter((f) => ![f.start, f.end, f.bytes, f.packets].every(Number.isInteger) || f.start > f.end)).toEqual([]);
    const k8s = allocations.find((a) => a.job_id === 'ai-training/llm-pretrain')!;
    expect(k8s.source).toBe('kubernetes');
    expect(k8s.pods).toHaveLength(8);
    for (const p of k8s.pods!) expect(inventory.zoneOf(p.ip!)).toBe('training');
    expect(allocations.find((a) => a.job_id === '88213')).toMatchObject({ nodes: 'gpu[001-016]', pattern: 'ring', source: 'slurm' });
    // 88215 ends and 88216 takes its nodes: its end is announced, then the next job's start.
    const ends = allocations.filter((a) => a.end != null).map((a) => a.job_id);
    expect(ends).toContain('88215');
    expect(jobs.get('88216')!.ranks).toEqual(jobs.get('88215')!.ranks);
  });

  it('is all allowed by the inventory', () => {
    const denied = normal.filter((f) => !allowed(f)).map((f) => `${f.src} -> ${f.dst} ${f.protocol}/${f.dstPort} via ${f.via}`);
    expect([...new Set(denied)]).toEqual([]);
  });

  it("of a job touches only its own nodes, storage, DNS, the proxy, monitoring and the control plane", () => {
    const services = new Set(['storage', 'service', 'proxy', 'control-plane']);
    const strays = new Set<string>();
    let checked = 0;
    for (const f of normal) {
      const src = nodeOf(f.src);
      const job = src === undefined ? undefined : jobOf(src, f.start);
      if (!job) continue;
      checked++;
      const dst = nodeOf(f.dst);
      const ok = (dst !== undefined && job[1].ranks.includes(dst)) || services.has(roleOf(f.dst) ?? '');
      if (!ok) strays.add(`${src} (job ${job[0]}) -> ${f.dst} ${f.dstPort}`);
    }
    expect(checked).toBeGreaterThan(10_000);
    expect([...strays]).toEqual([]);
  });

  it('runs collectives as NCCL does: ring n -> n+1, tree at most 6 peers, all-to-all inside its groups, pipeline as a chain', () => {
    const peers = new Map<string, Set<string>>();
    const wrong = new Set<string>();
    let rings = 0;
    for (const f of normal.filter(isRoce)) {
      const [src, dst] = [nodeOf(f.src)!, nodeOf(f.dst)!];
      const [id, job] = jobOf(src, f.start)!;
      const [a, b] = [job.ranks.indexOf(src), job.ranks.indexOf(dst)];
      const n = job.ranks.length;
      if (job.pattern === 'ring') rings++;
      const ok = b >= 0 && (job.pattern !== 'ring' || b === (a + 1) % n)
        && (id !== '88214' || Math.floor(a / 8) === Math.floor(b / 8))
        && (job.pattern !== 'pipeline-parallel' || Math.abs(a - b) === n / 4);
      if (!ok) wrong.add(`job ${id} (${job.pattern}): rank ${a} -> ${b}`);
      const key = `${id}:${src}`;
      peers.set(key, (peers.get(key) ?? new Set()).add(dst));
    }
    expect([...wrong]).toEqual([]);
    expect(rings).toBeGreaterThan(1000);
    const treePeers = [...peers].filter(([k]) => k.startsWith('88215:')).map(([, s]) => s.size);
    expect(treePeers.length).toBe(8);
    expect(Math.max(...treePeers)).toBeLessThanOrEqual(6);
    for (const n of [2, 3, 8, 13, 64, 100]) {
      const deg = new Array<number>(n).fill(0);
      for (const [a, b] of doubleBinaryTree(n)) (deg[a]!++, deg[b]!++);
      expect(Math.max(...deg)).toBeLessThanOrEqual(6);
      expect(doubleBinaryTree(n).length).toBeGreaterThanOrEqual(n - 1);
    }
  });

  it('keeps RoCEv2 rail-aligned, with entropy source ports', () => {
    const roce = normal.filter(isRoce);
    const crossed = roce.filter((f) => inventory.endpointOf(f.src)?.fabric !== 'backend' || inventory.endpointOf(f.src)!.rail !== inventory.endpointOf(f.dst)?.rail);
    expect(crossed).toEqual([]);
    expect(roce.filter((f) => f.srcPort < 0xc000)).toEqual([]);
    expect(new Set(roce.map((f) => f.srcPort)).size).toBeGreaterThan(500);
  });

  it('talks to rank 0 for the TCPStore (29500) and the rendezvous (29400)', () => {
    const store = normal.filter((f) => f.dstPort === 29500 || f.dstPort === 29400);
    expect(new Set(store.map((f) => f.dstPort))).toEqual(new Set([29500, 29400]));
    for (const f of store) {
      const [, job] = jobOf(nodeOf(f.src)!, f.start)!;
      expect(nodeOf(f.dst)).toBe(job.ranks[0]);
    }
  });

  it('goes the right way into eastwatch', () => {
    const wrong = flows.filter((f) => {
      switch (f.via) {
        case 'dpu': return inventory.nodes.get(`${f.exporter}-dpu`) !== 'dpu' || f.exporter !== inventory.endpointOf(f.src)?.node;
        case 'switch': return inventory.nodes.get(f.exporter!) !== 'switch' || inventory.nodes.has(`${inventory.endpointOf(f.src)?.node}-dpu`);
        case 'hubble': return !inventory.nodes.has(f.hubble!.node) || f.exporter !== undefined;
        case 'proxy': return !inventory.isProxy(f.dst) || !f.proxy?.host;
      }
    });
    expect(wrong).toEqual([]);
    const vias = new Set(normal.map((f) => f.via));
    expect(vias).toEqual(new Set(['dpu', 'switch', 'hubble', 'proxy']));
    // Every proxied request: the client's connection, the Squid line and the proxy's own, to an approved host.
    const lines = normal.filter((f) => f.via === 'proxy');
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect(scenario.egress.approved).toContain(l.proxy!.host);
  });

  it('scrapes the exporters where the allow list permits it, and says where it does not', () => {
    // The example inventory lets Prometheus (management) reach :9100 and :9400 on training and inference nodes.
    const scraped = (inv: Inventory, f: SimFlow) => (f.dstPort === 9100 || f.dstPort === 9400) && inv.zoneOf(f.dst) !== 'management';
    const example = normal.filter((f) => scraped(inventory, f));
    expect(new Set(example.map((f) => inventory.zoneOf(f.dst)))).toEqual(new Set(['training', 'inference', 'storage']));
    expect(example.every((f) => inventory.allows(inventory.zoneOf(f.src), inventory.zoneOf(f.dst), f.protocol, f.dstPort))).toBe(true);
    const spec = clusterInventory({ nodes: 16, rails: 2 });
    spec.allow = spec.allow!.filter((r) => !(r.from === 'management' && r.to === 'training'));
    const inv = Inventory.build(InventorySchema.parse(spec));
    const small = parseScenario('seed: 3\nduration: 5m\ncluster: { generate: { nodes: 16, rails: 2 } }\njobs: [{ id: 1, nodes: 8, pattern: ring }]\n');
    const m2 = model(small, inv);
    const scrapes = [...m2.events(START, START + 2 * MIN)].flatMap((e) => (e.kind === 'flow' && scraped(inv, e.flow) ? [e.flow] : []));
    expect(scrapes.filter((f) => inv.zoneOf(f.dst) === 'training')).toEqual([]);
    expect(m2.notes).toContainEqual(expect.stringMatching(/^node-exporter: not generated where the inventory does not allow it \(.*management -> training tcp\/9100/));
  });

  it('has checkpoint bursts at ten times the normal storage bytes', () => {
    const storage = normal.filter((f) => roleOf(f.dst) === 'storage' && nodeOf(f.src)?.startsWith('gpu00'));
    const perMs = (f: SimFlow) => f.bytes / Math.max(1, f.end - f.start);
    const burst = storage.filter((f) => f.tcpFlags === 0x1b).map(perMs);
    const steady = storage.filter((f) => f.tcpFlags === 0x18).map(perMs);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(burst.length).toBeGreaterThan(10);
    expect(mean(burst) / mean(steady)).toBeGreaterThan(7);
    expect(mean(burst) / mean(steady)).toBeLessThan(13);
  });
});

describe('attacks and traps', () => {
  it('labels every attack and trap kind', () => {
    expect(new Set(truth.filter((l) => l.class === 'attack').map((l) => l.kind))).toEqual(new Set(ATTACK_KINDS));
    expect(new Set(truth.filter((l) => l.class === 'benign').map((l) => l.kind))).toEqual(new Set(TRAP_KINDS));
    expect(parseTruth(truthLines(truth), 'truth.jsonl')).toEqual(truth);
    for (const l of truth.filter((x) => x.class === 'attack')) expect(l.detectors!.length).toBeGreaterThan(0);
  });

  it("keeps each label's flows inside its times, and its times inside the run", () => {
    for (const l of truth) {
      const own = flows.filter((f) => f.label === l.id);
      expect(own.length).toBeGreaterThan(0);
      expect(Math.min(...own.map((f) => f.start))).toBe(l.start);
      expect(Math.max(...own.map((f) => f.end))).toBe(l.end);
      expect(l.start).toBeGreaterThanOrEqual(m.start - 10_000);
      expect(l.end).toBeLessThanOrEqual(m.end + 10_000);
      // Each flow is the labelled nodes' own, or the proxy's connection onward for their request.
      const strays = own.filter((f) => ![nodeOf(f.src), nodeOf(f.dst), f.hubble?.node].some((n) => l.nodes.includes(n ?? ''))
        && !(inventory.isProxy(f.src) && l.addresses.includes(f.dst)));
      expect(strays).toEqual([]);
    }
  });

  it('makes the attacks what they claim', () => {
    const of = (kind: string) => flows.filter((f) => f.label === truth.find((l) => l.kind === kind)!.id);
    const lateral = truth.find((l) => l.kind === 'lateral-ssh')!;
    for (const f of of('lateral-ssh')) {
      expect(f.dstPort).toBe(22);
      expect(jobOf(nodeOf(f.dst)!, f.start)?.[0]).not.toBe(lateral.job);
    }
    expect(new Set(of('scan').map((f) => f.dst)).size).toBe(32);
    for (const f of of('rail-crossing')) expect(inventory.endpointOf(f.src)!.rail).not.toBe(inventory.endpointOf(f.dst)!.rail);
    for (const f of of('bmc-access')) expect([inventory.zoneOf(f.dst), f.dstPort, f.protocol]).toEqual(['bmc', 623, 17]);
    for (const f of of('policy-denied')) expect([f.via, f.hubble!.verdict, f.hubble!.dropReason, inventory.zoneOf(f.dst)]).toEqual(['hubble', 'DROPPED', 'POLICY_DENIED', 'internet']);
    for (const f of of('proxy-bypass')) expect(inventory.zoneOf(f.dst)).toBe('internet');
    const slow = of('exfil-proxy-slow').filter((f) => f.via === 'proxy');
    expect(slow.every((f) => !scenario.egress.approved.includes(f.proxy!.host))).toBe(true);
    expect(Math.max(...slow.map((f) => f.bytes))).toBeLessThan(30e6);
    for (const f of of('collective-intruder')) expect(isRoce(f) && !jobs.get('88213')!.ranks.includes(nodeOf(f.src)!)).toBe(true);
    for (const f of of('weights-new-destination')) expect(inventory.zoneOf(f.src)).toBe('weights');
  });

  it('makes the traps what they claim', () => {
    const id = (kind: string) => truth.find((l) => l.kind === kind)!.id;
    const late = events.filter((e) => e.kind === 'flow' && e.flow.label === id('late-flows'));
    expect(late.length).toBeGreaterThan(10);
    for (const e of late) expect(e.kind === 'flow' && e.time - e.flow.end).toBe(90_000);
    const edges = flows.filter((f) => f.label?.startsWith('job-edges'));
    const j = jobs.get('88215')!;
    for (const f of edges) expect(f.start < j.start || f.end > j.end).toBe(true);
    expect(flows.filter((f) => f.label === id('node-reassigned')).length).toBeGreaterThan(10);
    const upload = flows.filter((f) => f.label === id('approved-model-upload') && f.via === 'proxy');
    expect(upload.every((f) => f.proxy!.host === 'huggingface.co')).toBe(true);
    expect(upload.reduce((n, f) => n + f.bytes, 0)).toBeCloseTo(100e9, -3);
  });
});

describe('volume', () => {
  it('prints its throughput and the flows of a simulated day at 64 and 512 nodes', () => {
    // Samples spread over the day after the start (the inference tier follows the clock): four hours at 64
    // nodes, two quarter hours at 512.
    const count = (mm: ClusterModel, hours: number[], length: number) => {
      let n = 0;
      for (const h of hours) for (const e of mm.events(START + h * 3_600_000, START + h * 3_600_000 + length)) if (e.kind === 'flow') n++;
      return Math.round((n * 86_400_000) / (hours.length * length));
    };
    const t0 = performance.now();
    const n64 = count(m, [0, 6, 12, 18], 3_600_000);
    const perSecond = (n64 / 6) / ((performance.now() - t0) / 1000);
    const large = loadScenario(path.join(SCENARIOS, 'large.yaml'));
    const n512 = count(model(large, scenarioInventory(large)), [3, 15], 900_000);
    console.log(`cluster model: ${Math.round(perSecond)} flows/s; flows per simulated day: about ${n64} at 64 nodes, ${n512} at 512 nodes`);
    expect(n64).toBeGreaterThan(1e6);
    expect(n64).toBeLessThan(10e6);
    expect(n512).toBeLessThan(80e6);
  });
});
