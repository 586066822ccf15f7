/**
 * What an operator's mistake looks like on the command line: one clear line and a non-zero exit, no stack
 * trace unless --debug; a bad document never waits for Kafka; secrets in URLs never reach a log line.
 */
import { execFile } from 'node:child_process';
import { createServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI, killChildren, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(t: TestEnv, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...t.env, ...env }, timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** One line on stderr, `eastwatch: ` and the message, exit 2, no stack. */
function oneLine(r: Run, message: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^eastwatch: /);
  expect(lines[0]).toMatch(message);
}

describe('command-line errors', () => {
  let t: TestEnv;
  // Nothing listens here: a command that tried Kafka would wait for its retries and fail slowly.
  const noKafka = { KAFKA_BROKERS: '127.0.0.1:9' };
  beforeAll(() => {
    t = testEnv();
  });
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });
  const file = (name: string, text: string) => {
    const f = path.join(t.home, name);
    writeFileSync(f, text);
    return f;
  };

  it('reports a malformed or duplicate-key YAML config in one line, with the stack only under --debug', async () => {
    oneLine(await run(t, ['--config', file('broken.yaml', 'kafka:\n  partitions: [12\n'), 'config']), /^eastwatch: config file .*broken\.yaml: .*line \d+/);
    oneLine(await run(t, ['--config', file('twice.yaml', 'kafka:\n  partitions: 12\n  partitions: 24\n'), 'config']), /Map keys must be unique at line 3/);
    const debug = await run(t, ['--debug', '--config', path.join(t.home, 'twice.yaml'), 'config']);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('rejects a document that is not what its format says before connecting to Kafka', async () => {
    const deployment = await run(t, ['allocations', 'import', file('deploy.json', '{"kind":"Deployment","spec":{}}'), '--format', 'kubernetes'], noKafka);
    oneLine(deployment, /kubernetes: expected a Pod, a PodList or a List of pods .*got kind "Deployment"/);
    const slurm = await run(t, ['allocations', 'import', file('jobs.json', '{"jobs":[{"job_id":"x","nodes":7}]}'), '--format', 'slurm'], noKafka);
    oneLine(slurm, /no slurm allocation could be read: .*malformed/);
    oneLine(await run(t, ['allocations', 'import', file('text.json', 'not json\nat all'), '--format', 'slurm'], noKafka), /text\.json: not JSON/);
    oneLine(await run(t, ['allocations', 'import', path.join(t.home, 'missing.json'), '--format', 'slurm'], noKafka), /missing\.json: ENOENT/);
    oneLine(await run(t, ['allocations', 'import', file('nccl.log', 'gpu001:1:1 [0] NCCL INFO comm 0x1 rank 0 nranks 2'), '--format', 'nccl'], noKafka), /--format nccl needs --job and --start/);
    oneLine(await run(t, ['allocations', 'import', file('app.log', 'step 1 loss 2.3'), '--format', 'nccl', '--job', 'x', '--start', '0'], noKafka), /no NCCL INFO line places a rank on a host/);
    for (const r of [deployment, slurm]) expect(r.ms).toBeLessThan(5000);
  });

  it('refuses to look up what is not an address', async () => {
    oneLine(await run(t, ['inventory', 'lookup', 'not-an-ip', '10.30.1.1', '--file', path.join(__dirname, '../../inventory/example-64-nodes.yaml')]), /not an IP address: not-an-ip$/);
  });

  it('warns about a misspelt EASTWATCH_ variable, naming the closest one', async () => {
    const r = await run(t, ['config'], { EASTWATCH_KAFKA_PARTITION: '12' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/"msg":"EASTWATCH_KAFKA_PARTITION is not an eastwatch variable and is ignored; did you mean EASTWATCH_KAFKA_PARTITIONS\?"/);
  });

  it('shows no URL credentials in any log line of a run, nor in `eastwatch config`', async () => {
    const seen: { url: string; authorization: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      seen.push({ url: req.url!, authorization: String(req.headers.authorization ?? '') });
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const secrets = {
      CLICKHOUSE_URL: 'https://ch-user:ch-s3cret@127.0.0.1:9/',
      EASTWATCH_SLURMRESTD_URL: `http://slurm:slurm-s3cret@127.0.0.1:${port}/slurm/v0.0.41/jobs`,
      EASTWATCH_KUBERNETES_API: `http://kube:kube-s3cret@127.0.0.1:${port}`,
      EASTWATCH_ALLOCATIONS_POLL_SEC: '1',
    };
    const shown = await run(t, ['config'], secrets);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('"url": "https://***@127.0.0.1:9/"');

    // The http role opens ClickHouse for the API: this run keeps the embedded default, the writer's run below uses the server.
    const { CLICKHOUSE_URL: _server, ...feeds } = secrets;
    const app = spawnCli(t, ['start', '--roles', 'collectors,allocations,http'], feeds);
    await app.httpPort();
    // The poller's and the watch's failures are logged, with their URLs.
    await waitFor(() => (seen.filter((s) => s.url.startsWith('/slurm')).length >= 2 && /kubernetes pod watch interrupted/.test(app.output()) ? true : undefined),
      30_000, () => app.output().slice(-2000));
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    // A process that opens ClickHouse fails on the unreachable server, and says so without the password.
    const writer = await run(t, ['start', '--roles', 'writer'], { ...secrets, EASTWATCH_LOG_LEVEL: 'info' });
    expect(writer.code).not.toBe(0);
    server.close();

    const lines = [...shown.stdout.split('\n'), ...shown.stderr.split('\n'), ...app.output().split('\n'), ...writer.stderr.split('\n')].filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.filter((l) => /s3cret/.test(l))).toEqual([]);
    expect(app.output()).toMatch(/http:\/\/\*\*\*@127\.0\.0\.1/);
    // The slurmrestd credentials went where they belong: HTTP basic authentication.
    expect(seen.find((s) => s.url.startsWith('/slurm'))!.authorization).toBe(`Basic ${Buffer.from('slurm:slurm-s3cret').toString('base64')}`);
  });
});
