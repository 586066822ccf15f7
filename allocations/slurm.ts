/**
 * Slurm job documents to allocation events. Pure: the caller runs the command (or calls slurmrestd) and hands
 * over the parsed JSON; nothing here touches the network or the clock.
 *
 * Accepted documents, all of the form `{ "jobs": [...], "meta": ..., "errors": [...], "warnings": [...] }`:
 * - `squeue --json` and `scontrol show job --json` (Slurm 23.02+, data_parser v0.0.39 to v0.0.42), and
 *   slurmrestd `GET /slurm/v0.0.4x/jobs` (and `/job/{id}`), which return the same job objects. Times and most
 *   counters are `{ "set", "infinite", "number" }` objects from v0.0.40; v0.0.39 printed plain numbers for the
 *   times and a plain string `job_state` ("RUNNING") where newer versions print the base state followed by its
 *   flags (["COMPLETED", "COMPLETING"]). Both forms are read, field by field.
 * - `sacct --json` and slurmrestd `GET /slurmdb/v0.0.4x/jobs` (accounting, for backfill of past allocations):
 *   `state: { current }`, `time: { start, end }`, `array: { job_id, task_id }`, `het: { job_id, job_offset }`,
 *   `comment: { administrator, job, system }`.
 * Validation is lenient about fields eastwatch does not read (Slurm adds some every release) and strict about
 * the ones it does. One job that does not fit is skipped with its reason; only a document that is not a jobs
 * document at all (or that carries Slurm errors) throws.
 *
 * Job ids are written as Slurm prints them: `ARRAYID_TASKID` for an array task (`ARRAYID_[7-31%4]` for the
 * not-yet-split pending rest of an array), `HETID+OFFSET` for each component of a heterogeneous job, the plain
 * number otherwise.
 *
 * Which jobs become events: those with nodes and a start whose state is RUNNING, SUSPENDED or CONFIGURING
 * (still holding their nodes: no end, since for them Slurm's end_time is the time limit, not an end) or
 * COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE
 * (ended: end = end_time). COMPLETING counts as ended because Slurm sets end_time to the moment the job's
 * processes finished when it enters COMPLETING (only the epilog is left), which is also the end sacct records
 * later. A PENDING job (whatever its flags), a job without nodes ("" in squeue, "None assigned" in sacct) and a
 * job that never started (CANCELLED while pending) are skipped with a reason.
 *
 * Pattern convention: a job declares its expected collective pattern with the token `eastwatch.pattern=NAME`
 * (NAME one of core/records PATTERNS: ring, tree, all-to-all, data-parallel, tensor-parallel,
 * pipeline-parallel) anywhere in its comment, separated from other text by whitespace, `,` or `;`. Users set it
 * with `sbatch --comment=eastwatch.pattern=ring`; operators with `scontrol update job=ID
 * AdminComment=eastwatch.pattern=ring`. The admin comment wins over the user's (users cannot change it, and
 * the pattern feeds detectors); an unknown NAME is ignored; no declaration gives 'unknown'.
 */
import { z } from 'zod';
import { PATTERNS } from '../core/records';
import { describeValue, zodDetail } from '../core/error-text';
import { AllocationDocumentError, type AllocationEventInput, type AllocationImport, type SkippedEntry } from './event';

export type Pattern = (typeof PATTERNS)[number];

/** Slurm's "not set" (NO_VAL) and "infinite" (INFINITE) sentinels as plain 32-bit numbers. */
const NO_VAL = 0xfffffffe;

/**
 * A Slurm number: plain (data_parser v0.0.39 and older) or `{ set, infinite, number }` (v0.0.40+, and some
 * fields already in v0.0.39). Unset, infinite, null and the 32-bit sentinels read as undefined.
 */
const slurmNumber = z
  .union([
    z.number(),
    z.null(),
    z.looseObject({ set: z.boolean(), infinite: z.boolean().optional(), number: z.number() }),
  ])
  .transform((v) => {
    const n = v === null ? undefined : typeof v === 'number' ? v : v.set && !v.infinite ? v.number : undefined;
    return n === undefined || !Number.isFinite(n) || n < 0 || n >= NO_VAL ? undefined : n;
  });

/** `["RUNNING"]` (v0.0.40+: base state, then flags) or `"RUNNING"` (v0.0.39 and older). */
const states = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (typeof v === 'string' ? [v] : v).map((s) => s.trim().toUpperCase()).filter((s) => s !== ''));

