/**
 * Who is who, at what time, end to end: Slurm and Kubernetes documents and hand-made allocations go through
 * the allocations topic into ClickHouse; flows (from a followed Hubble file) are enriched with zone, node,
 * fabric, rail and the job that held the node at the flow's own time, late flows included; the inventory is
 * replaced while flows stream and every flow is enriched by exactly one of the two inventories.
 */
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { allocationRows, AllocationEventSchema } from '../../allocations/event';
import { parseKubernetesPods } from '../../allocations/kubernetes';
import { parseSlurmJobs } from '../../allocations/slurm';
import { waitCaughtUp } from '../../core/kafka';
import { API_POD_LIST, KUBECTL_PODS, NOW, SCONTROL_V0039, SINGLE_POD_IPV6, SLURMRESTD_V0040, SQUEUE_V0041 } from '../allocation-fixtures';
import { tcpFlowLine } from '../hubble-fixtures';
import { NCCL_LOG } from '../nccl-fixtures';
import { cli, killChildren, metricValue, query, spawnCli, testEnv, TestEnv, testKafka, waitFor } from '../helpers';
import { ROOT } from '../setup/broker';

const T = (hhmm: string) => Date.parse(`2025-11-24T${hhmm}:00Z`);

/** A Hubble line for a flow at `time` from src to dst seen off-cluster, its sequence number in the source port. */
const hubbleLine = (seq: number, time: number, src: string, dst: string): string => tcpFlowLine({ seq, time, src, dst, port: seq, offCluster: true });

/** The example inventory with its zones and node names renamed: a second, equally valid inventory. */
function renamedInventory(text: string): string {
  return text.replace(/name: training/, 'name: training-b').replace(/from: training,/g, 'from: training-b,').replace(/to: training,/g, 'to: training-b,')
    .replace('zones: [training, inference]', 'zones: [training-b, inference]')
    .replace('hosts: gpu[001-064]\n', 'hosts: b-gpu[001-064]\n');
}

