/**
 * A synthetic source of raw flows (as collectors emit them, before enrichment) from the cluster an inventory
 * describes, with its jobs as allocations: collective traffic on the back-end rails within each job, storage
 * reads, DNS, egress through the proxy, plus a few planted incidents (cross-job talk, tenant to BMC, serving to
 * training, egress that bypasses the proxy, policy-denied drops). It feeds `eastwatch demo`, `eastwatch
 * produce` and the benchmarks; seeded, so the same inventory and seed give the same flows.
 *
 * Who is who, from the inventory. An Inventory keeps nodes, their addresses, zone verdicts and the proxies but
 * not the services list, so services are recognised by role and by what the allow list lets training reach,
 * which also keeps all normal traffic allowed traffic:
 * - training nodes: role gpu with back-end rails, in inventory order, each with a front-end and an oob address
 *   (at least 8, for three jobs of two or more); collectives use the rails every training node has;
 * - serving nodes: role gpu without rails;
 * - storage: front-ends of storage nodes training may reach on NFS (tcp/2049); DNS: front-ends of service nodes
 *   it may reach on udp/53; proxies: front-ends the inventory lists as proxies that it may reach on tcp/3128;
 *   each training node keeps one resolver and one proxy;
 * - exporters: the DPUs' oob addresses, else the training nodes' (a host agent exporting);
 * - jobs: the training nodes in order, split 1/4 ring, 1/2 all-to-all, 1/4 tree (JOBS).
 * Incidents use the training nodes at the places gpu007, gpu012, gpu021, gpu031, gpu041 and gpu052 hold among
 * the 64 of inventory/example-64-nodes.yaml, so on any cluster they land in the same jobs, and the first two
 * serving nodes. The serving-to-training incident needs serving nodes. The policy-denied Hubble drop is between
 * fixed pod addresses (an Inventory lists no pods and does not expose its zones' CIDRs), planted only when the
 * inventory's zones cover both, as the example's training and cluster-services zones do.
 */
import type { AllocationEventInput } from '../allocations/event';
import type { Flow } from '../core/flow';
import { compressHostlist } from '../inventory/hostlist';
import type { Inventory } from '../inventory/inventory';
import { PROTOCOLS, type Role } from '../inventory/schema';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The jobs: consecutive shares of the training nodes, with the collective pattern each runs. */
export const JOBS = [
  { id: '88213', share: 1 / 4, pattern: 'ring' },
  { id: '88214', share: 1 / 2, pattern: 'all-to-all' },
  { id: '88215', share: 1 / 4, pattern: 'tree' },
] as const;

/** Fewest training nodes that split into the three jobs with two or more nodes each. */
const MIN_TRAINING = 8;
/** The proxy-bypass destination: a documentation address (RFC 5737), so no real inventory holds it. */
const INTERNET = '198.51.100.7';
/** The Hubble fixture's pods (test/hubble-fixtures.ts), so the planted drop looks like a real one. */
const POD_SRC = '10.244.3.17';
const POD_DST = '10.96.0.12';

interface Host {
  name: string;
  role: Role;
  frontend?: string;
  oob?: string;
  /** Back-end addresses, index = rail. */
  rails: string[];
}

interface Job {
  id: string;
  pattern: (typeof JOBS)[number]['pattern'];
  first: number;
  count: number;
}

function hostsOf(inv: Inventory): Host[] {
  const hosts = new Map([...inv.nodes].map(([name, role]): [string, Host] => [name, { name, role, rails: [] }]));
  for (const a of inv.addresses(0)) {
    const h = hosts.get(a.node)!;
    if (a.fabric === 'backend') h.rails[a.rail!] = a.address;
    else if (a.fabric === 'frontend') h.frontend = a.address;
    else h.oob = a.address;
  }
  return [...hosts.values()];
}

/** The training nodes (gpu with rails) and their jobs; throws when the inventory cannot hold the three jobs. */
function trainingOf(hosts: Host[]): { training: Required<Host>[]; jobs: Job[] } {
  const gpus = hosts.filter((h) => h.role === 'gpu' && h.rails.length > 0);
  const incomplete = gpus.filter((h) => !h.frontend || !h.oob).map((h) => h.name);
  if (incomplete.length > 0) throw new Error(`synthetic cluster: GPU nodes without a front-end or oob address: ${compressHostlist(incomplete)}`);
  if (gpus.length < MIN_TRAINING) throw new Error(`synthetic cluster: needs at least ${MIN_TRAINING} GPU nodes with back-end rails, the inventory has ${gpus.length}`);
  let first = 0;
  let share = 0;
  const jobs = JOBS.map((j) => {
    share += j.share;
    const end = Math.floor(share * gpus.length);
    const job = { id: j.id, pattern: j.pattern, first, count: end - first };
    first = end;
    return job;
  });
  return { training: gpus as Required<Host>[], jobs };
}

