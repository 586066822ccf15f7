/** What every end-to-end benchmark needs: a broker (KAFKA_BROKERS, or the bundled one on 19292), a fresh home, memory readings. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');
const BENCH_PORT = 19292;

export interface BenchSetup {
  /** Environment of an isolated eastwatch instance on the benchmark's broker. */
  env: NodeJS.ProcessEnv;
  teardown(): void;
}

export function benchSetup(extra: NodeJS.ProcessEnv = {}): BenchSetup {
  const home = mkdtempSync(path.join(tmpdir(), 'eastwatch-bench-'));
  const ownBroker = !process.env.KAFKA_BROKERS;
  const brokerEnv = { ...process.env, EASTWATCH_HOME: path.join(ROOT, '.eastwatch-bench'), KAFKA_PORT: String(BENCH_PORT) };
  const kafka = (cmd: string) => execFileSync('bash', [path.join(ROOT, 'scripts/kafka.sh'), cmd], { env: brokerEnv, stdio: 'inherit' });
  if (ownBroker) kafka('start');
  return {
    env: {
      ...process.env,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? `127.0.0.1:${BENCH_PORT}`,
      EASTWATCH_HOME: home,
      EASTWATCH_TOPIC_PREFIX: `bench${Date.now()}`,
      EASTWATCH_HTTP_PORT: '0',
      EASTWATCH_LOG_LEVEL: 'warn',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...extra,
    },
    teardown() {
      rmSync(home, { recursive: true, force: true });
      if (ownBroker) kafka('stop');
    },
  };
}

/** A process's resident memory (VmRSS) or its peak (VmHWM), in bytes. */
export const memoryOf = (pid: number, field: 'VmRSS' | 'VmHWM'): number =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** CPU time a process has used so far (user + system), in seconds; clock ticks are 100 a second on Linux. */
export const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

export const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

export interface BenchChild {
  child: ChildProcess;
  httpPort: number;
  /** The UDP port of each collector protocol asked for. */
  ports: Record<string, number>;
  /** The child's log so far (the last 100 kB). */
  log: () => string;
}

/**
 * `eastwatch start --roles ROLES` on `env`, once it has logged its HTTP port and the UDP port of each of `udp`;
 * under `nice` when given (nice execs node: the child's pid is node's).
 */
export async function startEastwatch(env: NodeJS.ProcessEnv, roles: string, udp: string[] = [], nice = 0): Promise<BenchChild> {
  const argv = [process.execPath, CLI, 'start', '--roles', roles];
  // At info: the lines that give the ports.
  const child = spawn(nice ? 'nice' : argv.shift()!, nice ? ['-n', String(nice), ...argv] : argv, { env: { ...env, EASTWATCH_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-100_000)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const httpPort = Number(/"httpPort":(\d+)/.exec(log)?.[1] ?? 0);
    const ports = Object.fromEntries(udp.map((p) => [p, Number(new RegExp(`"protocol":"${p}","transport":"udp","host":"127.0.0.1","port":(\\d+)`).exec(log)?.[1] ?? 0)]));
    if (httpPort && Object.values(ports).every(Boolean)) return { child, httpPort, ports, log: () => log };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`eastwatch did not start:\n${log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The sum of the series of a child's /metrics whose line starts with `prefix` and contains `filter`. */
export async function metricSum(port: number, prefix: string, filter = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(prefix) && l.includes(filter)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
}
