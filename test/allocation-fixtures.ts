/**
 * Scheduler documents in their real shapes, for the allocation import parsers (allocations/slurm.ts,
 * allocations/kubernetes.ts). Values are invented; the field sets and their forms follow what the tools print:
 * Slurm's data_parser plugins v0.0.39 (23.02: plain-number times, plain-string job_state), v0.0.40 (23.11) and
 * v0.0.41 (24.05: `{set, infinite, number}` everywhere, job_state as base state plus flags), including many
 * fields eastwatch ignores; and `kubectl get pods -o json` (Kubernetes 1.30) for pods made by the Kubeflow
 * training operator, the MPI operator v2, JobSet, Volcano, the Job controller and a Deployment.
 *
 * Times: the cluster's "now" is 2025-11-24T18:00:00Z.
 */

export const NOW = Date.parse('2025-11-24T18:00:00Z');

/** Slurm's `{set, infinite, number}` (data_parser v0.0.40+; a few fields already in v0.0.39). */
const v = (number: number) => ({ set: true, infinite: false, number });
const UNSET = { set: false, infinite: false, number: 0 };
const SUCCESS = { status: ['SUCCESS'], return_code: v(0), signal: { id: UNSET, name: '' } };

/** Fields of a v0.0.41 squeue job that eastwatch ignores, at the values a plain GPU batch job has. */
function squeueJobV41(fields: Record<string, unknown>): Record<string, unknown> {
  const id = fields.job_id as number;
  return {
    account: 'ml-foundation',
    accrue_time: v(1763992500),
    admin_comment: '',
    allocating_node: 'login01',
    array_job_id: v(0),
    array_task_id: UNSET,
    array_max_tasks: v(0),
    array_task_string: '',
    association_id: 412,
    batch_features: '',
    batch_flag: true,
    batch_host: 'gpu001',
    flags: ['EXACT_TASK_COUNT_REQUESTED', 'JOB_WAS_RUNNING', 'USING_DEFAULT_QOS', 'USING_DEFAULT_WCKEY'],
    burst_buffer: '',
    burst_buffer_state: '',
    cluster: 'eos',
    cluster_features: '',
    command: '/lustre/fsw/ml-foundation/alice/launch.sbatch',
    comment: '',
    container: '',
    container_id: '',
    contiguous: false,
    core_spec: 0,
    thread_spec: 32766,
    cpus_per_task: v(14),
    deadline: v(0),
    delay_boot: v(0),
    dependency: '',
    derived_exit_code: SUCCESS,
    eligible_time: v(1763992500),
    excluded_nodes: '',
    exit_code: SUCCESS,
    extra: '',
    failed_node: '',
    features: '',
    gres_detail: ['gpu:h100:8(IDX:0-7)'],
    group_id: 5001,
    group_name: 'ml-foundation',
    het_job_id: v(0),
    het_job_id_set: '',
    het_job_offset: v(0),
    job_size_str: [],
    last_sched_evaluation: v(1763992800),
    licenses: '',
    mail_type: [],
    mail_user: 'alice',
    max_cpus: v(0),
    max_nodes: v(0),
    mcs_label: '',
    memory_per_tres: '',
    network: '',
    nice: 0,
    tasks_per_node: v(8),
    priority: v(250117),
    profile: ['NOT_SET'],
    qos: 'normal',
    reboot: false,
    required_nodes: '',
    minimum_switches: 0,
    requeue: true,
    resize_time: v(0),
    restart_cnt: 0,
    resv_name: '',
    scheduled_nodes: '',
    selinux_context: '',
    shared: [],
    exclusive: ['true'],
    oversubscribe: false,
    show_flags: ['DETAIL', 'LOCAL'],
    sockets_per_node: UNSET,
    state_description: '',
    state_reason: 'None',
    standard_error: `/lustre/fsw/ml-foundation/alice/logs/slurm-${id}.out`,
    standard_input: '/dev/null',
    standard_output: `/lustre/fsw/ml-foundation/alice/logs/slurm-${id}.out`,
    submit_time: v(1763992500),
    suspend_time: v(0),
    system_comment: '',
    time_limit: v(2880),
    time_minimum: v(0),
    threads_per_core: v(1),
    tres_bind: '',
    tres_freq: '',
    tres_per_job: '',
    tres_per_node: 'gres/gpu:8',
    tres_per_socket: '',
    tres_per_task: '',
    user_id: 21034,
    user_name: 'alice',
    maximum_switch_wait_time: 0,
    wckey: '',
    current_working_directory: '/lustre/fsw/ml-foundation/alice',
    ...fields,
  };
}

const SLURM_2405_META = {
  plugin: { type: '', name: '', data_parser: 'data_parser/v0.0.41', accounting_storage: 'accounting_storage/slurmdbd' },
  client: { source: '/dev/pts/3', user: 'ops', group: 'ops' },
  command: ['squeue', '--json'],
  slurm: { version: { major: '24', micro: '4', minor: '05' }, release: '24.05.4', cluster: 'eos' },
};

/**
 * `squeue --json` on Slurm 24.05 (data_parser v0.0.41): a running job on a multi-range hostlist, a pending job,
 * a running array task and the pending rest of its array, both components of a heterogeneous job, and a job
 * cancelled while running (squeue still lists it for MinJobAge).
 */
