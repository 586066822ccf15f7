/**
 * Kubernetes pods to allocation events. Pure: the caller lists the pods (`kubectl get pods -A -o json`, or the
 * API's PodList) and hands over the parsed JSON.
 *
 * Accepted documents: a `List` (what kubectl prints), a `PodList` (what the API returns; its items carry no
 * kind), or a single `Pod`. Validation is lenient about fields eastwatch does not read and strict about the
 * ones it does (names, labels, annotations, spec.nodeName, status.phase/podIP/startTime and the containers'
 * terminated.finishedAt). One pod that does not fit is skipped with its reason; only a document that is not a
 * pod document throws.
 *
 * A pod belongs to the job named by the first of these labels it carries (JOB_LABELS, then the caller's
 * extra labels): JobSet, the Kubeflow training operator (PyTorchJob, MPIJob, TFJob...; its older per-kind
 * labels too), Volcano, then the batch Job. The order matters: a JobSet's pods also carry the label of their
 * child batch Job, and an MPIJob's launcher runs under a batch Job too; the outer job is the one that spans the
 * nodes. The job id is `namespace/name`, because job names are unique only within their namespace.
 *
 * All pods of a job make ONE event listing each scheduled pod with its node and address. start is the earliest
 * status.startTime; end is set only when every pod of the job in the document has terminated (phase Succeeded
 * or Failed) and is then the latest terminated.finishedAt of their containers (init containers included). The
 * pattern comes from the annotation `eastwatch.io/pattern` (the first pod of the job carrying a valid one),
 * else 'unknown'; nothing is guessed from the job kind.
 *
 * Skip reasons: 'not-a-pod', 'malformed: ...', 'no-job-label', 'not-scheduled' (no spec.nodeName yet),
 * 'not-started' (bound to a node the kubelet has not acknowledged: no status.startTime yet).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { PATTERNS } from '../core/records';
import { describeValue, zodDetail } from '../core/error-text';
import { AllocationDocumentError, type AllocationEventInput, type AllocationImport, type SkippedEntry } from './event';
import type { Pattern } from './slurm';

/** Job labels in the order they are tried, each with the job kind that sets it. */
export const JOB_LABELS: readonly { label: string; kind: string }[] = [
  { label: 'jobset.sigs.k8s.io/jobset-name', kind: 'JobSet' },
  { label: 'training.kubeflow.org/job-name', kind: 'Kubeflow training job' },
  { label: 'pytorch-job-name', kind: 'PyTorchJob (training operator before v1.3)' },
  { label: 'mpi-job-name', kind: 'MPIJob (older mpi-operator)' },
  { label: 'tf-job-name', kind: 'TFJob (older tf-operator)' },
  { label: 'volcano.sh/job-name', kind: 'Volcano Job' },
  { label: 'batch.kubernetes.io/job-name', kind: 'Job' },
  { label: 'job-name', kind: 'Job (before Kubernetes 1.27)' },
];

export const PATTERN_ANNOTATION = 'eastwatch.io/pattern';

export interface KubernetesOptions {
  /** Further job labels, tried after JOB_LABELS (for example `ray.io/cluster`, `app.kubernetes.io/instance`). */
  extraJobLabels?: readonly string[];
}

/** The job a pod belongs to. */
export interface PodJob {
  /** `namespace/name`: job names are unique only per namespace. */
  id: string;
  namespace: string;
  name: string;
  /** The label it was found by. */
  label: string;
}

/** What podJob needs of a pod. */
export interface PodMeta {
  metadata: { namespace: string; labels?: Record<string, string> };
}

/** The job of a pod by its labels (see JOB_LABELS), or undefined when it carries none of them. */
export function podJob(pod: PodMeta, extraJobLabels: readonly string[] = []): PodJob | undefined {
  const labels = pod.metadata.labels ?? {};
  for (const label of [...JOB_LABELS.map((l) => l.label), ...extraJobLabels]) {
    const name = labels[label];
    if (typeof name === 'string' && name.trim() !== '') {
      const namespace = pod.metadata.namespace;
      return { id: `${namespace}/${name.trim()}`, namespace, name: name.trim(), label };
    }
  }
  return undefined;
}

/** Kubernetes times: RFC 3339 (`2025-11-24T14:02:11Z`; MicroTime fields add fractions). */
const time = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

const containerStatuses = z
  .array(
    z.looseObject({
      state: z
        .looseObject({ terminated: z.looseObject({ finishedAt: time.nullable().optional() }).optional() })
        .optional(),
    }),
  )
  .nullable()
  .optional();

/** The fields eastwatch reads from a Pod. */
export const PodSchema = z.looseObject({
  kind: z.literal('Pod').optional(),
  metadata: z.looseObject({
    name: z.string().min(1).max(253),
    namespace: z.string().min(1).max(63),
    labels: z.record(z.string(), z.string()).nullable().optional().transform((v) => v ?? undefined),
    annotations: z.record(z.string(), z.string()).nullable().optional().transform((v) => v ?? undefined),
  }),
  spec: z.looseObject({ nodeName: z.string().max(253).optional() }),
  status: z
    .looseObject({
      phase: z.string().optional(),
      podIP: z
        .string()
        .refine((s) => s === '' || isIP(s) !== 0, 'not an IP address')
        .optional(),
      startTime: time.nullable().optional(),
      containerStatuses,
      initContainerStatuses: containerStatuses,
    })
    .optional(),
});
export type KubernetesPod = z.output<typeof PodSchema>;

