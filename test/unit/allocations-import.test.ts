import { AllocationEventSchema, allocationRows } from '../../allocations/event';
import { JOB_LABELS, parseKubernetesPods, podJob } from '../../allocations/kubernetes';
import type { AllocationImport } from '../../allocations/event';
import { parseSlurmJobs, slurmPattern } from '../../allocations/slurm';
import { AllocationSchema, type Allocation } from '../../core/records';
import {
  API_POD_LIST, KUBECTL_PODS, NOW, SACCT_V0041, SCONTROL_V0039, SINGLE_POD_IPV6, SLURMRESTD_V0040, SQUEUE_V0041,
} from '../allocation-fixtures';

/** Every event through the Kafka schema and into rows, as the allocation stage will do; rows checked too. */
function rowsOf(result: AllocationImport): Allocation[] {
  return result.events.flatMap((e) => allocationRows(AllocationEventSchema.parse(e), NOW)).map((r) => AllocationSchema.parse(r));
}

const ms = (iso: string) => Date.parse(iso);
const seq = (prefix: string, from: number, to: number, width: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${String(from + i).padStart(width, '0')}`);

function nodeRows(job_id: string, nodes: string[], start: string, end: string | undefined, pattern = 'unknown'): Allocation[] {
  return nodes.map((node) => ({
    job_id,
    node,
    start: ms(start),
    ...(end ? { end: ms(end) } : {}),
    pattern: pattern as Allocation['pattern'],
    source: 'slurm',
    updated_at: NOW,
  }));
}

function podRows(job_id: string, pods: [string, string, string?][], start: string, end: string | undefined, pattern = 'unknown'): Allocation[] {
  return pods.map(([pod, node, ip]) => ({
    job_id,
    node,
    pod,
    ...(ip ? { pod_ip: ip } : {}),
    start: ms(start),
    ...(end ? { end: ms(end) } : {}),
    pattern: pattern as Allocation['pattern'],
    source: 'kubernetes',
    updated_at: NOW,
  }));
}

const clone = <T>(v: T): T => structuredClone(v);

describe('parseSlurmJobs', () => {
  it('reads squeue --json (v0.0.41): hostlists, array tasks, heterogeneous components, pending jobs', () => {
    const result = parseSlurmJobs(SQUEUE_V0041, NOW);
    expect(result.events.map((e) => e.job_id)).toEqual(['48213', '48225_6', '48250+0', '48250+1', '48190']);
    expect(result.events[0]).toEqual({
      job_id: '48213', nodes: 'gpu[001-016,020]', start: ms('2025-11-24T14:00:00Z'), pattern: 'ring', source: 'slurm',
    });
    expect(result.skipped).toEqual([
      { id: '48240', reason: 'pending' },
      { id: '48225_[7-31%4]', reason: 'pending' },
    ]);
    expect(rowsOf(result)).toEqual([
      // RUNNING: Slurm's end_time is the time limit, so no end
      ...nodeRows('48213', [...seq('gpu', 1, 16, 3), 'gpu020'], '2025-11-24T14:00:00Z', undefined, 'ring'),
      ...nodeRows('48225_6', ['gpu045'], '2025-11-24T15:12:00Z', undefined),
      // the admin comment wins over the user's comment
      ...nodeRows('48250+0', ['cpu01', 'cpu02'], '2025-11-24T16:12:30Z', undefined, 'pipeline-parallel'),
      ...nodeRows('48250+1', seq('gpu', 21, 24, 3), '2025-11-24T16:12:30Z', undefined, 'pipeline-parallel'),
      // an unknown pattern name is ignored
      ...nodeRows('48190', ['gpu030', 'gpu031'], '2025-11-24T12:00:00Z', '2025-11-24T13:30:00Z'),
    ]);
  });

  it('reads scontrol show job --json (v0.0.39): plain-string states and plain-number times', () => {
    const result = parseSlurmJobs(SCONTROL_V0039, NOW);
    expect(result.skipped).toEqual([]);
    expect(rowsOf(result)).toEqual([
      ...nodeRows('39114', ['gpu-a01', 'gpu-a02', 'gpu-a03', 'gpu-a04', 'gpu-b07'], '2025-11-24T16:00:00Z', undefined, 'tensor-parallel'),
      ...nodeRows('39102', ['gpu-a05', 'gpu-a06'], '2025-11-23T22:00:00Z', '2025-11-24T06:00:00Z'),
      // COMPLETING: the processes have ended and end_time says when
      ...nodeRows('39120', ['gpu-b01', 'gpu-b02'], '2025-11-24T15:00:00Z', '2025-11-24T17:55:00Z'),
    ]);
  });

  it('reads slurmrestd /slurm/v0.0.40/jobs: ended, booting and suspended jobs, one never started', () => {
    const result = parseSlurmJobs(SLURMRESTD_V0040, NOW);
    expect(result.skipped).toEqual([{ id: '51011', reason: 'no-nodes' }]);
    expect(rowsOf(result)).toEqual([
      ...nodeRows('51002', ['dgx03', 'dgx04'], '2025-11-24T08:00:00Z', '2025-11-24T09:13:27Z', 'all-to-all'),
      ...nodeRows('51007', seq('dgx', 5, 8, 2), '2025-11-24T10:00:00Z', '2025-11-24T12:00:00Z'),
      ...nodeRows('51015', ['dgx11', 'dgx12'], '2025-11-24T17:00:00Z', undefined, 'data-parallel'),
      ...nodeRows('51016', ['dgx01'], '2025-11-24T16:30:00Z', undefined),
    ]);
  });

  it('reads sacct --json (v0.0.41) for backfill: accounting states, array tasks, the job comment', () => {
    const result = parseSlurmJobs(SACCT_V0041, NOW);
    expect(result.skipped).toEqual([{ id: '47030', reason: 'no-nodes' }]);
    expect(rowsOf(result)).toEqual([
      ...nodeRows('47001', seq('gpu', 1, 8, 3), '2025-11-23T22:00:00Z', '2025-11-24T06:00:00Z', 'all-to-all'),
      ...nodeRows('47010_3', ['gpu017'], '2025-11-24T02:00:00Z', '2025-11-24T02:47:15Z'),
      ...nodeRows('47020', ['gpu040', 'gpu041'], '2025-11-24T04:00:00Z', '2025-11-24T05:31:02Z'),
      ...nodeRows('47021', ['gpu042', 'gpu043'], '2025-11-24T07:00:00Z', '2025-11-24T07:22:40Z'),
      // still running in accounting: end 0
      ...nodeRows('48213', [...seq('gpu', 1, 16, 3), 'gpu020'], '2025-11-24T14:00:00Z', undefined, 'ring'),
    ]);
  });

  it('skips a malformed job and keeps the others', () => {
    const doc = clone(SQUEUE_V0041) as { jobs: unknown[] };
    (doc.jobs[0] as Record<string, unknown>).start_time = 'yesterday';
    (doc.jobs[2] as Record<string, unknown>).job_id = '48231';
    doc.jobs.push(42, null);
    const result = parseSlurmJobs(doc, NOW);
    expect(result.events.map((e) => e.job_id)).toEqual(['48250+0', '48250+1', '48190']);
    expect(result.skipped).toEqual([
      { id: '48213', reason: 'malformed: start_time: Invalid input' },
      { id: '48240', reason: 'pending' },
      { id: 'jobs[2]', reason: 'malformed: job_id: Invalid input: expected number, received string' },
      { id: '48225_[7-31%4]', reason: 'pending' },
      { id: 'jobs[7]', reason: 'malformed: not an object (a number)' },
      { id: 'jobs[8]', reason: 'malformed: not an object (null)' },
    ]);
  });

  it('reads the states: flags after the base state, unknown states, jobs that never started', () => {
    const base = { job_id: 60001, nodes: 'gpu[1-2]', start_time: 1763992800, end_time: 1764000000 };
    const result = parseSlurmJobs({
      jobs: [
        { ...base, job_id: 60001, job_state: ['COMPLETED', 'COMPLETING'] },
        { ...base, job_id: 60002, job_state: ['PENDING', 'REQUEUED'], state_reason: 'BeginTime' },
        { ...base, job_id: 60003, job_state: ['RUNNING'], start_time: 0 },
        { ...base, job_id: 60004, job_state: 'SPECIAL_EXIT_SOMETHING' },
        { ...base, job_id: 60005, job_state: ['FAILED'], end_time: { set: false, infinite: false, number: 0 } },
        { ...base, job_id: 60006, job_state: ['TIMEOUT'], end_time: 1763990000 },
        { ...base, job_id: 60007, job_state: 'running', nodes: ' gpu[3-4] ' },
        { ...base, job_id: 60008, job_state: [] },
      ],
    }, NOW);
    expect(result.skipped).toEqual([
      { id: '60002', reason: 'pending' },
      { id: '60003', reason: 'not-started' },
      { id: '60004', reason: 'unknown-state: SPECIAL_EXIT_SOMETHING' },
      { id: '60008', reason: 'unknown-state: (none)' },
    ]);
    expect(result.events).toEqual([
      { job_id: '60001', nodes: 'gpu[1-2]', start: 1763992800000, end: 1764000000000, pattern: 'unknown', source: 'slurm' },
      // ended without a recorded end: ended by now
      { job_id: '60005', nodes: 'gpu[1-2]', start: 1763992800000, end: NOW, pattern: 'unknown', source: 'slurm' },
      // an end before the start is clamped to the start
      { job_id: '60006', nodes: 'gpu[1-2]', start: 1763992800000, end: 1763992800000, pattern: 'unknown', source: 'slurm' },
      { job_id: '60007', nodes: 'gpu[3-4]', start: 1763992800000, pattern: 'unknown', source: 'slurm' },
    ]);
  });

  it('reads array and heterogeneous ids in plain-number and object forms, and sacct het records', () => {
    const result = parseSlurmJobs({
      jobs: [
        { job_id: 39003, array_job_id: 39000, array_task_id: 3, job_state: 'RUNNING', nodes: 'n1', start_time: 1763992800 },
        { job_id: 39010, array_job_id: 0, array_task_id: null, het_job_id: 0, het_job_offset: 0, job_state: 'RUNNING', nodes: 'n2', start_time: 1763992800 },
        { job_id: 39020, array_job_id: 39000, array_task_id: 4294967294, array_task_string: '5-9', job_state: 'PENDING', nodes: '' },
        {
          job_id: 47041,
          het: { job_id: 47040, job_offset: { set: true, infinite: false, number: 1 } },
          array: { job_id: 0, task_id: { set: false, infinite: false, number: 0 }, task: '' },
          comment: { administrator: null, job: 'x=1;eastwatch.pattern=tree', system: '' },
          nodes: 'n[3-4]',
          state: { current: 'COMPLETED', reason: 'None' },
          time: { start: 1763992800, end: 1763996400 },
        },
      ],
    }, NOW);
    expect(result.events.map((e) => [e.job_id, e.pattern])).toEqual([['39000_3', 'unknown'], ['39010', 'unknown'], ['47040+1', 'tree']]);
    expect(result.skipped).toEqual([{ id: '39000_[5-9]', reason: 'pending' }]);
  });

  it('throws for documents that are not Slurm job documents', () => {
    expect(() => parseSlurmJobs(null, NOW)).toThrow('slurm: expected a JSON object with a "jobs" array (squeue/scontrol/sacct --json or slurmrestd), got null');
    expect(() => parseSlurmJobs('{"jobs": []}', NOW)).toThrow(/got a string/);
    expect(() => parseSlurmJobs([SQUEUE_V0041], NOW)).toThrow(/got an array/);
    expect(() => parseSlurmJobs({ sinfo: [] }, NOW)).toThrow('slurm: expected "jobs" to be an array (squeue/scontrol/sacct --json or slurmrestd), got nothing');
    expect(() => parseSlurmJobs({ jobs: { 48213: {} } }, NOW)).toThrow(/"jobs" to be an array .* got an object/);
    expect(() =>
      parseSlurmJobs({ jobs: [], errors: [{ description: 'Unable to query JobId=99', error_number: 2017, error: 'Invalid job id specified', source: 'slurm_load_job()' }] }, NOW),
    ).toThrow('slurm: the document reports 1 error(s): Unable to query JobId=99 (error 2017)');
    expect(parseSlurmJobs({ jobs: [] }, NOW)).toEqual({ events: [], skipped: [] });
  });

  it('finds the pattern token in comments', () => {
    expect(slurmPattern(['eastwatch.pattern=ring'])).toBe('ring');
    expect(slurmPattern(['', 'owner=ml, eastwatch.pattern=All-To-All; ticket=42'])).toBe('all-to-all');
    expect(slurmPattern(['eastwatch.pattern=tensor-parallel', 'eastwatch.pattern=ring'])).toBe('tensor-parallel');
    expect(slurmPattern(['eastwatch.pattern=mesh', 'eastwatch.pattern=tree'])).toBe('tree');
    expect(slurmPattern(['noeastwatch.pattern=ring', 'eastwatch.pattern=ringx', 'eastwatch.pattern='])).toBe('unknown');
    expect(slurmPattern([null, undefined])).toBe('unknown');
  });
});

describe('podJob', () => {
  const meta = (labels: Record<string, string>) => ({ metadata: { namespace: 'ns', labels } });

  it('tries JobSet, Kubeflow, Volcano, then batch Job labels, then the extra ones', () => {
    expect(JOB_LABELS.map((l) => l.label)).toEqual([
      'jobset.sigs.k8s.io/jobset-name', 'training.kubeflow.org/job-name', 'pytorch-job-name', 'mpi-job-name', 'tf-job-name',
      'volcano.sh/job-name', 'batch.kubernetes.io/job-name', 'job-name',
    ]);
    expect(podJob(meta({ 'batch.kubernetes.io/job-name': 'js-workers-0', 'jobset.sigs.k8s.io/jobset-name': 'js' })))
      .toEqual({ id: 'ns/js', namespace: 'ns', name: 'js', label: 'jobset.sigs.k8s.io/jobset-name' });
    expect(podJob(meta({ 'job-name': 'mpi-launcher', 'training.kubeflow.org/job-name': 'mpi' }))?.id).toBe('ns/mpi');
    expect(podJob(meta({ 'pytorch-job-name': 'old-pt', 'group-name': 'kubeflow.org' }))?.id).toBe('ns/old-pt');
    expect(podJob(meta({ 'mpi-job-name': 'old-mpi' }))?.id).toBe('ns/old-mpi');
    expect(podJob(meta({ 'volcano.sh/job-name': 'vc', 'job-name': 'x' }))?.id).toBe('ns/vc');
    expect(podJob(meta({ 'job-name': 'legacy' }))?.label).toBe('job-name');
    expect(podJob(meta({ app: 'web' }))).toBeUndefined();
    expect(podJob({ metadata: { namespace: 'ns' } })).toBeUndefined();
    expect(podJob(meta({ 'ray.io/cluster': 'rc', app: 'web' }), ['ray.io/cluster'])?.id).toBe('ns/rc');
    expect(podJob(meta({ 'ray.io/cluster': 'rc', 'job-name': 'j' }), ['ray.io/cluster'])?.id).toBe('ns/j');
    expect(podJob(meta({ 'job-name': '' }))).toBeUndefined();
  });
});

describe('parseKubernetesPods', () => {
  const expectedRows = [
    ...podRows('ai-training/trainer-88214', [
      ['trainer-88214-master-0', 'gpu-021', '10.244.7.41'],
      ['trainer-88214-worker-0', 'gpu-018', '10.244.4.12'],
      ['trainer-88214-worker-1', 'gpu-019', '10.244.5.9'],
      ['trainer-88214-worker-2', 'gpu-020', '10.244.6.22'],
    ], '2025-11-24T14:02:11Z', undefined, 'ring'),
    // no annotation: 'unknown', not guessed from the MPIJob kind
    ...podRows('ai-bench/nccl-alltoall', [
      ['nccl-alltoall-launcher-7qv4d', 'cpu-004', '10.244.9.31'],
      ['nccl-alltoall-worker-0', 'gpu-030', '10.244.12.5'],
      ['nccl-alltoall-worker-1', 'gpu-031', '10.244.13.5'],
    ], '2025-11-24T15:30:02Z', undefined),
    ...podRows('ai-training/megatron-gpt', [
      ['megatron-gpt-workers-0-0-x7k2p', 'gpu-040', '10.244.20.7'],
      ['megatron-gpt-workers-0-1-m9q4z', 'gpu-041', '10.244.21.7'],
    ], '2025-11-24T16:10:04Z', undefined, 'tensor-parallel'),
    // one pod still running: no end
    ...podRows('vc-jobs/resnet-dist', [
      ['resnet-dist-ps-0', 'gpu-050', '10.244.30.4'],
      ['resnet-dist-worker-0', 'gpu-051', '10.244.31.9'],
    ], '2025-11-24T17:00:01Z', undefined, 'data-parallel'),
    // every pod terminated: end is the last container's finish (pod 0's log shipper)
    ...podRows('ai-eval/nightly-eval-29401234', [
      ['nightly-eval-29401234-0-4xk2s', 'gpu-060', '10.244.40.3'],
      ['nightly-eval-29401234-1-p8w7n', 'gpu-061', '10.244.41.3'],
    ], '2025-11-24T03:00:07Z', '2025-11-24T03:45:30Z'),
  ];
  const expectedSkipped = [
    { id: 'ai-training/llm-sweep-17-worker-0', reason: 'not-scheduled' },
    { id: 'serving/inference-gateway-7c9f8d6b5-q2w4e', reason: 'no-job-label' },
  ];

  it('groups the pods of kubectl get pods -o json into one event per job', () => {
    const result = parseKubernetesPods(KUBECTL_PODS, NOW);
    expect(result.events.map((e) => e.job_id)).toEqual([
      'ai-training/trainer-88214', 'ai-bench/nccl-alltoall', 'ai-training/megatron-gpt', 'vc-jobs/resnet-dist', 'ai-eval/nightly-eval-29401234',
    ]);
    expect(result.events[4]).toEqual({
      job_id: 'ai-eval/nightly-eval-29401234',
      pods: [
        { name: 'nightly-eval-29401234-0-4xk2s', node: 'gpu-060', ip: '10.244.40.3' },
        { name: 'nightly-eval-29401234-1-p8w7n', node: 'gpu-061', ip: '10.244.41.3' },
      ],
      start: ms('2025-11-24T03:00:07Z'),
      end: ms('2025-11-24T03:45:30Z'),
      pattern: 'unknown',
      source: 'kubernetes',
    });
    expect(result.skipped).toEqual(expectedSkipped);
    expect(rowsOf(result)).toEqual(expectedRows);
  });

  it('reads the API server PodList (items without kind) the same way', () => {
    const result = parseKubernetesPods(API_POD_LIST, NOW);
    expect(result.skipped).toEqual(expectedSkipped);
    expect(rowsOf(result)).toEqual(expectedRows);
  });

  it('reads a single Pod (IPv6)', () => {
    const result = parseKubernetesPods(SINGLE_POD_IPV6, NOW);
    expect(result.skipped).toEqual([]);
    expect(rowsOf(result)).toEqual(podRows('ai-eval/tokenizer-bench', [['tokenizer-bench-8mz2x', 'cpu-v6-02', 'fd00:10:244:1c::2a']], '2025-11-24T17:20:03Z', undefined, 'tree'));
  });

  it('takes extra job labels after the built-in ones', () => {
    const result = parseKubernetesPods(KUBECTL_PODS, NOW, { extraJobLabels: ['app'] });
    expect(result.skipped).toEqual([expectedSkipped[0]]);
    expect(result.events.at(-1)).toEqual({
      job_id: 'serving/inference-gateway',
      pods: [{ name: 'inference-gateway-7c9f8d6b5-q2w4e', node: 'cpu-004', ip: '10.244.9.14' }],
      start: ms('2025-11-20T09:12:44Z'),
      pattern: 'unknown',
      source: 'kubernetes',
    });
  });

  it('ends a finished job without recorded finish times at now, and waits for pods not started or not scheduled', () => {
    type Pod = { metadata: { name: string }; spec: Record<string, unknown>; status: Record<string, unknown> };
    const items = clone(KUBECTL_PODS.items) as unknown as Pod[];
    const nightly = items.filter((p) => p.metadata.name.startsWith('nightly-eval'));
    for (const p of nightly) delete p.status.containerStatuses; // evicted: the kubelet recorded no containers
    const bound = clone(nightly[0]!);
    bound.metadata.name = 'nightly-eval-29401234-2-zz9q1';
    bound.status = { phase: 'Pending' }; // bound to a node the kubelet has not acknowledged yet
    const result = parseKubernetesPods({ kind: 'List', apiVersion: 'v1', items: [...nightly, bound] }, NOW);
    expect(result.skipped).toEqual([{ id: 'ai-eval/nightly-eval-29401234-2-zz9q1', reason: 'not-started' }]);
    expect(result.events).toEqual([{
      job_id: 'ai-eval/nightly-eval-29401234',
      pods: [
        { name: 'nightly-eval-29401234-0-4xk2s', node: 'gpu-060', ip: '10.244.40.3' },
        { name: 'nightly-eval-29401234-1-p8w7n', node: 'gpu-061', ip: '10.244.41.3' },
      ],
      start: ms('2025-11-24T03:00:07Z'),
      pattern: 'unknown',
      source: 'kubernetes',
    }]);

    const ended = parseKubernetesPods({ kind: 'List', apiVersion: 'v1', items: nightly }, NOW);
    expect(ended.events[0]?.end).toBe(NOW);
  });

  it('skips malformed pods and other kinds, keeping the rest', () => {
    const doc = clone(KUBECTL_PODS) as unknown as { items: unknown[] };
    const master = doc.items[0] as { status: Record<string, unknown> };
    master.status.podIP = '10.244.7.410';
    const worker = doc.items[1] as { metadata: Record<string, unknown> };
    delete worker.metadata.namespace;
    doc.items.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'trainer-88214', namespace: 'ai-training' }, spec: {} },
      'pod',
      { kind: 'Pod', metadata: { namespace: 'ai-training' }, spec: {} },
    );
    const result = parseKubernetesPods(doc, NOW);
    expect(result.skipped).toEqual([
      { id: 'ai-training/trainer-88214-master-0', reason: 'malformed: status.podIP: not an IP address' },
      { id: 'trainer-88214-worker-0', reason: 'malformed: metadata.namespace: Invalid input: expected string, received undefined' },
      ...expectedSkipped,
      { id: 'ai-training/trainer-88214', reason: 'not-a-pod: Service' },
      { id: 'items[16]', reason: 'malformed: not an object (a string ("pod"))' },
      { id: 'items[17]', reason: 'malformed: metadata.name: Invalid input: expected string, received undefined' },
    ]);
    expect(result.events[0]).toEqual({
      job_id: 'ai-training/trainer-88214',
      pods: [
        { name: 'trainer-88214-worker-1', node: 'gpu-019', ip: '10.244.5.9' },
        { name: 'trainer-88214-worker-2', node: 'gpu-020', ip: '10.244.6.22' },
      ],
      start: ms('2025-11-24T14:02:12Z'),
      pattern: 'ring',
      source: 'kubernetes',
    });
    expect(result.events).toHaveLength(5);
  });

  it('throws for documents that are not pods', () => {
    expect(() => parseKubernetesPods(undefined, NOW)).toThrow('kubernetes: expected a Pod, a PodList or a List of pods (kubectl get pods -o json), got nothing');
    expect(() => parseKubernetesPods([], NOW)).toThrow(/got an array/);
    expect(() => parseKubernetesPods({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }, NOW)).toThrow(/got kind "Deployment"/);
    expect(() => parseKubernetesPods({ kind: 'List', apiVersion: 'v1', items: null }, NOW)).toThrow('kubernetes: expected "items" of the List to be an array, got null');
    expect(() => parseKubernetesPods({ metadata: { name: 'x' } }, NOW)).toThrow(/got an object with keys metadata/);
    expect(parseKubernetesPods({ kind: 'PodList', apiVersion: 'v1', items: [] }, NOW)).toEqual({ events: [], skipped: [] });
  });
});