export const SQUEUE_V0041 = {
  jobs: [
    squeueJobV41({
      job_id: 48213,
      name: 'llama-70b-pretrain',
      partition: 'h100',
      comment: 'eastwatch.pattern=ring',
      job_state: ['RUNNING'],
      nodes: 'gpu[001-016,020]',
      node_count: v(17),
      cpus: v(1904),
      tasks: v(136),
      start_time: v(1763992800), // 2025-11-24T14:00:00Z
      end_time: v(1764165600), // start + the 48 h time limit: not an end
      tres_req_str: 'cpu=1904,mem=34000G,node=17,billing=1904,gres/gpu=136',
      tres_alloc_str: 'cpu=1904,mem=34000G,node=17,billing=1904,gres/gpu=136',
      job_resources: {
        select_type: ['CORE', 'MEMORY'],
        nodes: { count: 17, select_type: ['AVAILABLE'], list: 'gpu[001-016,020]', whole: true, allocation: [] },
        cpus: 1904,
        threads_per_core: v(1),
      },
    }),
    squeueJobV41({
      job_id: 48240,
      name: 'mixtral-sft',
      partition: 'h100',
      job_state: ['PENDING'],
      state_reason: 'Resources',
      flags: ['EXACT_TASK_COUNT_REQUESTED', 'USING_DEFAULT_QOS', 'USING_DEFAULT_WCKEY'],
      nodes: '',
      batch_host: '',
      gres_detail: [],
      scheduled_nodes: 'gpu[021-028]',
      node_count: v(8),
      cpus: v(896),
      start_time: v(1764021600), // the backfill scheduler's expected start, not a start
      end_time: v(1764194400),
      tres_req_str: 'cpu=896,mem=16000G,node=8,billing=896,gres/gpu=64',
      tres_alloc_str: '',
    }),
    squeueJobV41({
      job_id: 48231,
      name: 'eval-sweep',
      partition: 'h100',
      user_name: 'bob',
      user_id: 21077,
      array_job_id: v(48225),
      array_task_id: v(6),
      array_max_tasks: v(4),
      job_state: ['RUNNING'],
      nodes: 'gpu045',
      batch_host: 'gpu045',
      node_count: v(1),
      cpus: v(112),
      start_time: v(1763997120), // 2025-11-24T15:12:00Z
      end_time: v(1764004320),
      time_limit: v(120),
      tres_alloc_str: 'cpu=112,mem=2000G,node=1,billing=112,gres/gpu=8',
    }),
    squeueJobV41({
      job_id: 48225,
      name: 'eval-sweep',
      partition: 'h100',
      user_name: 'bob',
      user_id: 21077,
      array_job_id: v(48225),
      array_task_id: UNSET,
      array_max_tasks: v(4),
      array_task_string: '7-31%4',
      job_state: ['PENDING'],
      state_reason: 'JobArrayTaskLimit',
      nodes: '',
      batch_host: '',
      gres_detail: [],
      node_count: v(1),
      start_time: v(0),
      end_time: v(0),
      time_limit: v(120),
      tres_alloc_str: '',
    }),
    squeueJobV41({
      job_id: 48250,
      name: 'rlhf-pipeline',
      partition: 'cpu',
      admin_comment: 'eastwatch.pattern=pipeline-parallel',
      het_job_id: v(48250),
      het_job_id_set: '48250-48251',
      het_job_offset: v(0),
      job_state: ['RUNNING'],
      nodes: 'cpu[01-02]',
      batch_host: 'cpu01',
      gres_detail: [],
      node_count: v(2),
      cpus: v(256),
      start_time: v(1764000750), // 2025-11-24T16:12:30Z
      end_time: v(1764029550),
      time_limit: v(480),
      tres_per_node: '',
      tres_alloc_str: 'cpu=256,mem=1000G,node=2,billing=256',
    }),
    squeueJobV41({
      job_id: 48251,
      name: 'rlhf-pipeline',
      partition: 'h100',
      admin_comment: 'eastwatch.pattern=pipeline-parallel',
      comment: 'eastwatch.pattern=ring owner=rl-team',
      het_job_id: v(48250),
      het_job_id_set: '48250-48251',
      het_job_offset: v(1),
      job_state: ['RUNNING'],
      nodes: 'gpu[021-024]',
      batch_host: 'gpu021',
      node_count: v(4),
      cpus: v(448),
      start_time: v(1764000750),
      end_time: v(1764029550),
      time_limit: v(480),
      tres_alloc_str: 'cpu=448,mem=8000G,node=4,billing=448,gres/gpu=32',
    }),
    squeueJobV41({
      job_id: 48190,
      name: 'ablation-3',
      partition: 'h100',
      comment: 'eastwatch.pattern=butterfly', // not a pattern eastwatch knows: ignored
      job_state: ['CANCELLED'],
      state_reason: 'None',
      nodes: 'gpu[030-031]',
      batch_host: 'gpu030',
      node_count: v(2),
      cpus: v(224),
      start_time: v(1763985600), // 2025-11-24T12:00:00Z
      end_time: v(1763991000), // 2025-11-24T13:30:00Z
      exit_code: { status: ['SIGNALED'], return_code: UNSET, signal: { id: v(15), name: 'TERM' } },
      tres_alloc_str: 'cpu=224,mem=4000G,node=2,billing=224,gres/gpu=16',
    }),
  ],
  meta: SLURM_2405_META,
  errors: [],
  warnings: [],
};

