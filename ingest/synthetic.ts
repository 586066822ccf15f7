/**
 * A synthetic source of raw flows (as collectors emit them, before enrichment) from the 64-node
 * rail-optimized training cluster of inventory/example-64-nodes.yaml, with its jobs as allocations: collective
 * traffic on the back-end rails within each job, storage reads, DNS, egress through the proxy, plus a few
 * planted incidents (cross-job talk, tenant to BMC, serving to training, egress that bypasses the proxy,
 * policy-denied drops). It feeds `eastwatch demo`, `eastwatch produce` and the benchmarks; seeded, so every
 * run is the same.
 */
import type { AllocationEventInput } from '../allocations/event';
import type { Flow } from '../core/flow';
import { compressHostlist } from '../inventory/hostlist';

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

export const NODES = 64;
export const RAILS = 8;
// Addressing of inventory/example-64-nodes.yaml: gpuNNN is 10.30.1.NNN, rail r 10.200.r.NNN, BMC 10.250.1.NNN.
export const nodeName = (i: number) => `gpu${String(i + 1).padStart(3, '0')}`;
export const railAddr = (node: number, rail: number) => `10.200.${rail}.${node + 1}`;
export const frontAddr = (node: number) => `10.30.1.${node + 1}`;
export const bmcAddr = (node: number) => `10.250.1.${node + 1}`;
const STORAGE = ['10.40.0.11', '10.40.0.12', '10.40.0.13', '10.40.0.14'];
const DNS = '10.245.0.53';
const PROXY = '10.10.0.10';
const INFERENCE = ['10.20.1.1', '10.20.1.2'];
/** The DPUs' management addresses (gpuNNN-dpu). */
const EXPORTERS = ['10.250.5.1', '10.250.5.2', '10.250.5.3', '10.250.5.4'];

/** Jobs as contiguous node ranges, with the collective pattern each runs. */
export const JOBS = [
  { id: '88213', first: 0, count: 16, pattern: 'ring' },
  { id: '88214', first: 16, count: 32, pattern: 'all-to-all' },
  { id: '88215', first: 48, count: 16, pattern: 'tree' },
] as const;
const jobOf = (node: number) => JOBS.find((j) => node >= j.first && node < j.first + j.count)!;

/** The jobs as allocation events, running since `since`. */
export const syntheticAllocations = (since: number): AllocationEventInput[] => JOBS.map((j) => ({
  job_id: j.id,
  nodes: compressHostlist(Array.from({ length: j.count }, (_, i) => nodeName(j.first + i))),
  start: since,
  pattern: j.pattern,
  source: 'synthetic',
}));

export type Incident = 'cross-job' | 'tenant-to-bmc' | 'serving-to-training' | 'proxy-bypass' | 'policy-denied';

export interface SyntheticOptions {
  seed?: number;
  /** Fraction of flows that belong to planted incidents. */
  incidentRate?: number;
  now?: () => number;
}

function base(now: number, rnd: () => number): Flow {
  const dur = Math.floor(rnd() * 60_000);
  return {
    time_received: now,
    time_start: now - dur - 1000,
    time_end: now - 1000,
    source_kind: 'ipfix',
    exporter_address: EXPORTERS[Math.floor(rnd() * EXPORTERS.length)]!,
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

  constructor(opts: SyntheticOptions = {}) {
    this.rnd = mulberry32(opts.seed ?? 42);
    this.incidentRate = opts.incidentRate ?? 0.002;
    this.now = opts.now ?? Date.now;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  /** One normal flow. */
  flow(): Flow {
    const r = this.rnd;
    const f = base(this.now(), r);
    const src = Math.floor(r() * NODES);
    const kind = r();
    if (kind < 0.8) {
      // RoCEv2 collective traffic on one rail, between two nodes of the same job.
      const job = jobOf(src);
      const dst = job.first + ((src - job.first + 1 + Math.floor(r() * (job.count - 1))) % job.count);
      const rail = Math.floor(r() * RAILS);
      f.src_addr = railAddr(src, rail);
      f.dst_addr = railAddr(dst, rail);
      f.protocol = 17;
      f.src_port = 49152 + Math.floor(r() * 16384);
      f.dst_port = 4791;
      f.tcp_flags = 0;
      f.packets = 50_000 + Math.floor(r() * 200_000);
      f.bytes = f.packets * 4096;
    } else if (kind < 0.93) {
      f.src_addr = frontAddr(src);
      f.dst_addr = this.pick(STORAGE);
      f.src_port = 32768 + Math.floor(r() * 28000);
      f.dst_port = 2049;
      f.packets = 1000 + Math.floor(r() * 20000);
      f.bytes = f.packets * 1400;
    } else if (kind < 0.98) {
      f.src_addr = frontAddr(src);
      f.dst_addr = DNS;
      f.protocol = 17;
      f.src_port = 32768 + Math.floor(r() * 28000);
      f.dst_port = 53;
      f.packets = 2;
      f.bytes = 180;
      f.tcp_flags = 0;
    } else {
      f.src_addr = frontAddr(src);
      f.dst_addr = PROXY;
      f.src_port = 32768 + Math.floor(r() * 28000);
      f.dst_port = 3128;
      f.packets = 20 + Math.floor(r() * 200);
      f.bytes = f.packets * 900;
    }
    return f;
  }

  /** One flow of a planted incident. */
  incident(kind: Incident): Flow {
    const r = this.rnd;
    const f = base(this.now(), r);
    f.src_port = 32768 + Math.floor(r() * 28000);
    switch (kind) {
      case 'cross-job': {
        // gpu007 (job 88213) reaches into job 88214 over rail 3.
        f.src_addr = railAddr(6, 3);
        f.dst_addr = railAddr(40, 3);
        f.dst_port = 22;
        f.packets = 40;
        f.bytes = 6000;
        break;
      }
      case 'tenant-to-bmc': {
        f.src_addr = frontAddr(11);
        f.dst_addr = bmcAddr(30);
        f.protocol = 17;
        f.dst_port = 623;
        f.packets = 12;
        f.bytes = 1100;
        break;
      }
      case 'serving-to-training': {
        f.src_addr = this.pick(INFERENCE);
        f.dst_addr = frontAddr(20);
        f.dst_port = 29500;
        f.packets = 300;
        f.bytes = 90_000;
        break;
      }
      case 'proxy-bypass': {
        // A large direct upload from gpu052 to the internet: weights leaving without the proxy.
        f.src_addr = frontAddr(51);
        f.dst_addr = '198.51.100.7';
        f.dst_port = 443;
        f.packets = 2_000_000;
        f.bytes = 2_800_000_000;
        break;
      }
      case 'policy-denied': {
        f.source_kind = 'hubble';
        f.observation_point = 'hubble';
        f.src_addr = '10.244.3.17';
        f.dst_addr = '10.96.0.12';
        f.dst_port = 5432;
        f.bytes = null;
        f.packets = null;
        f.src_namespace = 'ai-training';
        f.src_pod = 'trainer-88214-worker-3';
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
    return this.rnd() < this.incidentRate ? this.incident(this.pick(SyntheticCluster.INCIDENTS)) : this.flow();
  }

  batch(n: number): Flow[] {
    return Array.from({ length: n }, () => this.next());
  }
}