/** The jobs as allocation events, running since `since`. */
export function syntheticAllocations(inventory: Inventory, since: number): AllocationEventInput[] {
  const { training, jobs } = trainingOf(hostsOf(inventory));
  return jobs.map((j) => ({
    job_id: j.id,
    nodes: compressHostlist(training.slice(j.first, j.first + j.count).map((h) => h.name)),
    start: since,
    pattern: j.pattern,
    source: 'synthetic',
  }));
}

export type Incident = 'cross-job' | 'tenant-to-bmc' | 'serving-to-training' | 'proxy-bypass' | 'policy-denied';

export interface SyntheticOptions {
  seed?: number;
  /** Fraction of flows that belong to planted incidents. */
  incidentRate?: number;
  now?: () => number;
}

function base(now: number, rnd: () => number, exporters: string[]): Flow {
  const dur = Math.floor(rnd() * 60_000);
  return {
    time_received: now,
    time_start: now - dur - 1000,
    time_end: now - 1000,
    source_kind: 'ipfix',
    exporter_address: exporters[Math.floor(rnd() * exporters.length)]!,
    observation_domain: 1,
    observation_point: 'dpu',
    src_addr: '',
    dst_addr: '',
    src_port: 0,
    dst_port: 0,
    protocol: 6,
    bytes: 0,
    packets: 0,
    tcp_flags: 0x18,
    sampling_rate: 1,
    direction: 'egress',
  };
}

export class SyntheticCluster {
  private readonly rnd: () => number;
  private readonly incidentRate: number;
  private readonly now: () => number;
  private readonly training: Required<Host>[];
  /** Job of each training node, by index. */
  private readonly jobOf: Job[];
  private readonly rails: number;
  /** The first two serving nodes (inf01 and inf02 in the example): the serving-to-training sources. */
  private readonly serving: string[];
  private readonly storage: string[];
  private readonly dns: string[];
  private readonly proxies: string[];
  private readonly exporters: string[];
  private readonly incidents: Incident[];