/** Fields of a v0.0.39 scontrol job that eastwatch ignores: times are plain numbers, a few counters objects. */
function scontrolJobV39(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    account: 'dmn@h100',
    accrue_time: 1763930000,
    admin_comment: '',
    allocating_node: 'jean-zay2',
    array_job_id: v(0),
    array_task_id: UNSET,
    array_max_tasks: v(0),
    array_task_string: '',
    association_id: 22684,
    batch_features: '',
    batch_flag: true,
    flags: ['EXACT_TASK_COUNT_REQUESTED', 'JOB_WAS_RUNNING', 'USING_DEFAULT_WCKEY'],
    burst_buffer: '',
    cluster: 'jean-zay',
    command: './slurm/run_pretraining.slurm',
    comment: '',
    contiguous: false,
    cpus_per_task: v(10),
    deadline: 0,
    dependency: '',
    derived_exit_code: v(0),
    eligible_time: 1763930000,
    exit_code: v(0),
    features: '',
    gres_detail: ['gpu:8(IDX:0-7)'],
    group_id: 300359,
    group_name: 'genini01',
    het_job_id: v(0),
    het_job_id_set: '',
    het_job_offset: v(0),
    last_sched_evaluation: 1763930100,
    mail_user: 'www26kf',
    partition: 'gpu_p5',
    preempt_time: 0,
    pre_sus_time: 0,
    priority: v(239256),
    qos: 'qos_gpu-t3',
    requeue: true,
    resize_time: 0,
    restart_cnt: 0,
    show_flags: ['DETAIL', 'LOCAL'],
    state_reason: 'None',
    standard_output: '/gpfsdswork/projects/rech/dmn/www26kf/logs/%j.out',
    submit_time: 1763930000,
    suspend_time: 0,
    system_comment: '',
    time_limit: v(1200),
    tres_per_node: 'gres:gpu:8',
    tres_req_str: 'cpu=80,mem=400000M,node=1,billing=80,gres/gpu=8',
    user_id: 303600,
    user_name: 'www26kf',
    current_working_directory: '/gpfsdswork/projects/rech/dmn/www26kf/repos/model',
    ...fields,
  };
}

/**
 * `scontrol show job --json` on Slurm 23.02 (data_parser v0.0.39): job_state a plain string, start_time and
 * end_time plain numbers of seconds. A running job (pattern from the admin comment), a completed one and one
 * still COMPLETING (its end_time is already the real end).
 */
export const SCONTROL_V0039 = {
  meta: {
    plugins: { data_parser: 'data_parser/v0.0.39', accounting_storage: 'accounting_storage/slurmdbd' },
    command: ['scontrol', 'show', 'job', '--json'],
    Slurm: { version: { major: 23, micro: 6, minor: 2 }, release: '23.02.6' },
  },
  jobs: [
    scontrolJobV39({
      job_id: 39114,
      name: 'bloom-tp8',
      admin_comment: 'eastwatch.pattern=tensor-parallel',
      batch_host: 'gpu-a01',
      job_state: 'RUNNING',
      nodes: 'gpu-a[01-04],gpu-b07',
      node_count: v(5),
      cpus: v(400),
      start_time: 1764000000, // 2025-11-24T16:00:00Z
      end_time: 1764086400, // the time limit
    }),
    scontrolJobV39({
      job_id: 39102,
      name: 'bloom-eval',
      batch_host: 'gpu-a05',
      job_state: 'COMPLETED',
      nodes: 'gpu-a[05-06]',
      node_count: v(2),
      cpus: v(160),
      start_time: 1763935200, // 2025-11-23T22:00:00Z
      end_time: 1763964000, // 2025-11-24T06:00:00Z
    }),
    scontrolJobV39({
      job_id: 39120,
      name: 'bloom-ckpt-convert',
      batch_host: 'gpu-b01',
      job_state: 'COMPLETING',
      nodes: 'gpu-b[01-02]',
      node_count: v(2),
      cpus: v(160),
      start_time: 1763996400, // 2025-11-24T15:00:00Z
      end_time: 1764006900, // 2025-11-24T17:55:00Z, when its processes ended; the epilog is still running
    }),
  ],
  warnings: [],
  errors: [],
};

/**
 * slurmrestd `GET /slurm/v0.0.40/jobs` on Slurm 23.11: a failed job, a timed-out one, one still booting its
 * nodes (RUNNING with the CONFIGURING flag), a suspended one and one cancelled before it ever ran.
 */
