/**
 * A real egress proxy: squid on 127.0.0.1 with an allow-list, requests through it to a local HTTP server
 * (allowed) and to a host not on the list (denied); eastwatch follows squid's access.log and the flows reach
 * ClickHouse with the right verdicts and the byte counts squid logged.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { killChildren, metricValue, query, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';

function request(proxyPort: number, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: url, headers: { host: new URL(url).host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const freePort = () => new Promise<number>((resolve) => {
  const s = http.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as AddressInfo;
    s.close(() => resolve(port));
  });
});

describe('egress proxy logs from a real squid', () => {
  let t: TestEnv;
  let squid: ChildProcess | undefined;
  let origin: http.Server | undefined;
  afterAll(async () => {
    squid?.kill('SIGKILL');
    origin?.close();
    killChildren();
    t?.cleanup();
  });

  it('stores allowed and denied requests with their verdicts and byte counts', async () => {
    t = testEnv({ EASTWATCH_COLLECTORS: 'sflow', EASTWATCH_PROXY_ADDRESS: '127.0.0.1' });
    chmodSync(t.home, 0o777); // squid drops root for its own user, which writes the log here
    const accessLog = path.join(t.home, 'access.log');
    t.env.EASTWATCH_SQUID_LOGS = accessLog;

    const payload = 'x'.repeat(12345);
    origin = http.createServer((_req, res) => res.end(payload)).listen(0, '127.0.0.1');
    await new Promise((r) => origin!.once('listening', r));
    const originPort = (origin.address() as AddressInfo).port;

    const proxyPort = await freePort();
    const conf = path.join(t.home, 'squid.conf');
    writeFileSync(conf, [
      `http_port 127.0.0.1:${proxyPort}`,
      `pid_filename ${path.join(t.home, 'squid.pid')}`,
      `access_log stdio:${accessLog} squid`,
      `cache_log ${path.join(t.home, 'cache.log')}`,
      `coredump_dir ${t.home}`,
      'buffered_logs off',
      'cache deny all',
      'shutdown_lifetime 1 seconds',
      'acl allowed dstdomain 127.0.0.1',
      'http_access allow allowed',
      'http_access deny all',
    ].join('\n'));
    squid = spawn('squid', ['-N', '-f', conf], { stdio: 'ignore' });
    await waitFor(async () => (await request(proxyPort, `http://127.0.0.1:${originPort}/ready`).catch(() => undefined)) ? true : undefined,
      30_000, () => readFileSync(path.join(t.home, 'cache.log'), 'utf8').slice(-2000));

    const app = spawnCli(t, ['start', '--roles', 'collectors,writer,http']);
    const httpPort = await app.httpPort();
    await waitFor(() => (/"msg":"following log"/.test(app.output()) ? true : undefined), 30_000, () => app.output());
    await new Promise((r) => setTimeout(r, 600)); // the follower has taken the log's current end

    const allowed = await request(proxyPort, `http://127.0.0.1:${originPort}/weights/shard-1`);
    expect(allowed).toEqual({ status: 200, body: payload });
    const denied = await request(proxyPort, 'http://exfil.invalid/upload');
    expect(denied.status).toBe(403);

    const stored = () => metricValue(httpPort, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}');
    await waitFor(async () => ((await stored()) >= 2 ? true : undefined), 60_000, () => app.output().slice(-2000));
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    // What squid itself logged for the two requests: the reply sizes it sent.
    const logged = readFileSync(accessLog, 'utf8').trim().split('\n').map((l) => l.split(/\s+/)).filter((f) => !f[6]!.endsWith('/ready'));
    expect(logged.map((f) => f[3])).toEqual(['TCP_MISS/200', 'TCP_DENIED/403']);

    const rows = await query<Record<string, unknown>>(t, `SELECT replaceOne(IPv6NumToString(src_addr), '::ffff:', '') AS src,
        replaceOne(IPv6NumToString(dst_addr), '::ffff:', '') AS dst, dst_port, proxy_host, proxy_method, proxy_status, verdict,
        bytes, source_kind, replaceOne(IPv6NumToString(exporter_address), '::ffff:', '') AS exporter
      FROM eastwatch.flows ORDER BY time_end`);
    expect(rows).toEqual([
      { src: '127.0.0.1', dst: '127.0.0.1', dst_port: originPort, proxy_host: '127.0.0.1', proxy_method: 'GET', proxy_status: 200,
        verdict: 'FORWARDED', bytes: Number(logged[0]![4]), source_kind: 'proxy', exporter: '127.0.0.1' },
      { src: '127.0.0.1', dst: '0.0.0.0', dst_port: 80, proxy_host: 'exfil.invalid', proxy_method: 'GET', proxy_status: 403,
        verdict: 'DENIED', bytes: Number(logged[1]![4]), source_kind: 'proxy', exporter: '127.0.0.1' },
    ]);
    expect(Number(logged[0]![4])).toBeGreaterThan(payload.length); // headers and body
  });
});