interface JobGroup {
  id: string;
  pods: { name: string; node: string; ip?: string }[];
  start?: number;
  /** Every pod of the job seen so far has terminated. */
  terminated: boolean;
  finishedAt?: number;
  pattern?: Pattern;
}

/**
 * Allocation events from a pod list (see the module comment). `now` (ms) bounds a finished job none of whose
 * containers recorded a finish time (an evicted pod, say): its end is taken as now.
 */
export function parseKubernetesPods(doc: unknown, now: number, options: KubernetesOptions = {}): AllocationImport {
  const items = podItems(doc);
  const extra = options.extraJobLabels ?? [];
  const groups = new Map<string, JobGroup>();
  const skipped: SkippedEntry[] = [];

  items.forEach((item, index) => {
    const fallbackId = itemId(item) ?? `items[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      skipped.push({ id: fallbackId, reason: `malformed: not an object (${describeValue(item)})` });
      return;
    }
    const kind = (item as Record<string, unknown>).kind;
    if (kind !== undefined && kind !== 'Pod') {
      skipped.push({ id: fallbackId, reason: `not-a-pod: ${String(kind)}` });
      return;
    }
    const parsed = PodSchema.safeParse(item);
    if (!parsed.success) {
      skipped.push({ id: fallbackId, reason: `malformed: ${zodDetail(parsed.error, '(entry)', 3)}` });
      return;
    }
    const pod = parsed.data;
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const job = podJob(pod, extra);
    if (!job) {
      skipped.push({ id, reason: 'no-job-label' });
      return;
    }
    if (job.id.length > 128) {
      skipped.push({ id, reason: 'malformed: job id longer than 128 characters' });
      return;
    }

    let group = groups.get(job.id);
    if (!group) {
      group = { id: job.id, pods: [], terminated: true };
      groups.set(job.id, group);
    }
    const status = pod.status ?? {};
    group.terminated &&= status.phase === 'Succeeded' || status.phase === 'Failed';
    for (const c of [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]) {
      const finished = c.state?.terminated?.finishedAt;
      if (finished != null && (group.finishedAt === undefined || finished > group.finishedAt)) group.finishedAt = finished;
    }
    group.pattern ??= patternOf(pod.metadata.annotations?.[PATTERN_ANNOTATION]);

    const node = pod.spec.nodeName?.trim();
    if (!node) {
      skipped.push({ id, reason: 'not-scheduled' });
      return;
    }
    const start = status.startTime;
    if (start == null) {
      skipped.push({ id, reason: 'not-started' });
      return;
    }
    group.start = group.start === undefined ? start : Math.min(group.start, start);
    group.pods.push({ name: pod.metadata.name, node, ...(status.podIP ? { ip: status.podIP } : {}) });
  });

  const events: AllocationEventInput[] = [];
  for (const g of groups.values()) {
    if (g.start === undefined || g.pods.length === 0) continue;
    const event: AllocationEventInput = {
      job_id: g.id,
      pods: g.pods,
      start: g.start,
      pattern: g.pattern ?? 'unknown',
      source: 'kubernetes',
    };
    if (g.terminated) event.end = Math.max(g.start, g.finishedAt ?? now);
    events.push(event);
  }
  return { events, skipped };
}

/** The pods of a List, a PodList or a single Pod; throws for anything else. */
function podItems(doc: unknown): unknown[] {
  const expected = 'expected a Pod, a PodList or a List of pods (kubectl get pods -o json)';
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new AllocationDocumentError(`kubernetes: ${expected}, got ${describeValue(doc)}`);
  const { kind, items } = doc as Record<string, unknown>;
  if (kind === 'Pod') return [doc];
  if (kind === 'List' || kind === 'PodList' || (kind === undefined && 'items' in doc)) {
    if (!Array.isArray(items)) throw new AllocationDocumentError(`kubernetes: expected "items" of the ${String(kind ?? 'list')} to be an array, got ${describeValue(items)}`);
    return items;
  }
  throw new AllocationDocumentError(`kubernetes: ${expected}, got ${kind === undefined ? describeValue(doc) : `kind ${JSON.stringify(kind)}`}`);
}

/** `namespace/name` of an item that may not validate, for skip reports. */
function itemId(item: unknown): string | undefined {
  const meta = typeof item === 'object' && item !== null ? (item as { metadata?: unknown }).metadata : undefined;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { name, namespace } = meta as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') return undefined;
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}/${name}` : name;
}

function patternOf(value: string | undefined): Pattern | undefined {
  const v = value?.trim().toLowerCase();
  return v && (PATTERNS as readonly string[]).includes(v) ? (v as Pattern) : undefined;
}
