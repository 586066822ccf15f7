/**
 * A simulation scenario: a YAML file saying which cluster to model, what runs on it and which attacks and benign
 * traps to inject when. Validated by zod, every problem named by its key (`attacks.2.job: ...`); references
 * between keys (a job an attack names) are checked once every key parses. The model (simulator/model/) checks
 * what needs the inventory (node names, free nodes) and names keys the same way.
 *
 * Times inside a scenario are offsets from `start` ("90s", "-2h", "1h30m"); `duration` is how long the runner
 * plays it. The format, with every default, is in simulator/scenarios/default.yaml.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from '../core/error-text';
import { repoRoot } from '../core/paths';
import { loadInventory } from '../inventory/holder';
import { expandHostlist } from '../inventory/hostlist';
import { Inventory } from '../inventory/inventory';
import { InventorySchema } from '../inventory/schema';
import { APPROVED_EGRESS, clusterInventory, inventoryYaml } from './cluster';
import type { AttackKind, TrapKind } from './events';

/** The scenario the demo plays and the samples come from: the example 64-node cluster, every attack and trap once. */
export const DEFAULT_SCENARIO = path.join(repoRoot(), 'simulator', 'scenarios', 'default.yaml');

export class ScenarioError extends UserError {
  constructor(readonly problems: string[]) {
    super(`invalid scenario:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "10m", "1h30m", "7d", "-2h" to milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^(-?)((?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+)$/.exec(text.trim());
  if (!m) return undefined;
  let ms = 0;
  for (const [, n, unit] of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) ms += Number(n) * UNITS[unit!]!;
  return Math.round(m[1] ? -ms : ms);
}

/** A signed offset from the scenario start (`signed`) or a length (positive). */
const time = (signed: boolean) => z.union([z.string(), z.number()]).transform((s, ctx) => {
  const ms = typeof s === 'number' ? (s === 0 ? 0 : undefined) : parseDuration(s);
  if (ms === undefined || (!signed && ms <= 0)) {
    ctx.addIssue({ code: 'custom', message: `expected ${signed ? 'an offset such as 90s, 10m, -2h' : 'a duration such as 90s, 10m, 7d'}, not ${JSON.stringify(s)}${typeof s === 'number' ? ' (a number needs a unit)' : ''}` });
    return z.NEVER;
  }
  return ms;
});
const offset = () => time(true);
const duration = () => time(false);

/** YAML reads `id: 88213` as a number: job ids are strings either way. */
const jobId = () => z.union([z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'letters, digits, ".", "_", "/" and "-", at most 128'),
  z.number().int().min(0)]).transform(String);
const hostname = () => z.string().regex(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, 'a DNS name such as huggingface.co');
const ipv4 = () => z.string().refine((s) => isIPv4(s), 'not an IPv4 address');
const ipv4Cidr = () => z.string().refine((s) => {
  const [a, len] = s.split('/');
  return isIPv4(a ?? '') && /^\d{1,2}$/.test(len ?? '') && Number(len) <= 30;
}, 'expected an IPv4 CIDR such as 10.244.0.0/16');
const count = (max: number) => z.number().int().min(1).max(max);
const rate = () => z.number().min(0).max(1e6);

/** Collective patterns a job may run (core/records PATTERNS less 'unknown'). */
export const JOB_PATTERNS = ['ring', 'tree', 'all-to-all', 'data-parallel', 'pipeline-parallel', 'tensor-parallel'] as const;
export type JobPattern = (typeof JOB_PATTERNS)[number];

const JobSchema = z.strictObject({
  /** Slurm job id, or `namespace/name` for a Kubernetes job (as the Kubernetes adapter names jobs). */
  id: jobId(),
  /** A count (taken from the free training nodes, in inventory order) or a hostlist. */
  nodes: z.union([count(100_000), z.string().min(1).max(65_536)]),
  pattern: z.enum(JOB_PATTERNS),
  start: offset().default(0),
  /** Omitted: the job outlives the scenario. */
  end: offset().optional(),
  checkpointEvery: duration().optional(),
  scheduler: z.enum(['slurm', 'kubernetes']).default('slurm'),
  /** all-to-all: nodes per expert-parallel group (default: the whole job, at most 8). */
  expertGroup: count(4096).optional(),
  /** pipeline-parallel: stages (default 4, or fewer for a small job); the node count must divide by it. */
  stages: count(4096).optional(),
}).superRefine((j, ctx) => {
  if (j.end !== undefined && j.end <= j.start) ctx.addIssue({ code: 'custom', path: ['end'], message: 'not after start' });
  if (j.scheduler === 'kubernetes' && !/^[a-z0-9-]+\/[a-z0-9.-]+$/.test(j.id)) {
    ctx.addIssue({ code: 'custom', path: ['id'], message: 'a Kubernetes job is named namespace/name (e.g. ai-training/llm-pretrain)' });
  }
  if (typeof j.nodes === 'string') {
    try {
      expandHostlist(j.nodes, { maxHosts: 100_000 });
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['nodes'], message: (e as Error).message });
    }
  }
});

/** Jobs starting and ending on their own on a pool of nodes; see model/jobs.ts for how they are laid out. */
const AutoJobsSchema = z.strictObject({
  /** Training nodes given to the stream: the last ones in inventory order. */
  nodes: count(100_000),
  sizes: z.array(count(4096)).min(1).default([2, 4, 8]),
  /** Jobs last between half and one and a half times this. */
  meanDuration: duration().default(3_600_000),
  /** Idle time between a job and the next one on the same nodes. */
  gap: duration().default(30_000),
  patterns: z.array(z.enum(JOB_PATTERNS)).min(1).default(['ring', 'tree', 'all-to-all', 'data-parallel']),
  checkpointEvery: duration().optional(),
});

const InferenceSchema = z.strictObject({
  pods: z.number().int().min(0).max(100_000).default(16),
  /** New client connections from the gateways per second, whole tier, at the daily peak on a weekday. */
  peakConnectionsPerSecond: rate().default(2),
  /** Requests the pods send out through the egress proxy per second, whole tier, at the peak. */
  peakEgressPerSecond: rate().default(0.2),
  /** Hour of the daily peak, UTC. */
  peakHour: z.number().min(0).max(24).default(15),
  /** Load at the daily low, as a fraction of the peak. */
  trough: z.number().min(0).max(1).default(0.3),
  /** Load on Saturdays and Sundays, as a fraction of weekdays. */
  weekend: z.number().min(0).max(1).default(0.6),
  /** Pod addresses (inside the inference zone). */
  podCidr: ipv4Cidr().default('10.20.128.0/17'),
});

const RatesSchema = z.strictObject({
  /** The exporters' active timeout: a long-lived flow (a QP, a storage or API connection) is one record this often. */
  exportInterval: duration().refine((ms) => ms >= 1000, 'at least 1s').default(60_000),
  /** DNS queries per second per node, each its own flow. */
  dnsPerNode: rate().default(0.05),
  /** Administrators' SSH sessions from the jump host, per hour, whole cluster. */
  adminSshPerHour: rate().default(2),
});

const ClusterSchema = z.strictObject({
  /** An inventory file, relative to the scenario file. */
  inventory: z.string().min(1).optional(),
  /** Or an inventory generated by simulator/cluster.ts. */
  generate: z.strictObject({
    nodes: count(4096),
    rails: count(16),
    inference: count(4096).optional(),
    storage: count(4096).optional(),
  }).optional(),
  /** Pod addresses of the training Kubernetes cluster: 16 per node, node i from the i-th block of 16. */
  podCidr: ipv4Cidr().default('10.244.0.0/16'),
}).refine((c) => (c.inventory === undefined) !== (c.generate === undefined), 'give either inventory or generate');

/** The node an incident starts from: a node by name, or a member of a job (picked by the seed). */
const source = { node: z.string().min(1).optional(), job: jobId().optional() };
const at = { id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64').optional(), at: offset() };

const AttackSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('lateral-ssh'), ...at, ...source, duration: duration().default(60_000), targets: count(256).default(3) }),
  z.strictObject({
    kind: z.literal('scan'), ...at, ...source, duration: duration().default(60_000), targets: count(4096).default(64),
    ports: z.array(z.number().int().min(1).max(65535)).min(1).max(1024).default([22, 80, 443, 2049, 3306, 5432, 6443, 8080, 9100, 10250]),
  }),
  /** `node` omitted: a training node outside the job; a member of the job sends to its non-neighbours. */
  z.strictObject({ kind: z.literal('collective-intruder'), ...at, job: jobId(), node: z.string().min(1).optional(), duration: duration().default(60_000), targets: count(256).default(4) }),
  z.strictObject({ kind: z.literal('rail-crossing'), ...at, job: jobId(), node: z.string().min(1).optional(), duration: duration().default(60_000) }),
  z.strictObject({ kind: z.literal('bmc-access'), ...at, ...source, duration: duration().default(30_000), targets: count(256).default(3) }),
  z.strictObject({ kind: z.literal('exfil-proxy-slow'), ...at, ...source, duration: duration().default(6 * 3_600_000), host: hostname().default('sync.example.net'), bytes: count(1e13).default(2e9) }),
  z.strictObject({ kind: z.literal('exfil-proxy-fast'), ...at, ...source, duration: duration().default(300_000), host: hostname().default('files.example.org'), bytes: count(1e13).default(50e9) }),
  z.strictObject({ kind: z.literal('proxy-bypass'), ...at, ...source, duration: duration().default(120_000), address: ipv4().default('198.51.100.7'), port: z.number().int().min(1).max(65535).default(443), bytes: count(1e13).default(5e9) }),
  z.strictObject({ kind: z.literal('policy-denied'), ...at, job: jobId(), duration: duration().default(60_000), address: ipv4().default('198.51.100.9'), port: z.number().int().min(1).max(65535).default(443), attempts: count(10_000).default(12) }),
  /** `node` omitted: the first weights-enclave node; `target` omitted: a training node. */
  z.strictObject({ kind: z.literal('weights-new-destination'), ...at, node: z.string().min(1).optional(), target: z.string().min(1).optional(), duration: duration().default(120_000), port: z.number().int().min(1).max(65535).default(443), bytes: count(1e13).default(20e9) }),
]);

const TrapSchema = z.discriminatedUnion('kind', [
  /** One more checkpoint of the job, at `at`, besides its periodic ones. */
  z.strictObject({ kind: z.literal('checkpoint-burst'), ...at, job: jobId() }),
  z.strictObject({ kind: z.literal('approved-model-upload'), ...at, ...source, duration: duration().default(300_000), host: hostname(), bytes: count(1e13).default(200e9) }),
  /** The job's collective traffic begins `grace` before its allocation starts and ends `grace` after it ends. */
  z.strictObject({ kind: z.literal('job-edges'), id: at.id, job: jobId(), grace: duration().default(5_000) }),
  /** The node's DPU holds back what it exports during [at, at + duration] and sends it `delay` later. */
  z.strictObject({ kind: z.literal('late-flows'), ...at, ...source, duration: duration().default(30_000), delay: duration().default(90_000) }),
  /** A node of job `from` (ending) that job `to` (starting after) takes over; labels its first `window` in `to`. */
  z.strictObject({ kind: z.literal('node-reassigned'), id: at.id, from: jobId(), to: jobId(), node: z.string().min(1).optional(), window: duration().default(60_000) }),
]);

export const ScenarioSchema = z.strictObject({
  seed: z.number().int().min(0).max(2 ** 32 - 1),
  /** Absent: the runner picks it (now, say). */
  start: z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)).optional(),
  duration: duration(),
  cluster: ClusterSchema,
  rates: RatesSchema.default(RatesSchema.parse({})),
  jobs: z.array(JobSchema).default([]),
  autoJobs: AutoJobsSchema.optional(),
  inference: InferenceSchema.default(InferenceSchema.parse({})),
  /** Hosts the egress proxy lets through: normal egress goes only here. */
  egress: z.strictObject({ approved: z.array(hostname()).min(1).max(200) })
    .default({ approved: [...APPROVED_EGRESS] }),
  attacks: z.array(AttackSchema).default([]),
  traps: z.array(TrapSchema).default([]),
}).superRefine((s, ctx) => {
  const issue = (p: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: p, message });
  const jobs = new Map<string, (typeof s.jobs)[number]>();
  s.jobs.forEach((j, i) => {
    if (jobs.has(j.id)) issue(['jobs', i, 'id'], `job ${j.id} is defined twice`);
    jobs.set(j.id, j);
  });
  const approved = new Set(s.egress.approved);
  const ids = new Set<string>();
  const refs = (list: 'attacks' | 'traps', i: number, e: Record<string, unknown>) => {
    for (const key of ['job', 'from', 'to'] as const) {
      if (typeof e[key] === 'string' && !jobs.has(e[key])) issue([list, i, key], `no job ${e[key]} in jobs`);
    }
    if ('node' in e && 'job' in e && e.node !== undefined && e.job !== undefined && e.kind !== 'collective-intruder' && e.kind !== 'rail-crossing') {
      issue([list, i], 'give node or job, not both');
    }
  };
  s.attacks.forEach((a, i) => {
    refs('attacks', i, a);
    if (a.kind === 'policy-denied' && jobs.get(a.job)?.scheduler === 'slurm') issue(['attacks', i, 'job'], 'a policy-denied attempt comes from a pod: the job must be a Kubernetes job');
    if ((a.kind === 'exfil-proxy-slow' || a.kind === 'exfil-proxy-fast') && approved.has(a.host)) issue(['attacks', i, 'host'], `${a.host} is on the approved list: exfiltration goes to a new host`);
    if (!('node' in a && a.node) && !('job' in a && a.job) && a.kind !== 'weights-new-destination') issue(['attacks', i], 'give node or job: where the attack starts from');
  });
  s.traps.forEach((t, i) => {
    refs('traps', i, t);
    if (t.kind === 'approved-model-upload' && !approved.has(t.host)) issue(['traps', i, 'host'], `${t.host} is not on egress.approved`);
    if ((t.kind === 'approved-model-upload' || t.kind === 'late-flows') && !t.node && !t.job) issue(['traps', i], 'give node or job');
    if (t.kind === 'job-edges' && jobs.get(t.job)?.end === undefined) issue(['traps', i, 'job'], `job ${t.job} has no end: its last seconds never come`);
    if (t.kind === 'node-reassigned') {
      const [from, to] = [jobs.get(t.from), jobs.get(t.to)];
      if (from && to && (from.end === undefined || from.end > to.start)) issue(['traps', i, 'to'], `job ${t.to} starts before job ${t.from} ends`);
    }
  });
  [...s.attacks.map((a, i) => ['attacks', i, a.id] as const), ...s.traps.map((t, i) => ['traps', i, t.id] as const)].forEach(([list, i, id]) => {
    if (id === undefined) return;
    if (ids.has(id)) issue([list, i, 'id'], `id ${id} is used twice`);
    ids.add(id);
  });
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type Attack = Scenario['attacks'][number];
export type Trap = Scenario['traps'][number];

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// The schema names exactly the kinds of events.ts: a compile error otherwise.
true satisfies Same<Attack['kind'], AttackKind> & Same<Trap['kind'], TrapKind>;

/** Parses scenario YAML; a relative `cluster.inventory` is resolved against `dir`. Throws ScenarioError. */
export function parseScenario(text: string, dir = process.cwd()): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ScenarioError([`not YAML: ${(e as Error).message}`]);
  }
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) throw new ScenarioError(parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
  const s = parsed.data;
  if (s.cluster.inventory !== undefined) s.cluster.inventory = path.resolve(dir, s.cluster.inventory);
  return s;
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError([`${file}: ${(e as Error).message}`]);
  }
  return parseScenario(text, path.dirname(file));
}

/** The scenario's cluster: its inventory file, or the generated one. Errors name `cluster.*`. */
export function scenarioInventory(s: Scenario): Inventory {
  try {
    if (s.cluster.inventory !== undefined) return loadInventory(s.cluster.inventory);
    return Inventory.build(InventorySchema.parse(clusterInventory(s.cluster.generate!)));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new ScenarioError([`cluster.${s.cluster.inventory !== undefined ? 'inventory' : 'generate'}: ${e.message}`]);
  }
}

/** The egress proxy's front-end address: Squid lines are its flows. */
export const proxyOf = (inv: Inventory) => inv.addresses(0).find((a) => a.role === 'proxy' && a.fabric === 'frontend')?.address;

/** The scenario's inventory file: its own, else the generated cluster's written into `dir`. */
export function scenarioInventoryFile(scenario: Scenario, dir: string, source: string): string {
  if (scenario.cluster.inventory !== undefined) return scenario.cluster.inventory;
  const file = path.join(dir, 'inventory.yaml');
  writeFileSync(file, inventoryYaml(clusterInventory(scenario.cluster.generate!), source));
  return file;
}
