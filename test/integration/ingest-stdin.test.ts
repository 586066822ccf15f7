/** `eastwatch ingest`: Hubble JSON on stdin (as `hubble observe -o json | eastwatch ingest` gives it) to ClickHouse. */
import { spawn } from 'node:child_process';
import { CLI, drainWith, killChildren, query, testEnv, TestEnv } from '../helpers';
import { IPV6, POLICY_DENIED, TCP_SYN } from '../hubble-fixtures';

describe('eastwatch ingest from stdin', () => {
  let t: TestEnv;
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('produces every good line as a flow, reports the bad ones, and the writer stores them', async () => {
    t = testEnv();
    const child = spawn(process.execPath, [CLI, 'ingest', '--format', 'hubble'], { env: t.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(`${TCP_SYN}\n${POLICY_DENIED}\nnot json at all\n\n${IPV6}\n`);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stderr.trim().split('\n').pop()!)).toEqual({ lines: 5, flows: 3, errors: 1 });

    await drainWith(t);
    const rows = await query<{ verdict: string; n: string }>(t, "SELECT verdict, count() AS n FROM eastwatch.flows WHERE source_kind = 'hubble' GROUP BY verdict ORDER BY verdict");
    expect(rows.map((r) => [r.verdict, Number(r.n)])).toEqual([['DROPPED', 1], ['FORWARDED', 2]]);
  });
});