const jobId = z.number().int().positive();

/** The fields eastwatch reads from a squeue / scontrol / slurmrestd job. */
const QueueJobSchema = z.looseObject({
  job_id: jobId,
  job_state: states,
  nodes: z.string().optional(),
  start_time: slurmNumber.optional(),
  end_time: slurmNumber.optional(),
  array_job_id: slurmNumber.optional(),
  array_task_id: slurmNumber.optional(),
  array_task_string: z.string().optional(),
  het_job_id: slurmNumber.optional(),
  het_job_offset: slurmNumber.optional(),
  comment: z.string().nullable().optional(),
  admin_comment: z.string().nullable().optional(),
});

/** The fields eastwatch reads from a sacct / slurmdbd job. */
const AccountingJobSchema = z.looseObject({
  job_id: jobId,
  state: z.looseObject({ current: states }),
  nodes: z.string().optional(),
  time: z.looseObject({ start: slurmNumber.optional(), end: slurmNumber.optional() }),
  array: z
    .looseObject({ job_id: slurmNumber.optional(), task_id: slurmNumber.optional(), task: z.string().optional() })
    .optional(),
  het: z.looseObject({ job_id: slurmNumber.optional(), job_offset: slurmNumber.optional() }).optional(),
  comment: z
    .union([
      z.string(),
      z.null(),
      z.looseObject({
        administrator: z.string().nullable().optional(),
        job: z.string().nullable().optional(),
        system: z.string().nullable().optional(),
      }),
    ])
    .optional(),
});

/** Both job forms reduced to what the event needs. Times in seconds. */
interface SlurmJob {
  jobId: number;
  states: string[];
  nodes: string;
  start?: number;
  end?: number;
  arrayJobId?: number;
  arrayTaskId?: number;
  arrayTaskString?: string;
  hetJobId?: number;
  hetOffset?: number;
  /** Most authoritative first. */
  comments: string[];
}

const DocumentSchema = z.looseObject({
  jobs: z.array(z.unknown()),
  errors: z.array(z.unknown()).optional(),
});

/** States whose job has ended (end_time is its end). */
const ENDED = new Set([
  'COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE',
]);
/** States whose job holds its nodes now (end_time is the time limit). */
const HOLDING = new Set(['RUNNING', 'SUSPENDED']);

/** Node lists that mean "none": squeue's empty string for pending jobs, sacct's "None assigned". */
const NO_NODES = new Set(['', 'none assigned', '(null)']);

const PATTERN_TOKEN = /(?:^|[\s,;])eastwatch\.pattern=([A-Za-z-]+)(?=$|[\s,;])/;

/**
 * Allocation events from a Slurm jobs document (see the module comment for the accepted forms and rules).
 * `now` (ms) bounds an ended job whose end time Slurm did not record: its end is taken as now.
 */
export function parseSlurmJobs(doc: unknown, now: number): AllocationImport {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new AllocationDocumentError(`slurm: expected a JSON object with a "jobs" array (squeue/scontrol/sacct --json or slurmrestd), got ${describeValue(doc)}`);
  }
  const parsed = DocumentSchema.safeParse(doc);
  if (!parsed.success) {
    const jobs = (doc as Record<string, unknown>).jobs;
    throw new AllocationDocumentError(`slurm: expected "jobs" to be an array (squeue/scontrol/sacct --json or slurmrestd), got ${describeValue(jobs)}`);
  }
  const errors = parsed.data.errors ?? [];
  if (errors.length > 0) {
    throw new AllocationDocumentError(`slurm: the document reports ${errors.length} error(s): ${errors.slice(0, 3).map(slurmError).join('; ')}`);
  }

  const events: AllocationEventInput[] = [];
  const skipped: SkippedEntry[] = [];
  parsed.data.jobs.forEach((raw, index) => {
    const job = readJob(raw);
    if ('malformed' in job) {
      skipped.push({ id: job.id ?? `jobs[${index}]`, reason: `malformed: ${job.malformed}` });
      return;
    }
    const id = slurmJobId(job);
    const outcome = toEvent(job, id, now);
    if (typeof outcome === 'string') skipped.push({ id, reason: outcome });
    else events.push(outcome);
  });
  return { events, skipped };
}