describe('allocations and enrichment', () => {
  let t: TestEnv;
  const kafka = testKafka();
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('imports Slurm and Kubernetes allocations and enriches flows by the job at their own time, across an inventory reload', async () => {
    t = testEnv({ EASTWATCH_COLLECTORS: 'sflow' });
    const inventory = path.join(t.home, 'inventory.yaml');
    copyFileSync(path.join(ROOT, 'inventory/example-64-nodes.yaml'), inventory);
    const hubble = path.join(t.home, 'hubble.json');
    writeFileSync(hubble, '');
    Object.assign(t.env, { EASTWATCH_INVENTORY: inventory, EASTWATCH_HUBBLE_FILES: hubble });

    // Allocations from a Slurm document, a kubectl document, and by hand: gpu001-004 move from job A to B at 12:00.
    const slurmFile = path.join(t.home, 'squeue.json');
    const podsFile = path.join(t.home, 'pods.json');
    writeFileSync(slurmFile, JSON.stringify(SQUEUE_V0041));
    writeFileSync(podsFile, JSON.stringify(KUBECTL_PODS));
    const slurm = JSON.parse(await cli(t, ['allocations', 'import', slurmFile, '--format', 'slurm'])) as { published: number; skipped: unknown[] };
    const pods = JSON.parse(await cli(t, ['allocations', 'import', podsFile, '--format', 'kubernetes'])) as { published: number };
    await cli(t, ['allocations', 'add', '--job', 'A', '--nodes', 'gpu[001-004]', '--start', '2025-11-24T09:00:00Z', '--end', '2025-11-24T12:00:00Z', '--pattern', 'ring']);
    await cli(t, ['allocations', 'add', '--job', 'B', '--nodes', 'gpu[001-004]', '--start', '2025-11-24T12:00:00Z', '--pattern', 'all-to-all']);
    const ncclFile = path.join(t.home, 'nccl.log');
    writeFileSync(ncclFile, NCCL_LOG);
    const nccl = JSON.parse(await cli(t, ['allocations', 'import', ncclFile, '--format', 'nccl', '--job', 'C', '--start', '2025-11-24T14:00:00Z', '--pattern', 'ring']));
    expect(nccl).toEqual({ published: 1, skipped: [] });
    const expectedSlurm = parseSlurmJobs(SQUEUE_V0041, NOW);
    expect(slurm).toEqual({ published: expectedSlurm.events.length, skipped: expectedSlurm.skipped });
    const kube = parseKubernetesPods(KUBECTL_PODS, NOW);
    expect(pods.published).toBe(kube.events.length);
    const podRow = kube.events.flatMap((e) => allocationRows(AllocationEventSchema.parse(e), 0)).find((r) => r.pod_ip && !r.end)!;

    const app = spawnCli(t, ['start', '--roles', 'collectors,writer,http']);
    const http = await app.httpPort();
    await waitFor(() => (/"msg":"following log"/.test(app.output()) ? true : undefined), 30_000, () => app.output());
    await new Promise((r) => setTimeout(r, 600));

    // gpu001 -> gpu002 on the front-end at 12:01 and (arriving later) at 11:59; rail 3 of gpu001 to gpu003; to a BMC;
    // from the Kubernetes pod's address; to the internet.
    appendFileSync(hubble, [
      hubbleLine(1, T('12:01'), '10.30.1.1', '10.30.1.2'),
      hubbleLine(3, T('13:00'), '10.200.3.1', '10.200.3.3'),
      hubbleLine(4, T('13:00'), '10.30.1.1', '10.250.1.7'),
      hubbleLine(5, podRow.start + 1000, podRow.pod_ip!, '8.8.8.8'),
      hubbleLine(2, T('11:59'), '10.30.1.1', '10.30.1.2'),
    ].join('\n') + '\n');

    // Then a stream of flows while the inventory is replaced by a renamed one.
    const example = readFileSync(inventory, 'utf8');
    let seq = 100;
    const STREAM = 30;
    for (let chunk = 0; chunk < STREAM; chunk++) {
      const lines = Array.from({ length: 50 }, () => hubbleLine(seq++, T('13:30'), '10.30.1.9', '10.30.1.10'));
      appendFileSync(hubble, lines.join('\n') + '\n');
      if (chunk === 10) JSON.parse(await cli(t, ['inventory', 'apply', writeTemp(t, renamedInventory(example))]));
      await new Promise((r) => setTimeout(r, 200));
    }
    await waitFor(() => (/"msg":"inventory reloaded"/.test(app.output()) ? true : undefined), 30_000, () => app.output().slice(-2000));
    // Every line read and its flow acknowledged by Kafka, before the writer's progress on the topic means anything.
    const produced = () => metricValue(http, 'eastwatch_records_out_total{stage="collector"}');
    await waitFor(async () => ((await produced()) >= 5 + STREAM * 50 ? true : undefined), 60_000, () => app.output().slice(-2000));
    await waitCaughtUp(kafka, `${t.prefix}.flows`, t.group, 60_000);
    await waitCaughtUp(kafka, `${t.prefix}.allocations`, t.group, 60_000);
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    const rows = await query<Record<string, unknown>>(t, `SELECT src_port AS seq, src_node, src_fabric, src_rail, src_zone, src_job, src_pod,
        dst_node, dst_fabric, dst_zone, dst_job FROM eastwatch.flows WHERE src_port < 100 ORDER BY seq`);
    const side = (node: string, fabric: string, rail: number | null, zone: string, job: string) => ({ node, fabric, rail, zone, job });
    const flat = (s: ReturnType<typeof side>, d: Omit<ReturnType<typeof side>, 'rail'>) => ({
      src_node: s.node, src_fabric: s.fabric, src_rail: s.rail, src_zone: s.zone, src_job: s.job,
      dst_node: d.node, dst_fabric: d.fabric, dst_zone: d.zone, dst_job: d.job,
    });
    expect(rows).toEqual([
      { seq: 1, src_pod: '', ...flat(side('gpu001', 'frontend', null, 'training', 'B'), { node: 'gpu002', fabric: 'frontend', zone: 'training', job: 'B' }) },
      { seq: 2, src_pod: '', ...flat(side('gpu001', 'frontend', null, 'training', 'A'), { node: 'gpu002', fabric: 'frontend', zone: 'training', job: 'A' }) },
      { seq: 3, src_pod: '', ...flat(side('gpu001', 'backend', 3, 'training', 'B'), { node: 'gpu003', fabric: 'backend', zone: 'training', job: 'B' }) },
      { seq: 4, src_pod: '', ...flat(side('gpu001', 'frontend', null, 'training', 'B'), { node: 'gpu007', fabric: 'oob', zone: 'bmc', job: '' }) },
      { seq: 5, src_pod: podRow.pod, ...flat(side(podRow.node, '', null, 'training', podRow.job_id), { node: '', fabric: '', zone: 'internet', job: '' }) },
    ]);

    // The streamed flows: all there, each enriched wholly by the old or the new inventory, old ones first.
    const stream = await query<{ seq: number; v: string }>(t, `SELECT src_port AS seq,
        concat(src_zone, '|', dst_zone, '|', src_node, '|', dst_node) AS v FROM eastwatch.flows WHERE src_port >= 100 ORDER BY seq`);
    expect(stream.map((r) => r.seq)).toEqual(Array.from({ length: STREAM * 50 }, (_, i) => 100 + i));
    const old = 'training|training|gpu009|gpu010';
    const renamed = 'training-b|training-b|b-gpu009|b-gpu010';
    expect(stream.every((r) => r.v === old || r.v === renamed)).toBe(true);
    const firstNew = stream.findIndex((r) => r.v === renamed);
    expect(firstNew).toBeGreaterThan(0);
    expect(stream.slice(firstNew).every((r) => r.v === renamed)).toBe(true);

    // The allocations as stored: the parsers' rows, read back through the CLI; and the node's job at a time.
    const listed = (await cli(t, ['allocations', 'list'])).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = [...expectedSlurm.events, ...kube.events].flatMap((e) => allocationRows(AllocationEventSchema.parse(e), 0));
    const key = (r: Record<string, unknown>) =>
      `${String(r.job_id)} ${String(r.node)} ${String(r.pod ?? '')} ${Number(r.start ?? r.start_ms)} ${(r.end ?? r.end_ms) == null ? '-' : Number(r.end ?? r.end_ms)}`;
    expect(listed.filter((r) => r.source !== 'cli' && r.source !== 'nccl').map(key).sort()).toEqual(expected.map(key).sort());
    // The collective graph imported from NCCL's log, on each node's row.
    expect(await query(t, "SELECT node, peers FROM eastwatch.allocations FINAL WHERE job_id = 'C' ORDER BY node")).toEqual([
      { node: 'gpu001', peers: ['gpu002'] }, { node: 'gpu002', peers: ['gpu003'] }, { node: 'gpu003', peers: ['gpu004'] }, { node: 'gpu004', peers: ['gpu001'] },
    ]);
    const at = async (time: string) => (await cli(t, ['allocations', 'list', '--node', 'gpu002', '--at', time])).split('\n').filter(Boolean)
      .map((l) => (JSON.parse(l) as { job_id: string }).job_id);
    expect(await at('2025-11-24T11:59:00Z')).toEqual(['A']);
    expect(await at('2025-11-24T12:01:00Z')).toEqual(['B']);
  });
});