export const SLURMRESTD_V0040 = {
  jobs: [
    {
      account: 'research',
      accrue_time: v(1763970000),
      admin_comment: '',
      array_job_id: v(0),
      array_task_id: UNSET,
      array_task_string: '',
      batch_flag: true,
      batch_host: 'dgx03',
      cluster: 'selene',
      comment: 'eastwatch.pattern=all-to-all',
      cpus: v(256),
      derived_exit_code: { status: ['ERROR'], return_code: v(1), signal: { id: UNSET, name: '' } },
      end_time: v(1763975607), // 2025-11-24T09:13:27Z
      exit_code: { status: ['ERROR'], return_code: v(1), signal: { id: UNSET, name: '' } },
      het_job_id: v(0),
      het_job_offset: v(0),
      job_id: 51002,
      job_state: ['FAILED'],
      name: 'moe-expert-parallel',
      node_count: v(2),
      nodes: 'dgx[03-04]',
      partition: 'batch',
      priority: v(0),
      qos: 'normal',
      start_time: v(1763971200), // 2025-11-24T08:00:00Z
      state_reason: 'NonZeroExitCode',
      submit_time: v(1763970000),
      time_limit: v(240),
      user_name: 'carol',
    },
    {
      account: 'research',
      admin_comment: '',
      array_job_id: v(0),
      array_task_id: UNSET,
      batch_host: 'dgx05',
      cluster: 'selene',
      comment: '',
      cpus: v(512),
      end_time: v(1763985600), // 2025-11-24T12:00:00Z, the limit it hit
      exit_code: { status: ['SIGNALED'], return_code: UNSET, signal: { id: v(9), name: 'KILL' } },
      het_job_id: v(0),
      het_job_offset: v(0),
      job_id: 51007,
      job_state: ['TIMEOUT'],
      name: 'dlrm-train',
      node_count: v(4),
      nodes: 'dgx[05-08]',
      partition: 'batch',
      start_time: v(1763978400), // 2025-11-24T10:00:00Z
      state_reason: 'None',
      time_limit: v(120),
      user_name: 'dave',
    },
    {
      account: 'research',
      array_job_id: v(0),
      array_task_id: UNSET,
      batch_host: 'dgx11',
      cluster: 'selene',
      comment: 'eastwatch.pattern=data-parallel',
      cpus: v(256),
      end_time: v(1764032400),
      het_job_id: v(0),
      het_job_offset: v(0),
      job_id: 51015,
      job_state: ['RUNNING', 'CONFIGURING'],
      name: 'vit-huge',
      node_count: v(2),
      nodes: 'dgx[11-12]',
      partition: 'batch',
      start_time: v(1764003600), // 2025-11-24T17:00:00Z
      state_reason: 'None',
      time_limit: v(480),
      user_name: 'erin',
    },
    {
      account: 'research',
      array_job_id: v(0),
      array_task_id: UNSET,
      batch_host: 'dgx01',
      cluster: 'selene',
      comment: '',
      cpus: v(128),
      end_time: v(1764059400),
      het_job_id: v(0),
      het_job_offset: v(0),
      job_id: 51016,
      job_state: ['SUSPENDED'],
      name: 'low-prio-finetune',
      node_count: v(1),
      nodes: 'dgx01',
      partition: 'preemptible',
      start_time: v(1764001800), // 2025-11-24T16:30:00Z
      state_reason: 'None',
      suspend_time: v(1764004000),
      time_limit: v(960),
      user_name: 'erin',
    },
    {
      account: 'research',
      array_job_id: v(0),
      array_task_id: UNSET,
      batch_host: '',
      cluster: 'selene',
      comment: '',
      cpus: v(256),
      end_time: v(1763982000),
      het_job_id: v(0),
      het_job_offset: v(0),
      job_id: 51011,
      job_state: ['CANCELLED'],
      name: 'dlrm-train-2',
      node_count: v(2),
      nodes: '',
      partition: 'batch',
      start_time: v(0),
      state_reason: 'None',
      time_limit: v(120),
      user_name: 'dave',
    },
  ],
  last_backfill: v(1764007170),
  last_update: v(1764007195),
  meta: {
    plugin: {
      type: 'openapi/slurmctld',
      name: 'Slurm OpenAPI slurmctld',
      data_parser: 'data_parser/v0.0.40',
      accounting_storage: 'accounting_storage/slurmdbd',
    },
    client: { source: '[10.0.0.15]:51234', user: 'eastwatch', group: 'eastwatch' },
    command: [],
    slurm: { version: { major: '23', micro: '10', minor: '11' }, release: '23.11.10', cluster: 'selene' },
  },
  errors: [],
  warnings: [],
};

/** A v0.0.41 sacct job record with the fields eastwatch ignores. */
function sacctJobV41(fields: Record<string, unknown>): Record<string, unknown> {
  const id = fields.job_id as number;
  return {
    account: 'ml-foundation',
    comment: { administrator: '', job: '', system: '' },
    allocation_nodes: 1,
    array: { job_id: 0, limits: { max: { running: { tasks: 0 } } }, task_id: UNSET, task: '' },
    association: { account: 'ml-foundation', cluster: 'eos', partition: '', user: 'alice', id: 412 },
    block: '',
    cluster: 'eos',
    constraints: '',
    container: '',
    derived_exit_code: SUCCESS,
    exit_code: SUCCESS,
    extra: '',
    failed_node: '',
    flags: ['STARTED_ON_SCHEDULE', 'START_RECEIVED'],
    group: 'ml-foundation',
    het: { job_id: 0, job_offset: UNSET },
    licenses: '',
    mcs: { label: '' },
    name: 'job',
    partition: 'h100',
    hold: false,
    priority: v(250000),
    qos: 'normal',
    required: { CPUs: 112, memory_per_cpu: UNSET, memory_per_node: v(2048000) },
    kill_request_user: '',
    restart_cnt: 0,
    reservation: { id: 0, name: '' },
    script: '',
    steps: [],
    submit_line: `sbatch launch-${id}.sbatch`,
    tres: { allocated: [{ type: 'cpu', name: '', id: 1, count: 112 }, { type: 'gres', name: 'gpu', id: 1001, count: 8 }], requested: [] },
    used_gres: '',
    user: 'alice',
    wckey: { wckey: '', flags: [] },
    working_directory: '/lustre/fsw/ml-foundation/alice',
    ...fields,
  };
}

/** sacct's `time` object; start and end are plain seconds (0: not yet). */
const sacctTime = (start: number, end: number, limit: number) => ({
  elapsed: end && start ? end - start : 0,
  eligible: start ? start - 300 : 1763940000,
  end,
  planned: v(start ? 300 : 0),
  start,
  submission: start ? start - 300 : 1763940000,
  suspended: 0,
  system: { seconds: 12, microseconds: 0 },
  limit: v(limit),
  total: { seconds: 3600, microseconds: 0 },
  user: { seconds: 3588, microseconds: 0 },
});

/**
 * `sacct --json` on Slurm 24.05 (data_parser v0.0.41), for backfill: a completed job with its pattern in the
 * job comment (and one of its steps), an array task killed for memory, a preempted and a node-failed job, a
 * job cancelled while pending ("None assigned") and a job still running (end 0).
 */
