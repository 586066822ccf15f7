/**
 * Hubble flows from the file the Hubble exporter writes: eastwatch follows it, and the flows reach ClickHouse
 * with verdicts, drop reasons and Kubernetes context, bytes NULL; bad lines are counted with their reason.
 */
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DNS_REQUEST, IPV6, NON_IP, POLICY_DENIED, TCP_SYN, tcpFlowLine } from '../hubble-fixtures';
import { killChildren, metricValue, query, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';

describe('Hubble flows from a followed file', () => {
  let t: TestEnv;
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('stores each flow once with its context, and counts the lines it cannot use', async () => {
    t = testEnv({ EASTWATCH_COLLECTORS: 'sflow' });
    const file = path.join(t.home, 'hubble-flows.json');
    t.env.EASTWATCH_HUBBLE_FILES = file;
    writeFileSync(file, '');
    const app = spawnCli(t, ['start', '--roles', 'collectors,writer,http']);
    const httpPort = await app.httpPort();
    await waitFor(() => (/"msg":"following log"/.test(app.output()) ? true : undefined), 30_000, () => app.output());
    await new Promise((r) => setTimeout(r, 600));

    appendFileSync(file, `${TCP_SYN}\n${POLICY_DENIED}\n{"flow": {"verdict": true}}\n`);
    appendFileSync(file, `${DNS_REQUEST}\n${NON_IP}\n${IPV6}\n`);
    const metrics = async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    await waitFor(async () => (/^eastwatch_clickhouse_inserted_rows_total\{table="flows"\} 4$/m.test(await metrics()) ? true : undefined),
      60_000, () => app.output().slice(-2000));
    const text = await metrics();
    expect(text).toContain(`eastwatch_records_failed_total{stage="collector",source="${file}",reason="hubble-invalid"} 1`);
    expect(text).toContain(`eastwatch_records_failed_total{stage="collector",source="${file}",reason="hubble-no-ip"} 1`);
    expect(text).toContain('eastwatch_records_in_total{stage="collector",source="hubble"} 4');
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    const rows = await query<Record<string, unknown>>(t, `SELECT replaceOne(IPv6NumToString(src_addr), '::ffff:', '') AS src,
        replaceOne(IPv6NumToString(dst_addr), '::ffff:', '') AS dst, dst_port, protocol, verdict, drop_reason, src_namespace,
        src_pod, dst_namespace, dst_pod, bytes, packets, l7_summary
      FROM eastwatch.flows WHERE source_kind = 'hubble' ORDER BY time_start`);
    expect(rows).toEqual([
      { src: '10.244.3.17', dst: '10.244.7.41', dst_port: 29500, protocol: 6, verdict: 'FORWARDED', drop_reason: '', src_namespace: 'ai-training',
        src_pod: 'trainer-88214-worker-3', dst_namespace: 'ai-training', dst_pod: 'trainer-88214-master-0', bytes: null, packets: null, l7_summary: '' },
      { src: '10.244.3.17', dst: '10.96.0.12', dst_port: 5432, protocol: 6, verdict: 'DROPPED', drop_reason: 'POLICY_DENIED', src_namespace: 'ai-training',
        src_pod: 'trainer-88214-worker-3', dst_namespace: 'prod', dst_pod: 'orders-db-0', bytes: null, packets: null, l7_summary: '' },
      { src: '10.244.3.17', dst: '10.244.0.53', dst_port: 53, protocol: 17, verdict: 'FORWARDED', drop_reason: '', src_namespace: 'ai-training',
        src_pod: 'trainer-88214-worker-3', dst_namespace: 'kube-system', dst_pod: 'coredns-5d78c9869d-x8x2p', bytes: null, packets: null,
        l7_summary: 'DNS huggingface.co. A' },
      { src: 'fd00:10:244:3::17', dst: 'fd00:10:244:7::41', dst_port: 29500, protocol: 6, verdict: 'FORWARDED', drop_reason: '', src_namespace: 'ai-training',
        src_pod: 'trainer-88214-worker-3', dst_namespace: 'ai-training', dst_pod: 'trainer-88214-master-0', bytes: null, packets: null, l7_summary: '' },
    ]);
  });

  it('resumes after a restart where it stopped: lines written while down are read, none twice', async () => {
    const t2 = testEnv({ EASTWATCH_COLLECTORS: 'sflow' });
    try {
      const file = path.join(t2.home, 'hubble-flows.json');
      t2.env.EASTWATCH_HUBBLE_FILES = file;
      writeFileSync(file, '');
      const line = (seq: number) => tcpFlowLine({ seq, time: Date.parse('2025-11-24T16:00:00Z') + seq, src: '10.244.3.17', dst: '10.244.7.41', port: seq });
      const run = async (before: number[], during: number[], read: number) => {
        appendFileSync(file, before.map((n) => `${line(n)}\n`).join(''));
        const app = spawnCli(t2, ['start', '--roles', 'collectors,writer,http']);
        const port = await app.httpPort();
        await waitFor(() => (/"msg":"following log"/.test(app.output()) ? true : undefined), 30_000, () => app.output());
        await new Promise((r) => setTimeout(r, 600));
        appendFileSync(file, during.map((n) => `${line(n)}\n`).join(''));
        await waitFor(async () => ((await metricValue(port, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}')) >= read ? true : undefined), 30_000, () => app.output().slice(-2000));
        app.proc.kill('SIGTERM');
        expect(await app.exited).toEqual({ code: 0, signal: null });
      };
      // First start: from the end (line 1 is history); then lines 3-4 are written while eastwatch is down.
      await run([1], [2], 1);
      await run([3, 4], [5], 3);
      await run([6], [7], 2);
      const ports = await query<{ src_port: number }>(t2, 'SELECT src_port FROM eastwatch.flows ORDER BY src_port');
      expect(ports.map((r) => r.src_port)).toEqual([2, 3, 4, 5, 6, 7]);
    } finally {
      t2.cleanup();
    }
  });

  it('reads the unread tail of a file rotated while eastwatch was stopped, then the new file, every line once', async () => {
    const t3 = testEnv({ EASTWATCH_COLLECTORS: 'sflow' });
    try {
      const file = path.join(t3.home, 'hubble-flows.json');
      t3.env.EASTWATCH_HUBBLE_FILES = file;
      writeFileSync(file, '');
      const lines = (...seqs: number[]) => seqs.map((seq) => `${tcpFlowLine({ seq, time: Date.parse('2025-11-24T16:00:00Z') + seq, src: '10.244.3.17', dst: '10.244.7.41', port: seq })}\n`).join('');
      const run = async (during: number[], stored: number) => {
        const app = spawnCli(t3, ['start', '--roles', 'collectors,writer,http']);
        const port = await app.httpPort();
        await waitFor(() => (/"msg":"following log"/.test(app.output()) ? true : undefined), 30_000, () => app.output());
        await new Promise((r) => setTimeout(r, 600));
        appendFileSync(file, lines(...during));
        await waitFor(async () => ((await metricValue(port, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}')) >= stored ? true : undefined), 30_000, () => app.output().slice(-2000));
        app.proc.kill('SIGTERM');
        expect(await app.exited).toEqual({ code: 0, signal: null });
        return app.output();
      };
      await run([1, 2], 2);
      // While eastwatch is down: more lines, logrotate renames the file, the writer adds to the renamed file until
      // it reopens, then writes the new one.
      appendFileSync(file, lines(3, 4));
      renameSync(file, `${file}.1`);
      appendFileSync(`${file}.1`, lines(5));
      writeFileSync(file, lines(6, 7));
      const output = await run([8], 6);
      expect(output).not.toMatch(/"msg":"[^"]*lost/);
      const ports = await query<{ src_port: number }>(t3, 'SELECT src_port FROM eastwatch.flows ORDER BY src_port');
      expect(ports.map((r) => r.src_port)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      t3.cleanup();
    }
  });
});
