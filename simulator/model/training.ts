/**
 * The traffic of training jobs, per job and time slot:
 *
 * - collectives: RoCEv2 (UDP 4791) between the back-end NICs of the ranks collective.ts pairs, rail-aligned
 *   (NIC i to NIC i), each queue pair a long-lived flow with its own entropy source port, from 10 s after the
 *   job starts (rendezvous and NCCL init first) to its end; a NIC averages 12.5 GB/s (a quarter of 400 Gb/s)
 *   split over its queue pairs;
 * - the c10d rendezvous (29400) in the first 3 s, then a TCPStore connection (29500), from every rank to rank
 *   0's front end;
 * - data loading: each rank keeps connections to two storage nodes over the job's storage protocol (Lustre
 *   988, NFS 2049 or S3 443, whichever the allow list permits, picked per job) and sends 20 MB/s on them;
 * - checkpoints every `checkpointEvery`: a 45 s burst per rank on fresh connections to the same storage nodes,
 *   at ten times the normal rate;
 * - rank 0 reporting metrics through the egress proxy to an approved host, once a minute on average.
 *
 * Records carry what their sender sent, in its direction only (IPFIX flows are one-way; replies are not
 * modelled). A Kubernetes job's front-end traffic leaves from its pods' addresses and is seen by Hubble; its
 * RoCE traffic uses the NICs (SR-IOV) like a Slurm job's and is exported by the DPU.
 */
import type { SimEvent } from '../events';
import { collectiveEdges, type Edge } from './collective';
import { flowEvent, type FlowEvent, type FlowPath, recordFlags, ROCE_PORT, roceSourcePort, TCP, UDP } from './flows';
import type { FrontHost } from './hosts';
import type { Job } from './jobs';
import { hash32, Rng, unit } from './random';
import { type Phased, Ticker } from './ticker';
import type { World } from './world';

const NIC_BYTES_PER_MS = 12.5e6;
const DATA_BYTES_PER_MS = 20e3;
const STORE_BYTES_PER_MS = 0.2;
const CHECKPOINT_MS = 45_000;
const CHECKPOINT_FACTOR = 10;
const EGRESS_PER_MS = 1 / 60_000;
/** When each long-lived flow opens, after the job starts. */
const BORN = { roce: 10_000, store: 2_000, data: 5_000 } as const;
const RENDEZVOUS_MS = 3_000;
export const STORE_PORT = 29500;
export const RENDEZVOUS_PORT = 29400;
const STORAGE_PORTS = [988, 2049, 443];

/** A rank's front end: its node's address, or its pod's for a Kubernetes job. */
export interface Front {
  addr: string;
  path: FlowPath;
}

interface Stream extends Phased {
  kind: keyof typeof BORN;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  protocol: number;
  packetSize: number;
  bytesPerMs: number;
  path: FlowPath;
}

export interface Plan {
  edges: Edge[];
  fronts: Front[];
  /** Storage nodes of each rank, and the port the job reaches them on (none when storage is unreachable). */
  storage: FrontHost[][];
  dataPort?: number;
  streams: Ticker<Stream>;
}

export class TrainingTraffic {
  private readonly plans = new WeakMap<Job, Plan>();

  constructor(private readonly w: World) {}

  private front(job: Job, rank: number, to?: number): Front {
    const h = job.hosts[rank]!;
    const pod = job.pods?.[rank];
    if (!pod) return { addr: h.frontend, path: h.route };
    const dst = to === undefined ? undefined : job.pods![to]!.endpoint;
    return { addr: pod.ip, path: { via: 'hubble', hubble: { src: pod.endpoint, ...(dst ? { dst } : {}), verdict: 'FORWARDED', node: h.name } } };
  }