export const SACCT_V0041 = {
  jobs: [
    sacctJobV41({
      job_id: 47001,
      name: 'gpt-13b-pretrain',
      comment: { administrator: '', job: 'eastwatch.pattern=all-to-all', system: '' },
      allocation_nodes: 8,
      nodes: 'gpu[001-008]',
      state: { current: ['COMPLETED'], reason: 'None' },
      time: sacctTime(1763935200, 1763964000, 600), // 2025-11-23T22:00:00Z to 2025-11-24T06:00:00Z
      steps: [
        {
          time: { elapsed: 28790, end: v(1763963995), start: v(1763935205), suspended: 0 },
          exit_code: SUCCESS,
          nodes: { count: 8, range: 'gpu[001-008]', list: ['gpu001', 'gpu002', 'gpu003', 'gpu004', 'gpu005', 'gpu006', 'gpu007', 'gpu008'] },
          tasks: { count: 64 },
          pid: '',
          state: ['COMPLETED'],
          step: { id: '47001.0', name: 'python' },
          task: { distribution: 'Block' },
        },
      ],
    }),
    sacctJobV41({
      job_id: 47013,
      name: 'tokenize-shard',
      array: { job_id: 47010, limits: { max: { running: { tasks: 8 } } }, task_id: v(3), task: '' },
      nodes: 'gpu017',
      state: { current: ['OUT_OF_MEMORY'], reason: 'None' },
      exit_code: { status: ['SIGNALED'], return_code: UNSET, signal: { id: v(9), name: 'KILL' } },
      time: sacctTime(1763949600, 1763952435, 120), // 2025-11-24T02:00:00Z to 02:47:15Z
    }),
    sacctJobV41({
      job_id: 47020,
      name: 'scavenger-train',
      partition: 'scavenger',
      allocation_nodes: 2,
      nodes: 'gpu[040-041]',
      state: { current: ['PREEMPTED'], reason: 'None' },
      time: sacctTime(1763956800, 1763962262, 1440), // 2025-11-24T04:00:00Z to 05:31:02Z
    }),
    sacctJobV41({
      job_id: 47021,
      name: 'diffusion-xl',
      allocation_nodes: 2,
      nodes: 'gpu[042-043]',
      failed_node: 'gpu043',
      state: { current: ['NODE_FAIL'], reason: 'None' },
      time: sacctTime(1763967600, 1763968960, 1440), // 2025-11-24T07:00:00Z to 07:22:40Z
    }),
    sacctJobV41({
      job_id: 47030,
      name: 'never-ran',
      allocation_nodes: 0,
      nodes: 'None assigned',
      state: { current: ['CANCELLED'], reason: 'Resources' },
      time: sacctTime(0, 1763982000, 60),
    }),
    sacctJobV41({
      job_id: 48213,
      name: 'llama-70b-pretrain',
      comment: { administrator: '', job: 'eastwatch.pattern=ring', system: '' },
      allocation_nodes: 17,
      nodes: 'gpu[001-016,020]',
      state: { current: ['RUNNING'], reason: 'None' },
      time: sacctTime(1763992800, 0, 2880),
    }),
  ],
  meta: {
    ...SLURM_2405_META,
    client: { source: '/dev/pts/3', user: 'ops', group: 'ops' },
    command: ['sacct', '--json', '--starttime', '2025-11-23', '--allusers'],
  },
  errors: [],
  warnings: [],
};

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes

interface ContainerSpec {
  name: string;
  image: string;
  gpus?: number;
  /** The container's state in status.containerStatuses. */
  state: Record<string, unknown>;
  restartCount?: number;
}

interface PodSpec {
  name: string;
  namespace: string;
  uid: string;
  created: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set for pods a controller names (Job, ReplicaSet); the training operators name theirs outright. */
  generateName?: string;
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
  nodeName?: string;
  schedulerName?: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  podIP?: string;
  /** Further addresses (dual stack); podIPs lists podIP first. */
  extraIPs?: string[];
  hostIP?: string;
  startTime?: string;
  containers: ContainerSpec[];
  conditions?: Record<string, unknown>[];
  restartPolicy?: string;
  serviceAccountName?: string;
}

/** A Pod as `kubectl get pods -o json` prints it (Kubernetes 1.30). */
function pod(p: PodSpec): Record<string, unknown> {
  const ready = p.phase === 'Running' ? 'True' : 'False';
  const scheduled = p.nodeName !== undefined;
  const ips = p.podIP ? [p.podIP, ...(p.extraIPs ?? [])] : [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(p.annotations ? { annotations: p.annotations } : {}),
      creationTimestamp: p.created,
      ...(p.generateName ? { generateName: p.generateName } : {}),
      labels: p.labels,
      name: p.name,
      namespace: p.namespace,
      ...(p.owner ? { ownerReferences: [{ ...p.owner, blockOwnerDeletion: true, controller: true }] } : {}),
      resourceVersion: String(48_000_000 + p.uid.charCodeAt(0) * 977 + p.name.length),
      uid: p.uid,
    },
    spec: {
      containers: p.containers.map((c) => ({
        image: c.image,
        imagePullPolicy: 'IfNotPresent',
        name: c.name,
        resources: c.gpus
          ? { limits: { 'nvidia.com/gpu': String(c.gpus) }, requests: { cpu: '48', memory: '900Gi', 'nvidia.com/gpu': String(c.gpus) } }
          : { requests: { cpu: '100m', memory: '128Mi' } },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        volumeMounts: [{ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: 'kube-api-access-x2k9p', readOnly: true }],
      })),
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      ...(scheduled ? { nodeName: p.nodeName } : {}),
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: p.restartPolicy ?? 'Never',
      schedulerName: p.schedulerName ?? 'default-scheduler',
      securityContext: {},
      serviceAccount: p.serviceAccountName ?? 'default',
      serviceAccountName: p.serviceAccountName ?? 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: [
        { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
        { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
        ...(p.containers.some((c) => c.gpus) ? [{ effect: 'NoSchedule', key: 'nvidia.com/gpu', operator: 'Exists' }] : []),
      ],
      volumes: [{ name: 'kube-api-access-x2k9p', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } }],
    },
    status: {
      conditions: p.conditions ?? [
        { lastProbeTime: null, lastTransitionTime: p.startTime ?? p.created, status: 'True', type: 'PodReadyToStartContainers' },
        { lastProbeTime: null, lastTransitionTime: p.startTime ?? p.created, status: 'True', type: 'Initialized' },
        { lastProbeTime: null, lastTransitionTime: p.startTime ?? p.created, status: ready, type: 'Ready' },
        { lastProbeTime: null, lastTransitionTime: p.startTime ?? p.created, status: ready, type: 'ContainersReady' },
        { lastProbeTime: null, lastTransitionTime: p.created, status: 'True', type: 'PodScheduled' },
      ],
      ...(p.containers.length && scheduled
        ? {
            containerStatuses: p.containers.map((c) => ({
              containerID: `containerd://${(p.uid.replace(/-/g, '') + c.name).slice(0, 32).padEnd(64, '0')}`,
              image: c.image,
              imageID: `${c.image.split(':')[0]}@sha256:${'7c1e'.repeat(16)}`,
              lastState: {},
              name: c.name,
              ready: p.phase === 'Running' && 'running' in c.state,
              restartCount: c.restartCount ?? 0,
              started: 'running' in c.state,
              state: c.state,
            })),
          }
        : {}),
      ...(p.hostIP ? { hostIP: p.hostIP, hostIPs: [{ ip: p.hostIP }] } : {}),
      phase: p.phase,
      ...(p.podIP ? { podIP: p.podIP, podIPs: ips.map((ip) => ({ ip })) } : {}),
      qosClass: p.containers.some((c) => c.gpus) ? 'Burstable' : 'BestEffort',
      ...(p.startTime ? { startTime: p.startTime } : {}),
    },
  };
}

