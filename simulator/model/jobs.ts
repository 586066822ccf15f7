/**
 * The jobs on the training nodes: the scenario's explicit jobs, and an automatic stream on a pool of nodes.
 *
 * Explicit jobs: a hostlist, or a count taken from the training nodes that are neither in the pool nor held by
 * an explicit job overlapping in time (inventory order, hostlist jobs placed first), so a job that starts after
 * another ended gets its nodes. Ranks follow inventory order, as Slurm's do; rank 0 hosts the TCPStore.
 *
 * The stream: the pool (the last `autoJobs.nodes` training nodes) is cut into lanes of the largest job size.
 * Time is cut into periods of `meanDuration` counted from the epoch; in lane l the period k boundary falls at
 * k * P + (a hash of l and k) * P / 2, so every job, its size, nodes, pattern and id follow from (l, k) alone and
 * any range can be answered without replaying history. Between two boundaries a lane runs lane-size / size jobs
 * of one size side by side, starting `gap` after the boundary; the next period's jobs reuse the nodes. Job
 * lengths fall between P / 2 - gap and 3P / 2 - gap. Stream jobs are Slurm jobs with numeric ids.
 */
import type { AllocationEventInput } from '../../allocations/event';
import { compressHostlist, expandHostlist } from '../../inventory/hostlist';
import type { PodEndpoint } from '../events';
import type { JobPattern, Scenario } from '../scenario';
import { addressIn, cidrSize, type ClusterView, type TrainingHost } from './hosts';
import { hash32, unit } from './random';

export interface Pod {
  name: string;
  ip: string;
  endpoint: PodEndpoint;
}

export interface Job {
  id: string;
  scheduler: 'slurm' | 'kubernetes';
  pattern: JobPattern;
  start: number;
  end?: number;
  /** Rank order. */
  hosts: TrainingHost[];
  /** One per rank, for a Kubernetes job (a PyTorchJob: master-0, then worker-0...). */
  pods?: Pod[];
  checkpointEvery?: number;
  /** all-to-all: consecutive ranks per expert-parallel group. */
  expertGroup: number;
  /** pipeline-parallel: stages of equal size, consecutive ranks each. */
  stages: number;
}

/** Pod addresses per node in the training pod network (simulator/cluster.ts's plan). */
const PODS_PER_NODE = 16;
const JOB_LABEL = 'training.kubeflow.org/job-name';

/** The default stages of a pipeline: 4, or the largest count below that divides the nodes. */
function defaultStages(n: number): number {
  let s = Math.min(4, n);
  while (n % s !== 0) s--;
  return s;
}

interface Auto {
  pool: TrainingHost[];
  laneSize: number;
  lanes: number;
  sizes: number[];
  period: number;
  gap: number;
  patterns: readonly JobPattern[];
  checkpointEvery?: number;
}

export class JobSchedule {
  readonly explicit: Job[] = [];
  private readonly auto?: Auto;
  /** Stream jobs already built, so callers may cache per job object (cleared when it grows). */
  private readonly autoCache = new Map<string, Job>();
  private readonly trainingIndex: Map<string, number>;

  constructor(private readonly view: ClusterView, s: Scenario, start: number, private readonly seed: number, problems: string[]) {
    const training = view.training;
    this.trainingIndex = new Map(training.map((h, i) => [h.name, i]));
    const poolSize = s.autoJobs?.nodes ?? 0;
    if (poolSize > training.length) problems.push(`autoJobs.nodes: ${poolSize} asked, the cluster has ${training.length} training nodes`);
    const pool = new Set(training.slice(Math.max(0, training.length - poolSize)).map((h) => h.name));

    const held: { names: Set<string>; start: number; end: number }[] = [];
    const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;
    const resolved = new Map<number, TrainingHost[]>();
    const order = s.jobs.map((_, i) => i).sort((a, b) => Number(typeof s.jobs[a]!.nodes === 'number') - Number(typeof s.jobs[b]!.nodes === 'number'));
    for (const i of order) {
      const j = s.jobs[i]!;
      const span = { start: start + j.start, end: j.end === undefined ? Infinity : start + j.end };
      const busy = new Set(held.filter((h) => overlaps(h, span)).flatMap((h) => [...h.names]));
      let hosts: TrainingHost[];
      if (typeof j.nodes === 'string') {
        const names = expandHostlist(j.nodes);
        const bad = names.filter((n) => !this.trainingIndex.has(n));
        if (bad.length > 0) problems.push(`jobs.${i}.nodes: not training nodes of this cluster: ${compressHostlist(bad)}`);
        const taken = names.filter((n) => pool.has(n) || busy.has(n));
        if (taken.length > 0) problems.push(`jobs.${i}.nodes: ${compressHostlist(taken)} already belong to autoJobs or to another job then`);
        hosts = names.filter((n) => this.trainingIndex.has(n)).map((n) => training[this.trainingIndex.get(n)!]!);
      } else {
        const free = training.filter((h) => !pool.has(h.name) && !busy.has(h.name));
        if (free.length < j.nodes) problems.push(`jobs.${i}.nodes: ${j.nodes} nodes asked, ${free.length} free from ${j.start / 1000}s to ${j.end === undefined ? 'the end' : `${j.end / 1000}s`}`);
        hosts = free.slice(0, j.nodes);
      }
      hosts.sort((a, b) => this.trainingIndex.get(a.name)! - this.trainingIndex.get(b.name)!);
      held.push({ names: new Set(hosts.map((h) => h.name)), ...span });
      resolved.set(i, hosts);
    }
    s.jobs.forEach((j, i) => {
      const hosts = resolved.get(i)!;
      const n = hosts.length;
      const stages = j.stages ?? defaultStages(n);
      if (j.pattern === 'pipeline-parallel' && n % stages !== 0) problems.push(`jobs.${i}.stages: ${n} nodes do not split into ${stages} equal stages`);
      const job: Job = {
        id: j.id, scheduler: j.scheduler, pattern: j.pattern, start: start + j.start, hosts,
        expertGroup: j.expertGroup ?? Math.min(8, n), stages,
        ...(j.end !== undefined ? { end: start + j.end } : {}),
        ...(j.checkpointEvery !== undefined ? { checkpointEvery: j.checkpointEvery } : {}),
      };
      if (j.scheduler === 'kubernetes') job.pods = this.podsOf(job, s.cluster.podCidr, `jobs.${i}`, problems);
      this.explicit.push(job);
    });

    if (s.autoJobs && poolSize <= training.length) {
      const a = s.autoJobs;
      const laneSize = Math.max(...a.sizes);
      if (laneSize > poolSize) problems.push(`autoJobs.sizes: a job of ${laneSize} nodes does not fit in the pool of ${poolSize}`);
      this.auto = {
        pool: training.filter((h) => pool.has(h.name)), laneSize, lanes: Math.floor(poolSize / laneSize), sizes: a.sizes,
        period: a.meanDuration, gap: a.gap, patterns: a.patterns, ...(a.checkpointEvery !== undefined ? { checkpointEvery: a.checkpointEvery } : {}),
      };
      if (a.gap >= a.meanDuration / 2) problems.push('autoJobs.gap: must be shorter than half of meanDuration');
    }
  }

