/**
 * What attacks and traps share: where an incident starts from, when its flows happen, and its truth label.
 * An incident's flows are built once, when the model is built (they are few, unlike the normal traffic), so
 * its label's first and last flow times are exact.
 */
import type { SimEvent, TruthLabel } from '../events';
import type { FrontHost } from './hosts';
import type { Job } from './jobs';
import type { Rng } from './random';
import type { TrainingTraffic } from './training';
import type { World } from './world';

export interface Incident {
  /** start and end are filled from the flows by the model. */
  label: Omit<TruthLabel, 'start' | 'end'>;
  /** The incident's own flows, each labelled with label.id. */
  events: SimEvent[];
  /** late-flows: the DPU of `exporter` holds back what it exports in [from, to] and sends it `delay` later. */
  hold?: { exporter: string; from: number; to: number; delay: number };
  /** node-reassigned: the normal flows from or to these addresses in [from, to] carry the label. */
  relabel?: { addresses: Set<string>; from: number; to: number };
}

export interface Ctx {
  w: World;
  training: TrainingTraffic;
  id: string;
  /** The scenario key, for problems: `attacks.3`. */
  key: string;
  /** The incident's start (absolute) and end. */
  at: number;
  until: number;
  rng: Rng;
  problems: string[];
}

/** An explicit job running at the incident's start. */
export function runningJob(ctx: Ctx, id: string, field = 'job'): Job | undefined {
  const job = ctx.w.schedule.explicit.find((j) => j.id === id)!;
  if (job.start <= ctx.at && ctx.at < (job.end ?? Infinity)) return job;
  ctx.problems.push(`${ctx.key}.${field}: job ${id} is not running at the incident's start`);
  return undefined;
}

/** The node an incident starts from (a named node, or a member of a job), and its job at that time. */
export function sourceOf(ctx: Ctx, e: { node?: string | undefined; job?: string | undefined }): { host: FrontHost; job?: Job } | undefined {
  if (e.node !== undefined) {
    const host = ctx.w.view.byName.get(e.node);
    if (!host?.route) {
      ctx.problems.push(`${ctx.key}.node: ${e.node} is not a node of the cluster with a front-end address`);
      return undefined;
    }
    const job = ctx.w.schedule.holder(e.node, ctx.at);
    return { host: host as FrontHost, ...(job ? { job } : {}) };
  }
  const job = runningJob(ctx, e.job!);
  return job ? { host: ctx.rng.pick(job.hosts), job } : undefined;
}

/** `n` times spread over [at, until], one in each of n equal parts, in order. */
export function spread(ctx: Ctx, n: number): number[] {
  const span = ctx.until - ctx.at;
  return Array.from({ length: n }, (_, i) => ctx.at + Math.floor(((i + ctx.rng.next()) * span) / n));
}

/** `zone-violation` when a flow (not one a policy dropped) crosses zones the allow list does not let it. */
export function crossesZones(ctx: Ctx, events: readonly SimEvent[]): boolean {
  return events.some((e) => e.kind === 'flow' && e.flow.via !== 'proxy' && e.flow.hubble?.verdict !== 'DROPPED'
    && !ctx.w.view.allows(e.flow.src, e.flow.dst, e.flow.protocol, e.flow.dstPort));
}

export const jobNote = (job?: Job): string => (job ? ` (job ${job.id})` : '');