const running = (startedAt: string) => ({ running: { startedAt } });
const terminated = (startedAt: string, finishedAt: string, exitCode = 0) => ({
  terminated: {
    containerID: `containerd://${'9f2b'.repeat(16)}`,
    exitCode,
    finishedAt,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    startedAt,
  },
});

const PYTORCH_IMAGE = 'nvcr.io/nvidia/pytorch:24.10-py3';

/** A PyTorchJob replica: labels and owner as the Kubeflow training operator v1.8 sets them. */
function pytorchReplica(job: string, type: 'master' | 'worker', index: number, node: string | undefined, ip: string | undefined, startTime: string | undefined, uid: string) {
  return pod({
    name: `${job}-${type}-${index}`,
    namespace: 'ai-training',
    uid,
    created: '2025-11-24T14:01:58Z',
    labels: {
      'training.kubeflow.org/job-name': job,
      'training.kubeflow.org/operator-name': 'pytorchjob-controller',
      'training.kubeflow.org/replica-index': String(index),
      'training.kubeflow.org/replica-type': type,
      ...(type === 'master' ? { 'training.kubeflow.org/job-role': 'master' } : {}),
    },
    annotations: { 'eastwatch.io/pattern': 'ring', 'sidecar.istio.io/inject': 'false' },
    owner: { apiVersion: 'kubeflow.org/v1', kind: 'PyTorchJob', name: job, uid: '5b0d4c2e-6a3f-4e1b-9c8d-1f2e3a4b5c6d' },
    nodeName: node,
    phase: startTime ? 'Running' : 'Pending',
    podIP: ip,
    hostIP: node ? `10.0.12.${Number(node.slice(-3))}` : undefined,
    startTime,
    restartPolicy: 'OnFailure',
    containers: [{ name: 'pytorch', image: PYTORCH_IMAGE, gpus: 8, state: startTime ? running(startTime.replace(/:\d\dZ$/, ':40Z')) : { waiting: { reason: 'ContainerCreating' } } }],
  });
}

/**
 * `kubectl get pods -A -o json`: a PyTorchJob (master + 3 workers), an MPIJob (launcher under its batch Job,
 * 2 workers), a JobSet (2 pods, dual-stack), a Volcano job (one pod done, one running), a completed indexed
 * batch Job (one pod succeeded, one failed), a PyTorchJob whose only pod is not scheduled yet, and a
 * Deployment's pod.
 */