  /** Pods of a Kubernetes job: a /28-sized block of the pod network per node (node i: the i-th block). */
  private podsOf(job: Job, cidr: string, key: string, problems: string[]): Pod[] {
    const [namespace, name] = job.id.split('/') as [string, string];
    const slot = 1 + (hash32(job.id) % (PODS_PER_NODE - 2));
    const inv = this.view.inventory;
    const beyond = job.hosts.find((h) => (this.trainingIndex.get(h.name)! + 1) * PODS_PER_NODE > cidrSize(cidr));
    if (beyond) problems.push(`cluster.podCidr: ${cidr} has no pod addresses for ${beyond.name} (16 a node, in training node order)`);
    return job.hosts.map((h, rank) => {
      const ip = addressIn(cidr, this.trainingIndex.get(h.name)! * PODS_PER_NODE + slot);
      if (rank === 0 && inv.zoneOf(ip) !== inv.zoneOf(h.frontend)) {
        problems.push(`cluster.podCidr: pod address ${ip} is in zone ${inv.zoneOf(ip)}, not in the zone of its node (${inv.zoneOf(h.frontend)}): ${key}'s pod traffic would cross zones`);
      }
      const type = rank === 0 ? 'master' : 'worker';
      const index = rank === 0 ? 0 : rank - 1;
      const pod = `${name}-${type}-${index}`;
      return {
        name: pod, ip,
        endpoint: {
          namespace, pod, node: h.name,
          labels: { [JOB_LABEL]: name, 'training.kubeflow.org/replica-type': type, 'training.kubeflow.org/replica-index': String(index) },
          workload: { name, kind: 'PyTorchJob' },
        },
      };
    });
  }

  /** Jobs whose time overlaps [from, to] (both ends included): explicit ones first, then the stream's. */
  overlapping(from: number, to: number): Job[] {
    const out = this.explicit.filter((j) => j.start <= to && (j.end ?? Infinity) >= from);
    const a = this.auto;
    if (!a) return out;
    if (this.autoCache.size > 20_000) this.autoCache.clear();
    const boundary = (l: number, k: number) => k * a.period + Math.floor(unit(this.seed, 'lane', l, k) * (a.period / 2));
    for (let l = 0; l < a.lanes; l++) {
      for (let k = Math.floor(from / a.period) - 2; k * a.period <= to; k++) {
        const start = boundary(l, k) + a.gap;
        const end = boundary(l, k + 1);
        if (start > to || end < from) continue;
        const size = a.sizes[hash32(this.seed, 'size', l, k) % a.sizes.length]!;
        for (let j = 0; j < Math.floor(a.laneSize / size); j++) {
          const key = `${l}:${k}:${j}`;
          let job = this.autoCache.get(key);
          if (!job) {
            const hosts = a.pool.slice(l * a.laneSize + j * size, l * a.laneSize + (j + 1) * size);
            job = {
              id: String((k * a.lanes + l) * a.laneSize + j), scheduler: 'slurm', pattern: a.patterns[hash32(this.seed, 'pattern', l, k, j) % a.patterns.length]!,
              start, end, hosts, expertGroup: Math.min(8, size), stages: defaultStages(size),
              ...(a.checkpointEvery !== undefined ? { checkpointEvery: a.checkpointEvery } : {}),
            };
            this.autoCache.set(key, job);
          }
          out.push(job);
        }
      }
    }
    return out;
  }

  /** The job holding a node at t. */
  holder(node: string, t: number): Job | undefined {
    return this.overlapping(t, t).find((j) => j.start <= t && t < (j.end ?? Infinity) && j.hosts.some((h) => h.name === node));
  }

  /** The allocation event a scheduler hook publishes when the job starts, or (`ended`) when it ends. */
  static allocation(job: Job, ended: boolean): AllocationEventInput {
    const who = job.pods
      ? { pods: job.pods.map((p) => ({ name: p.name, node: p.endpoint.node, ip: p.ip })) }
      : { nodes: compressHostlist(job.hosts.map((h) => h.name)) };
    return {
      job_id: job.id, ...who, start: job.start, pattern: job.pattern, source: job.scheduler,
      ...(ended && job.end !== undefined ? { end: job.end } : {}),
    };
  }
}
