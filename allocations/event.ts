/**
 * An allocation event: one statement "job J holds these nodes (or pods) from start to end". Schedulers' hooks
 * push them to the allocations topic as JSON, the Slurm and Kubernetes adapters and the CLI produce the same
 * shape. Events are complete (they name the nodes or pods), so each one expands into Allocation rows without
 * state; a later event for the same job and node (an end time, say) supersedes the earlier one.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { expandHostlist } from '../inventory/hostlist';
import { UserError } from '../core/error-text';
import { Allocation, PATTERNS } from '../core/records';

/** Milliseconds since the epoch, or an RFC 3339 / ISO 8601 time. */
const time = () => z.union([
  z.number().int().min(0).max(8.64e15),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);

export const AllocationPodSchema = z.strictObject({
  name: z.string().min(1).max(253),
  node: z.string().min(1).max(253),
  ip: z.string().refine((s) => isIP(s) !== 0, 'not an IP address').optional(),
});

export const AllocationEventSchema = z.strictObject({
  job_id: z.string().min(1).max(128),
  /** A Slurm hostlist expression ("gpu[001-016,020]") or a list of node names. */
  nodes: z.union([z.string().min(1).max(65536), z.array(z.string().min(1).max(253)).max(100_000)]).optional(),
  pods: z.array(AllocationPodSchema).max(100_000).optional(),
  start: time(),
  end: time().nullable().optional(),
  pattern: z.enum(PATTERNS).default('unknown'),
  /** The expected collective graph: each node's back-end peers (the nodes it sends to), e.g. from NCCL's log. */
  peers: z.record(z.string().min(1).max(253), z.array(z.string().min(1).max(253)).max(4096)).optional(),
  source: z.string().min(1).max(64).default('kafka'),
}).refine((e) => e.nodes !== undefined || e.pods !== undefined, { message: 'an allocation names its nodes or its pods' })
  .refine((e) => e.end === undefined || e.end === null || e.end >= e.start, { message: 'end is before start' });

export type AllocationEventInput = z.input<typeof AllocationEventSchema>;
export type AllocationEvent = z.output<typeof AllocationEventSchema>;

/** The Allocation rows of an event: one per node, and one per pod (on its node). */
export function allocationRows(e: AllocationEvent, updatedAt: number): Allocation[] {
  const base = { job_id: e.job_id, start: e.start, pattern: e.pattern, source: e.source, updated_at: updatedAt, ...(e.end != null ? { end: e.end } : {}) };
  const nodes = e.nodes === undefined ? [] : typeof e.nodes === 'string' ? expandHostlist(e.nodes) : e.nodes;
  return [
    ...nodes.map((node) => ({ ...base, node, ...(e.peers?.[node] ? { peers: e.peers[node] } : {}) })),
    ...(e.pods ?? []).map((p) => ({ ...base, node: p.node, pod: p.name, ...(p.ip ? { pod_ip: p.ip } : {}) })),
  ];
}

/** A document entry that did not become an event, and why (a short code, detail after a colon). */
export interface SkippedEntry {
  id: string;
  reason: string;
}

/** A scheduler document that is not what its parser reads (not a jobs list, not pods): nothing in it is used. */
export class AllocationDocumentError extends UserError {}

/** What an allocation import parser returns. */
export interface AllocationImport {
  events: AllocationEventInput[];
  skipped: SkippedEntry[];
}