/** The job as Slurm prints its id: `ARRAYID_TASKID`, `ARRAYID_[TASKS]`, `HETID+OFFSET` or the number. */
function slurmJobId(j: SlurmJob): string {
  if (j.hetJobId && j.hetOffset !== undefined) return `${j.hetJobId}+${j.hetOffset}`;
  if (j.arrayJobId) {
    if (j.arrayTaskId !== undefined) return `${j.arrayJobId}_${j.arrayTaskId}`;
    if (j.arrayTaskString) return `${j.arrayJobId}_[${j.arrayTaskString}]`;
  }
  return String(j.jobId);
}

/** The event of one job, or the reason it has none. */
function toEvent(j: SlurmJob, id: string, now: number): AllocationEventInput | string {
  const state = classify(j.states);
  if (state === 'pending') return 'pending';
  if (state === 'unknown') return `unknown-state: ${j.states.join(',') || '(none)'}`;
  const nodes = j.nodes.trim();
  if (NO_NODES.has(nodes.toLowerCase())) return 'no-nodes';
  if (!j.start) return 'not-started';
  if (id.length > 128) return 'malformed: job id longer than 128 characters';

  const start = j.start * 1000;
  const event: AllocationEventInput = { job_id: id, nodes, start, pattern: slurmPattern(j.comments), source: 'slurm' };
  if (state === 'ended') {
    // An ended job without a recorded end has ended by now; an end before the start (clock trouble) is clamped.
    event.end = Math.max(start, j.end ? j.end * 1000 : now);
  }
  return event;
}

function classify(s: string[]): 'pending' | 'holding' | 'ended' | 'unknown' {
  if (s.includes('PENDING')) return 'pending';
  if (s.some((x) => ENDED.has(x))) return 'ended';
  if (s.some((x) => HOLDING.has(x))) return 'holding';
  // The plain-string form (v0.0.39) prints only the flag while it is set.
  if (s.includes('COMPLETING')) return 'ended';
  if (s.includes('CONFIGURING')) return 'holding';
  return 'unknown';
}

/** The first valid `eastwatch.pattern=NAME` among the comments, most authoritative first. */
export function slurmPattern(comments: readonly (string | null | undefined)[]): Pattern {
  for (const c of comments) {
    const name = c ? PATTERN_TOKEN.exec(c)?.[1]?.toLowerCase() : undefined;
    if (name && (PATTERNS as readonly string[]).includes(name)) return name as Pattern;
  }
  return 'unknown';
}

function readJob(raw: unknown): SlurmJob | { malformed: string; id?: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { malformed: `not an object (${describeValue(raw)})` };
  const rawId = (raw as Record<string, unknown>).job_id;
  const id = typeof rawId === 'number' && Number.isInteger(rawId) && rawId > 0 ? String(rawId) : undefined;
  const accounting = !('job_state' in raw) && 'state' in raw;
  if (!accounting) {
    const r = QueueJobSchema.safeParse(raw);
    if (!r.success) return { malformed: zodDetail(r.error, '(entry)', 3), id };
    const j = r.data;
    return {
      jobId: j.job_id,
      states: j.job_state,
      nodes: j.nodes ?? '',
      start: j.start_time,
      end: j.end_time,
      arrayJobId: j.array_job_id,
      arrayTaskId: j.array_task_id,
      arrayTaskString: j.array_task_string,
      hetJobId: j.het_job_id,
      hetOffset: j.het_job_offset,
      comments: [j.admin_comment ?? '', j.comment ?? ''],
    };
  }
  const r = AccountingJobSchema.safeParse(raw);
  if (!r.success) return { malformed: zodDetail(r.error, '(entry)', 3), id };
  const j = r.data;
  const c = j.comment;
  return {
    jobId: j.job_id,
    states: j.state.current,
    nodes: j.nodes ?? '',
    start: j.time.start,
    end: j.time.end,
    arrayJobId: j.array?.job_id,
    arrayTaskId: j.array?.task_id,
    arrayTaskString: j.array?.task,
    hetJobId: j.het?.job_id,
    hetOffset: j.het?.job_offset,
    comments: typeof c === 'object' && c !== null ? [c.administrator ?? '', c.job ?? ''] : [c ?? ''],
  };
}

function slurmError(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const o = e as Record<string, unknown>;
    const text = [o.description, o.error].find((v) => typeof v === 'string' && v !== '');
    if (typeof text === 'string') return typeof o.error_number === 'number' ? `${text} (error ${o.error_number})` : text;
  }
  return JSON.stringify(e)?.slice(0, 200) ?? String(e);
}

