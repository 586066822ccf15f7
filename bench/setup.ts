/** What every end-to-end benchmark needs: a broker (KAFKA_BROKERS, or the bundled one on 19292), a fresh home, memory readings. */
import { execFileSync } from 'node:child_process';
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

export const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