  plan(job: Job): Plan {
    const cached = this.plans.get(job);
    if (cached) return cached;
    const { seed, view, exportInterval: E } = this.w;
    const n = job.hosts.length;
    const edges = collectiveEdges(job.pattern, n, job);
    const fronts = job.hosts.map((_, r) => this.front(job, r));
    const streams: Stream[] = [];
    const phase = (...k: (string | number)[]) => hash32(seed, job.id, ...k) % E;

    const qpsOut = new Array<number>(n).fill(0);
    for (const e of edges) qpsOut[e.from]! += e.qps;
    for (const e of edges) {
      const [a, b] = [job.hosts[e.from]!, job.hosts[e.to]!];
      for (let rail = 0; rail < view.rails; rail++) {
        for (let q = 0; q < e.qps; q++) {
          streams.push({
            kind: 'roce', phase: phase('qp', e.from, e.to, rail, q), src: a.rails[rail]!, dst: b.rails[rail]!,
            srcPort: roceSourcePort(hash32(seed, job.id, 'sport', e.from, e.to, rail, q)), dstPort: ROCE_PORT, protocol: UDP,
            packetSize: 4096, bytesPerMs: NIC_BYTES_PER_MS / qpsOut[e.from]!, path: view.backendRoute(a, rail),
          });
        }
      }
    }
    for (let r = 1; r < n; r++) {
      const f = this.front(job, r, 0);
      streams.push({
        kind: 'store', phase: phase('store', r), src: f.addr, dst: fronts[0]!.addr, srcPort: 32768 + (hash32(seed, job.id, 'store-port', r) % 28000),
        dstPort: STORE_PORT, protocol: TCP, packetSize: 120, bytesPerMs: STORE_BYTES_PER_MS, path: f.path,
      });
    }
    const s = view.storage;
    const dataPorts = s.length === 0 ? [] : STORAGE_PORTS.filter((p) => view.allows(fronts[0]!.addr, s[0]!.frontend, TCP, p));
    const dataPort = dataPorts.length === 0 ? undefined : dataPorts[hash32(seed, job.id, 'storage') % dataPorts.length];
    const storage = fronts.map((_, r) => {
      if (dataPort === undefined) return [];
      const first = hash32(seed, job.id, 'storage', r) % s.length;
      return [...new Set([s[first]!, s[(first + 1) % s.length]!])];
    });
    fronts.forEach((f, r) => storage[r]!.forEach((target) => streams.push({
      kind: 'data', phase: phase('data', r, target.name), src: f.addr, dst: target.frontend,
      srcPort: 32768 + (hash32(seed, job.id, 'data-port', r, target.name) % 28000), dstPort: dataPort!, protocol: TCP,
      packetSize: 1400, bytesPerMs: DATA_BYTES_PER_MS / storage[r]!.length, path: f.path,
    })));
    const plan: Plan = { edges, fronts, storage, ...(dataPort !== undefined ? { dataPort } : {}), streams: new Ticker(streams, E) };
    this.plans.set(job, plan);
    return plan;
  }

  /** Everything the jobs running in [from, to) export in it. */
  slot(from: number, to: number, out: SimEvent[]): void {
    for (const job of this.w.schedule.overlapping(from, to)) this.jobSlot(job, from, to, out);
  }