export const KUBECTL_PODS = {
  apiVersion: 'v1',
  items: [
    // PyTorchJob ai-training/trainer-88214
    pytorchReplica('trainer-88214', 'master', 0, 'gpu-021', '10.244.7.41', '2025-11-24T14:02:11Z', 'a3c1e6f2-0d4b-4f7a-9e21-7b5c3d9f8a01'),
    pytorchReplica('trainer-88214', 'worker', 0, 'gpu-018', '10.244.4.12', '2025-11-24T14:02:13Z', 'b47d2a90-1c3e-4b8f-a5d6-2e7f9c0b1a12'),
    pytorchReplica('trainer-88214', 'worker', 1, 'gpu-019', '10.244.5.9', '2025-11-24T14:02:12Z', 'c58e3b01-2d4f-4c90-b6e7-3f8a0d1c2b23'),
    pytorchReplica('trainer-88214', 'worker', 2, 'gpu-020', '10.244.6.22', '2025-11-24T14:02:14Z', 'd69f4c12-3e50-4da1-87f8-409b1e2d3c34'),

    // MPIJob ai-bench/nccl-alltoall (mpi-operator v0.5: the launcher is a batch Job's pod)
    pod({
      name: 'nccl-alltoall-launcher-7qv4d',
      generateName: 'nccl-alltoall-launcher-',
      namespace: 'ai-bench',
      uid: 'e7a05d23-4f61-4eb2-98a9-51ac2f3e4d45',
      created: '2025-11-24T15:29:55Z',
      labels: {
        'batch.kubernetes.io/controller-uid': '0c9e8f7a-6b5d-4c3e-2f1a-0b9c8d7e6f50',
        'batch.kubernetes.io/job-name': 'nccl-alltoall-launcher',
        'controller-uid': '0c9e8f7a-6b5d-4c3e-2f1a-0b9c8d7e6f50',
        'job-name': 'nccl-alltoall-launcher',
        'training.kubeflow.org/job-name': 'nccl-alltoall',
        'training.kubeflow.org/job-role': 'launcher',
        'training.kubeflow.org/operator-name': 'mpi-operator',
      },
      owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'nccl-alltoall-launcher', uid: '0c9e8f7a-6b5d-4c3e-2f1a-0b9c8d7e6f50' },
      nodeName: 'cpu-004',
      phase: 'Running',
      podIP: '10.244.9.31',
      hostIP: '10.0.11.4',
      startTime: '2025-11-24T15:30:10Z',
      containers: [{ name: 'mpi-launcher', image: 'ghcr.io/example/nccl-tests:2.13.10', state: running('2025-11-24T15:30:12Z') }],
      serviceAccountName: 'nccl-alltoall-launcher',
    }),
    ...[0, 1].map((i) =>
      pod({
        name: `nccl-alltoall-worker-${i}`,
        namespace: 'ai-bench',
        uid: `f8b16e34-5072-4fc3-a9ba-62bd3f4f5e5${i}`,
        created: '2025-11-24T15:29:55Z',
        labels: {
          'training.kubeflow.org/job-name': 'nccl-alltoall',
          'training.kubeflow.org/job-role': 'worker',
          'training.kubeflow.org/operator-name': 'mpi-operator',
          'training.kubeflow.org/replica-index': String(i),
        },
        owner: { apiVersion: 'kubeflow.org/v2beta1', kind: 'MPIJob', name: 'nccl-alltoall', uid: '1dae9f8b-7c6e-4d5f-8a0b-1c2d3e4f5a60' },
        nodeName: `gpu-03${i}`,
        phase: 'Running',
        podIP: `10.244.1${2 + i}.5`,
        hostIP: `10.0.12.3${i}`,
        startTime: `2025-11-24T15:30:0${2 + i}Z`,
        containers: [{ name: 'mpi-worker', image: 'ghcr.io/example/nccl-tests:2.13.10', gpus: 8, state: running(`2025-11-24T15:30:0${5 + i}Z`) }],
      }),
    ),

    // JobSet ai-training/megatron-gpt: its pods also carry their child Job's labels
    ...[0, 1].map((i) =>
      pod({
        name: `megatron-gpt-workers-0-${i}-${['x7k2p', 'm9q4z'][i]}`,
        generateName: `megatron-gpt-workers-0-${i}-`,
        namespace: 'ai-training',
        uid: `0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4${i}`,
        created: '2025-11-24T16:10:00Z',
        labels: {
          'batch.kubernetes.io/controller-uid': '6f5e4d3c-2b1a-4098-8765-4321fedcba98',
          'batch.kubernetes.io/job-completion-index': String(i),
          'batch.kubernetes.io/job-name': 'megatron-gpt-workers-0',
          'controller-uid': '6f5e4d3c-2b1a-4098-8765-4321fedcba98',
          'job-name': 'megatron-gpt-workers-0',
          'jobset.sigs.k8s.io/job-index': '0',
          'jobset.sigs.k8s.io/job-key': 'f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4e',
          'jobset.sigs.k8s.io/jobset-name': 'megatron-gpt',
          'jobset.sigs.k8s.io/replicatedjob-name': 'workers',
          'jobset.sigs.k8s.io/replicatedjob-replicas': '1',
          'jobset.sigs.k8s.io/restart-attempt': '0',
        },
        annotations: {
          'batch.kubernetes.io/job-completion-index': String(i),
          'eastwatch.io/pattern': 'tensor-parallel',
          'jobset.sigs.k8s.io/job-index': '0',
          'jobset.sigs.k8s.io/jobset-name': 'megatron-gpt',
          'jobset.sigs.k8s.io/replicatedjob-name': 'workers',
        },
        owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'megatron-gpt-workers-0', uid: '6f5e4d3c-2b1a-4098-8765-4321fedcba98' },
        nodeName: `gpu-04${i}`,
        phase: 'Running',
        podIP: `10.244.2${i}.7`,
        extraIPs: [`fd00:10:244:2${i}::7`],
        hostIP: `10.0.12.4${i}`,
        startTime: `2025-11-24T16:10:0${5 - i}Z`,
        containers: [{ name: 'megatron', image: PYTORCH_IMAGE, gpus: 8, state: running('2025-11-24T16:10:30Z') }],
      }),
    ),

    // Volcano vc-jobs/resnet-dist: the worker has finished, the parameter server still runs
    ...(['ps', 'worker'] as const).map((task) =>
      pod({
        name: `resnet-dist-${task}-0`,
        namespace: 'vc-jobs',
        uid: task === 'ps' ? '2b3c4d5e-6f70-4a81-92b3-c4d5e6f70819' : '3c4d5e6f-7081-4b92-a3c4-d5e6f7081920',
        created: '2025-11-24T16:59:50Z',
        labels: {
          'volcano.sh/job-name': 'resnet-dist',
          'volcano.sh/job-namespace': 'vc-jobs',
          'volcano.sh/queue-name': 'research',
          'volcano.sh/task-index': '0',
          'volcano.sh/task-spec': task,
          'volcano.sh/job-version': '0',
        },
        annotations: {
          'eastwatch.io/pattern': 'data-parallel',
          'scheduling.k8s.io/group-name': 'resnet-dist-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d',
          'volcano.sh/job-name': 'resnet-dist',
          'volcano.sh/job-version': '0',
          'volcano.sh/queue-name': 'research',
          'volcano.sh/task-index': '0',
          'volcano.sh/task-spec': task,
          'volcano.sh/template-uid': `resnet-dist-${task}`,
        },
        owner: { apiVersion: 'batch.volcano.sh/v1alpha1', kind: 'Job', name: 'resnet-dist', uid: '9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d' },
        schedulerName: 'volcano',
        nodeName: task === 'ps' ? 'gpu-050' : 'gpu-051',
        phase: task === 'ps' ? 'Running' : 'Succeeded',
        podIP: task === 'ps' ? '10.244.30.4' : '10.244.31.9',
        hostIP: task === 'ps' ? '10.0.12.50' : '10.0.12.51',
        startTime: '2025-11-24T17:00:01Z',
        containers: [{
          name: task,
          image: 'volcanosh/example-tf:0.0.1',
          gpus: task === 'worker' ? 8 : 0,
          state: task === 'ps' ? running('2025-11-24T17:00:09Z') : terminated('2025-11-24T17:00:09Z', '2025-11-24T17:41:30Z'),
        }],
      }),
    ),

    // Job ai-eval/nightly-eval-29401234 (from a CronJob), indexed, 2 pods: one succeeded, one failed
    ...[0, 1].map((i) =>
      pod({
        name: `nightly-eval-29401234-${i}-${['4xk2s', 'p8w7n'][i]}`,
        generateName: `nightly-eval-29401234-${i}-`,
        namespace: 'ai-eval',
        uid: `4d5e6f70-8192-4ca3-b4d5-e6f70819203${i}`,
        created: '2025-11-24T03:00:00Z',
        labels: {
          'batch.kubernetes.io/controller-uid': '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d',
          'batch.kubernetes.io/job-completion-index': String(i),
          'batch.kubernetes.io/job-name': 'nightly-eval-29401234',
          'controller-uid': '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d',
          'job-name': 'nightly-eval-29401234',
        },
        annotations: { 'batch.kubernetes.io/job-completion-index': String(i) },
        owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'nightly-eval-29401234', uid: '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d' },
        nodeName: `gpu-06${i}`,
        phase: i === 0 ? 'Succeeded' : 'Failed',
        podIP: `10.244.4${i}.3`,
        hostIP: `10.0.12.6${i}`,
        startTime: `2025-11-24T03:00:0${7 + 2 * i}Z`,
        containers: [
          { name: 'eval', image: PYTORCH_IMAGE, gpus: 8, state: i === 0 ? terminated('2025-11-24T03:00:20Z', '2025-11-24T03:41:09Z') : terminated('2025-11-24T03:00:21Z', '2025-11-24T03:44:52Z', 1) },
          // the log shipper of pod 0 is the last container to stop
          { name: 'log-shipper', image: 'fluent/fluent-bit:3.1', state: i === 0 ? terminated('2025-11-24T03:00:20Z', '2025-11-24T03:45:30Z') : terminated('2025-11-24T03:00:21Z', '2025-11-24T03:44:53Z') },
        ],
      }),
    ),

    // PyTorchJob ai-training/llm-sweep-17: its only pod is waiting for GPUs
    {
      ...pytorchReplica('llm-sweep-17', 'worker', 0, undefined, undefined, undefined, '5e6f7081-92a3-4db4-c5e6-f70819203142'),
      status: {
        conditions: [{
          lastProbeTime: null,
          lastTransitionTime: '2025-11-24T17:58:12Z',
          message: '0/64 nodes are available: 8 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 56 Insufficient nvidia.com/gpu. preemption: 0/64 nodes are available: 56 No preemption victims found for incoming pod, 8 Preemption is not helpful for scheduling.',
          reason: 'Unschedulable',
          status: 'False',
          type: 'PodScheduled',
        }],
        phase: 'Pending',
        qosClass: 'Burstable',
      },
    },

    // A Deployment's pod: no job
    pod({
      name: 'inference-gateway-7c9f8d6b5-q2w4e',
      generateName: 'inference-gateway-7c9f8d6b5-',
      namespace: 'serving',
      uid: '6f708192-a3b4-4ec5-d6f7-081920314253',
      created: '2025-11-20T09:12:44Z',
      labels: { app: 'inference-gateway', 'pod-template-hash': '7c9f8d6b5' },
      owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'inference-gateway-7c9f8d6b5', uid: '8192a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7' },
      nodeName: 'cpu-004',
      phase: 'Running',
      podIP: '10.244.9.14',
      hostIP: '10.0.11.4',
      startTime: '2025-11-20T09:12:44Z',
      restartPolicy: 'Always',
      containers: [{ name: 'gateway', image: 'ghcr.io/example/inference-gateway:1.4.2', state: running('2025-11-20T09:12:51Z') }],
    }),
  ],
  kind: 'List',
  metadata: { resourceVersion: '' },
};

