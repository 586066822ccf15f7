/** Helpers of the integration tests: isolated homes and topics, the CLI as a child process, Kafka offsets. */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { groupProgress } from '../core/kafka';
import { KAFKA_LIBS, ROOT } from './setup/broker';

export const CLI = path.join(ROOT, 'dist/cli/main.js');
const run = promisify(execFile);

/** An isolated eastwatch instance: its own data dir, topic prefix and consumer group on the shared broker. */
export interface TestEnv {
  home: string;
  env: NodeJS.ProcessEnv;
  prefix: string;
  group: string;
  cleanup(): void;
}

export function testEnv(extra: NodeJS.ProcessEnv = {}): TestEnv {
  const home = mkdtempSync(path.join(tmpdir(), 'eastwatch-test-'));
  const id = randomUUID().slice(0, 8);
  const prefix = `t${id}`;
  const group = `writer-${id}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EASTWATCH_HOME: home,
    EASTWATCH_TOPIC_PREFIX: prefix,
    EASTWATCH_WRITER_GROUP: group,
    EASTWATCH_WEBHOOK_GROUP: `webhooks-${id}`,
    EASTWATCH_HTTP_PORT: '0',
    // Collectors listen on loopback, on ports the kernel picks (they log them).
    EASTWATCH_COLLECTOR_HOST: '127.0.0.1',
    EASTWATCH_IPFIX_PORT: '0',
    EASTWATCH_NETFLOW9_PORT: '0',
    EASTWATCH_SFLOW_PORT: '0',
    EASTWATCH_LOG_LEVEL: 'warn',
    KAFKA_LIBS,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...extra,
  };
  return { home, env, prefix, group, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export async function cli(t: TestEnv, args: string[], timeout = 120_000): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { env: t.env, timeout, maxBuffer: 64 << 20 });
  return stdout;
}

/** Rows of a query through `eastwatch query` (chDB allows one process per data directory). */
export async function query<T = Record<string, unknown>>(t: TestEnv, sql: string): Promise<T[]> {
  const out = await cli(t, ['query', sql]);
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

export interface Child {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The HTTP port the child logged, once it is serving. */
  httpPort(): Promise<number>;
}

const children = new Set<ChildProcess>();

/** SIGKILLs every child a test left running (a failed assertion skips its own cleanup). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

export function spawnCli(t: TestEnv, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...t.env, EASTWATCH_LOG_LEVEL: 'info', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    output: () => out,
    exited,
    httpPort: () => waitFor(() => {
      const m = /"httpPort":(\d+)/.exec(out);
      return m ? Number(m[1]) : undefined;
    }, 60_000, () => `child did not report its HTTP port:\n${out.slice(-3000)}`),
  };
}

/** The UDP port a child's collector for `protocol` bound (it logs each listener). */
export const udpPort = (app: Child, protocol: string) => waitFor(
  () => Number(new RegExp(`"protocol":"${protocol}","transport":"udp","host":"127.0.0.1","port":(\\d+)`).exec(app.output())?.[1]) || undefined,
  60_000, () => app.output().slice(-2000));

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function testKafka(): Kafka {
  return new Kafka({ clientId: 'eastwatch-test', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
}

/** groupProgress(), or undefined while the group coordinator is loading or moving (waitFor() retries). */
export async function offsets(kafka: Kafka, topic: string, group: string): Promise<{ end: number; committed: number } | undefined> {
  try {
    return await groupProgress(kafka, topic, group);
  } catch (e) {
    if ((e as { retriable?: boolean }).retriable) return undefined;
    throw e;
  }
}

/** Runs a writer until it has committed everything in the flows topic, then stops it with SIGTERM (exit 0). */
export async function drainWith(t: TestEnv, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  const kafka = testKafka();
  const writer = spawnCli(t, ['start', '--roles', 'writer'], extraEnv);
  const topic = `${t.prefix}.flows`;
  await waitFor(async () => {
    const o = await offsets(kafka, topic, t.group);
    return o && o.end > 0 && o.committed === o.end ? true : undefined;
  }, 180_000, () => `writer did not catch up:\n${writer.output().slice(-3000)}`);
  writer.proc.kill('SIGTERM');
  const exit = await writer.exited;
  if (exit.code !== 0) throw new Error(`writer exited with ${JSON.stringify(exit)}:\n${writer.output().slice(-3000)}`);
  return writer.output();
}

/** The value of one series (`name{labels}` exactly as exposed) on a child's /metrics; 0 when absent. */
export async function metricValue(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** The sum of every series of metric `name` on a child's /metrics; 0 when it has none. */
export async function metricTotal(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

export interface DeadLetterMessage {
  reason: string;
  stage: string;
  source: string;
  origin: string;
  key: string;
  value: Buffer;
}

/** Reads the dead-letter topic of a test instance until it holds at least `count` records. */
export async function deadLetters(kafka: Kafka, prefix: string, count: number, timeoutMs = 60_000): Promise<DeadLetterMessage[]> {
  const consumer = kafka.consumer({ groupId: `dlq-${prefix}-${randomUUID().slice(0, 8)}` });
  const dead: DeadLetterMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: `${prefix}.dead-letter`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = (k: string) => String(message.headers?.[k] ?? '');
        dead.push({ reason: h('reason'), stage: h('stage'), source: h('source'), origin: h('origin'), key: String(message.key), value: Buffer.from(message.value ?? '') });
      },
    });
    await waitFor(() => (dead.length >= count ? true : undefined), timeoutMs, () => `dead letters: ${dead.length} of ${count}`);
  } finally {
    await consumer.disconnect();
  }
  return dead;
}