  private jobSlot(job: Job, from: number, to: number, out: SimEvent[]): void {
    const { seed, exportInterval: E, rate } = this.w;
    const s = job.start;
    const e = job.end ?? Infinity;
    if (e < from || s >= to) return;
    const plan = this.plan(job);
    const rng = new Rng(seed, 'job', job.id, from);
    const record = (st: Stream, start: number, end: number, born: number) => out.push(flowEvent({
      start, end, src: st.src, dst: st.dst, srcPort: st.srcPort, dstPort: st.dstPort, protocol: st.protocol,
      bytes: rng.jitter(st.bytesPerMs * (end - start), 0.15), packetSize: st.packetSize, tcpFlags: recordFlags(start, end, born, e),
    }, st.path));
    plan.streams.fires(from, to, (st, t) => {
      const born = s + BORN[st.kind];
      if (t > born && t < e) record(st, Math.max(t - E, born), t, born);
    });
    if (e >= from && e < to) {
      for (const st of plan.streams.all) {
        const born = s + BORN[st.kind];
        if (e <= born) continue;
        const last = e - 1 - ((((e - 1 - st.phase) % E) + E) % E);
        record(st, Math.max(last, born), e, born);
      }
    }

    for (let r = 1; r < job.hosts.length; r++) {
      const t0 = s + Math.floor(unit(seed, job.id, 'rdzv', r) * RENDEZVOUS_MS);
      const t1 = t0 + 200 + Math.floor(unit(seed, job.id, 'rdzv-len', r) * 1300);
      if (t1 < from || t1 >= to || t1 >= e) continue;
      const f = this.front(job, r, 0);
      out.push(flowEvent({
        start: t0, end: t1, src: f.addr, dst: plan.fronts[0]!.addr, srcPort: 32768 + (hash32(seed, job.id, 'rdzv-port', r) % 28000),
        dstPort: RENDEZVOUS_PORT, protocol: TCP, bytes: 2000 + (hash32(seed, job.id, 'rdzv-bytes', r) % 4000), packetSize: 200,
      }, f.path));
    }

    const every = job.checkpointEvery;
    if (every !== undefined) {
      for (let m = Math.max(1, Math.ceil((from - s - 2 * CHECKPOINT_MS) / every)); s + m * every < to; m++) {
        const t0 = s + m * every;
        if (t0 + 2 * CHECKPOINT_MS > e) break;
        for (const ev of this.checkpoint(job, t0, new Rng(seed, job.id, 'checkpoint', m))) if (ev.time >= from && ev.time < to) out.push(ev);
      }
    }

    const lo = Math.max(from, s + BORN.roce);
    const hi = Math.min(to, e);
    if (hi > lo) {
      for (let i = rng.poisson(EGRESS_PER_MS * rate * (hi - lo)); i > 0; i--) {
        const end = lo + rng.int(hi - lo);
        const f = plan.fronts[0]!;
        this.w.egress.request({
          client: f.addr, paths: [f.path], host: rng.pick(this.w.egress.approved), start: end - rng.between(300, 3000), end,
          up: rng.between(20_000, 200_000), down: rng.between(1_000, 10_000), method: 'CONNECT',
        }, rng, out);
      }
    }
  }

  /** One checkpoint burst starting at t0: every rank writes to its storage nodes for about 45 s. */
  checkpoint(job: Job, t0: number, rng: Rng, label?: string): SimEvent[] {
    const plan = this.plan(job);
    const out: SimEvent[] = [];
    plan.fronts.forEach((f, r) => {
      for (const target of plan.storage[r]!) {
        const start = t0 + rng.int(2000);
        const end = start + Math.round(rng.jitter(CHECKPOINT_MS, 0.2));
        out.push(flowEvent({
          start, end, src: f.addr, dst: target.frontend, srcPort: rng.ephemeral(), dstPort: plan.dataPort!, protocol: TCP,
          bytes: (CHECKPOINT_FACTOR * DATA_BYTES_PER_MS * (end - start)) / plan.storage[r]!.length, packetSize: 1400,
          ...(label !== undefined ? { label } : {}),
        }, f.path));
      }
    });
    return out;
  }

  /** Collective records crossing an edge of the allocation: opening `grace` before its start, or closing `grace` after its end. */
  edgeRecords(job: Job, grace: number, edge: 'first' | 'last', label: string): FlowEvent[] {
    const [a, b] = edge === 'first' ? [job.start - grace, job.start + 1000] : [job.end! - 1000, job.end! + grace];
    return this.plan(job).streams.all.filter((st) => st.kind === 'roce').map((st) => flowEvent({
      start: a, end: b, src: st.src, dst: st.dst, srcPort: st.srcPort, dstPort: st.dstPort, protocol: st.protocol,
      bytes: st.bytesPerMs * (b - a), packetSize: st.packetSize, label,
    }, st.path));
  }
}