describe('allocation pollers', () => {
  let t: TestEnv;
  const kafka = testKafka();
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('polls Slurm by command and slurmrestd, Kubernetes by command and by list + watch, publishing each job once', async () => {
    t = testEnv({ EASTWATCH_COLLECTORS: 'sflow', EASTWATCH_ALLOCATIONS_POLL_SEC: '1' });
    const requests: (string | undefined)[] = [];
    const slurmrestd = createServer((req, res) => {
      if (req.url!.startsWith('/api/v1/pods')) {
        // The Kubernetes API server's list, then a watch that stays open.
        res.writeHead(200, { 'content-type': 'application/json' });
        if (!req.url!.includes('watch=1')) res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: '7' }, items: [SINGLE_POD_IPV6] }));
        return;
      }
      requests.push(req.headers['x-slurm-user-token'] as string | undefined);
      const ok = req.url === '/slurm/v0.0.40/jobs' && req.headers['x-slurm-user-name'] === 'eastwatch' && req.headers['x-slurm-user-token'] === 'jwt-s3cret';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? JSON.stringify(SLURMRESTD_V0040) : '{"errors":[{"error":"auth"}]}');
    });
    await new Promise<void>((r) => slurmrestd.listen(0, '127.0.0.1', r));
    const scontrol = path.join(t.home, 'scontrol.json');
    const pods = path.join(t.home, 'pods.json');
    writeFileSync(scontrol, JSON.stringify(SCONTROL_V0039));
    writeFileSync(pods, JSON.stringify(API_POD_LIST));
    Object.assign(t.env, {
      EASTWATCH_SLURM_COMMAND: `cat '${scontrol}'`,
      EASTWATCH_SLURMRESTD_URL: `http://127.0.0.1:${(slurmrestd.address() as AddressInfo).port}/slurm/v0.0.40/jobs`,
      EASTWATCH_SLURMRESTD_USER: 'eastwatch',
      EASTWATCH_SLURMRESTD_TOKEN: 'jwt-s3cret',
      EASTWATCH_KUBERNETES_COMMAND: `cat '${pods}'`,
      EASTWATCH_KUBERNETES_API: `http://127.0.0.1:${(slurmrestd.address() as AddressInfo).port}`,
    });
    const events = [...parseSlurmJobs(SCONTROL_V0039, NOW).events, ...parseSlurmJobs(SLURMRESTD_V0040, NOW).events,
      ...parseKubernetesPods(API_POD_LIST, NOW).events, ...parseKubernetesPods(SINGLE_POD_IPV6, NOW).events];

    const app = spawnCli(t, ['start', '--roles', 'allocations,writer,http']);
    await app.httpPort();
    // Several polls of unchanged documents: each job is published once.
    await waitFor(() => (requests.length >= 4 ? true : undefined), 30_000, () => app.output().slice(-2000));
    await waitCaughtUp(kafka, `${t.prefix}.allocations`, t.group, 60_000);
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets(`${t.prefix}.allocations`);
    await admin.disconnect();
    expect(Number(offsets!.high)).toBe(events.length);
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    slurmrestd.closeAllConnections();
    slurmrestd.close();
    expect(app.output()).not.toContain('jwt-s3cret');

    // Stored as the parsers say (ends the parsers had to take from "now" differ by design: compared without).
    const listed = (await cli(t, ['allocations', 'list'])).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const rows = events.flatMap((e) => allocationRows(AllocationEventSchema.parse(e), 0));
    const key = (r: Record<string, unknown>) => `${String(r.job_id)} ${String(r.node)} ${String(r.pod ?? '')} ${Number(r.start ?? r.start_ms)}`;
    expect(listed.map(key).sort()).toEqual(rows.map(key).sort());
    const ends = new Map(rows.filter((r) => r.end !== undefined && r.end !== NOW).map((r) => [key(r), r.end]));
    expect(listed.filter((r) => ends.has(key(r))).map((r) => Number(r.end_ms))).toEqual(listed.filter((r) => ends.has(key(r))).map((r) => ends.get(key(r))));
    expect(new Set(listed.map((r) => r.source))).toEqual(new Set(['slurm', 'kubernetes']));
  });
});

function writeTemp(t: TestEnv, text: string): string {
  const file = path.join(t.home, 'inventory-next.yaml');
  writeFileSync(file, text);
  return file;
}