/** The same pods as the API server returns them (`GET /api/v1/pods`): a PodList whose items carry no kind. */
export const API_POD_LIST = {
  kind: 'PodList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '48213377' },
  items: KUBECTL_PODS.items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
};

/** `kubectl get pod -n ai-eval tokenizer-bench-8mz2x -o json`, from an IPv6-only cluster. */
export const SINGLE_POD_IPV6 = pod({
  name: 'tokenizer-bench-8mz2x',
  generateName: 'tokenizer-bench-',
  namespace: 'ai-eval',
  uid: '708192a3-b4c5-4fd6-e7f8-0919a2b3c4d5',
  created: '2025-11-24T17:20:00Z',
  labels: {
    'batch.kubernetes.io/controller-uid': '92a3b4c5-d6e7-4f80-9a1b-2c3d4e5f6071',
    'batch.kubernetes.io/job-name': 'tokenizer-bench',
    'controller-uid': '92a3b4c5-d6e7-4f80-9a1b-2c3d4e5f6071',
    'job-name': 'tokenizer-bench',
  },
  annotations: { 'eastwatch.io/pattern': 'Tree' },
  owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'tokenizer-bench', uid: '92a3b4c5-d6e7-4f80-9a1b-2c3d4e5f6071' },
  nodeName: 'cpu-v6-02',
  phase: 'Running',
  podIP: 'fd00:10:244:1c::2a',
  hostIP: 'fd00:10:0:12::2',
  startTime: '2025-11-24T17:20:03Z',
  containers: [{ name: 'bench', image: 'python:3.12-slim', state: running('2025-11-24T17:20:09Z') }],
});