  constructor(inventory: Inventory, opts: SyntheticOptions = {}) {
    this.rnd = mulberry32(opts.seed ?? 42);
    this.incidentRate = opts.incidentRate ?? 0.002;
    this.now = opts.now ?? Date.now;
    const hosts = hostsOf(inventory);
    const { training, jobs } = trainingOf(hosts);
    this.training = training;
    this.jobOf = jobs.flatMap((j) => Array<Job>(j.count).fill(j));
    this.rails = this.training.reduce((n, h) => Math.min(n, h.rails.length), Infinity);
    const fromZones = [...new Set(this.training.map((h) => inventory.zoneOf(h.frontend)))];
    const reachable = (addr: string, protocol: number, port: number) =>
      fromZones.every((z) => inventory.allows(z, inventory.zoneOf(addr), protocol, port));
    const frontends = (keep: (h: Host, addr: string) => boolean) =>
      hosts.flatMap((h) => (h.frontend !== undefined && keep(h, h.frontend) ? [h.frontend] : []));
    this.serving = frontends((h) => h.role === 'gpu' && h.rails.length === 0).slice(0, 2);
    this.storage = frontends((h, a) => h.role === 'storage' && reachable(a, PROTOCOLS.tcp, 2049));
    this.dns = frontends((h, a) => h.role === 'service' && reachable(a, PROTOCOLS.udp, 53));
    this.proxies = frontends((_, a) => inventory.isProxy(a) && reachable(a, PROTOCOLS.tcp, 3128));
    const missing = Object.entries({ storage: this.storage, DNS: this.dns, proxy: this.proxies })
      .filter(([, addrs]) => addrs.length === 0).map(([what]) => what);
    if (missing.length > 0) throw new Error(`synthetic cluster: the inventory has no ${missing.join(', ')} that its training nodes may reach`);
    const dpus = hosts.flatMap((h) => (h.role === 'dpu' && h.oob !== undefined ? [h.oob] : []));
    this.exporters = dpus.length > 0 ? dpus : this.training.map((h) => h.oob);
    const podNetwork = [POD_SRC, POD_DST].every((a) => inventory.zoneOf(a) !== inventory.defaultZone);
    this.incidents = SyntheticCluster.INCIDENTS.filter((k) => (k !== 'serving-to-training' || this.serving.length > 0)
      && (k !== 'policy-denied' || podNetwork));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  /** The training node at the place gpu(k+1) holds among the 64 of the example inventory. */
  private at(k: number): Required<Host> {
    return this.training[Math.floor((k * this.training.length) / 64)]!;
  }

  /** One normal flow. */
  flow(): Flow {
    const r = this.rnd;
    const f = base(this.now(), r, this.exporters);
    const src = Math.floor(r() * this.training.length);
    const node = this.training[src]!;
    const kind = r();
    if (kind < 0.8) {
      // RoCEv2 collective traffic on one rail, between two nodes of the same job.
      const job = this.jobOf[src]!;
      const dst = job.first + ((src - job.first + 1 + Math.floor(r() * (job.count - 1))) % job.count);
      const rail = Math.floor(r() * this.rails);
      f.src_addr = node.rails[rail]!;
      f.dst_addr = this.training[dst]!.rails[rail]!;
      f.protocol = 17;
      f.src_port = 49152 + Math.floor(r() * 16384);
      f.dst_port = 4791;
      f.tcp_flags = 0;
      f.packets = 50_000 + Math.floor(r() * 200_000);
      f.bytes = f.packets * 4096;
    } else if (kind < 0.93) {
      f.src_addr = node.frontend;
      f.dst_addr = this.pick(this.storage);
      f.src_port = 32768 + Math.floor(r() * 28000);
      f.dst_port = 2049;
      f.packets = 1000 + Math.floor(r() * 20000);
      f.bytes = f.packets * 1400;
    } else if (kind < 0.98) {
      f.src_addr = node.frontend;
      f.dst_addr = this.dns[src % this.dns.length]!;
      f.protocol = 17;
      f.src_port = 32768 + Math.floor(r() * 28000);
      f.dst_port = 53;
      f.packets = 2;
      f.bytes = 180;
      f.tcp_flags = 0;
    } else {
      f.src_addr = node.frontend;
      f.dst_addr = this.proxies[src % this.proxies.length]!;
      f.src_port = 32768 + Math.floor(r() * 28000);
      f.dst_port = 3128;
      f.packets = 20 + Math.floor(r() * 200);
      f.bytes = f.packets * 900;
    }
    return f;
  }

  /** One flow of a planted incident; throws for one this inventory cannot hold (see the header). */
  incident(kind: Incident): Flow {
    if (!this.incidents.includes(kind)) throw new Error(`synthetic cluster: no ${kind} incident in this inventory`);
    const r = this.rnd;
    const f = base(this.now(), r, this.exporters);
    f.src_port = 32768 + Math.floor(r() * 28000);
    switch (kind) {
      case 'cross-job': {
        // gpu007 (first job) reaches into the second job over rail 3.
        const rail = Math.min(3, this.rails - 1);
        f.src_addr = this.at(6).rails[rail]!;
        f.dst_addr = this.at(40).rails[rail]!;
        f.dst_port = 22;
        f.packets = 40;
        f.bytes = 6000;
        break;
      }
      case 'tenant-to-bmc': {
        f.src_addr = this.at(11).frontend;
        f.dst_addr = this.at(30).oob;
        f.protocol = 17;
        f.dst_port = 623;
        f.packets = 12;
        f.bytes = 1100;
        break;
      }
      case 'serving-to-training': {
        f.src_addr = this.pick(this.serving);
        f.dst_addr = this.at(20).frontend;
        f.dst_port = 29500;
        f.packets = 300;
        f.bytes = 90_000;
        break;
      }
      case 'proxy-bypass': {
        // A large direct upload from gpu052 to the internet: weights leaving without the proxy.
        f.src_addr = this.at(51).frontend;
        f.dst_addr = INTERNET;
        f.dst_port = 443;
        f.packets = 2_000_000;
        f.bytes = 2_800_000_000;
        break;
      }
      case 'policy-denied': {
        f.source_kind = 'hubble';
        f.observation_point = 'hubble';
        f.src_addr = POD_SRC;
        f.dst_addr = POD_DST;
        f.dst_port = 5432;
        f.bytes = null;
        f.packets = null;
        f.src_namespace = 'ai-training';
        f.src_pod = `trainer-${JOBS[1].id}-worker-3`;
        f.dst_namespace = 'prod';
        f.dst_pod = 'orders-db-0';
        f.verdict = 'DROPPED';
        f.drop_reason = 'POLICY_DENIED';
        break;
      }
    }
    return f;
  }

  static readonly INCIDENTS: readonly Incident[] = ['cross-job', 'tenant-to-bmc', 'serving-to-training', 'proxy-bypass', 'policy-denied'];

  next(): Flow {
    return this.rnd() < this.incidentRate ? this.incident(this.pick(this.incidents)) : this.flow();
  }

  batch(n: number): Flow[] {
    return Array.from({ length: n }, () => this.next());
  }
}
