/**
 * The bundled single-node broker, run as a child this process owns when KAFKA_BROKERS is not set: started
 * through scripts/kafka.sh (which resolves the jars with mvn once), stopped with SIGTERM on shutdown.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import * as path from 'node:path';
import type { Config } from './config';
import type { Logger } from './log';

export const KAFKA_SCRIPT = path.resolve(__dirname, '../../scripts/kafka.sh');

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export interface ManagedKafka {
  stop(): Promise<void>;
}

export async function startManagedKafka(cfg: Config, log: Logger): Promise<ManagedKafka> {
  const port = cfg.kafka.managedPort;
  if (await portOpen(port)) throw new Error(`port ${port} is already in use: set KAFKA_BROKERS to use that broker, or EASTWATCH_KAFKA_PORT`);
  log.info({ port, home: cfg.home }, 'starting bundled Kafka broker');
  const child: ChildProcess = spawn('bash', [KAFKA_SCRIPT, 'run'], {
    env: { ...process.env, EASTWATCH_HOME: cfg.home, KAFKA_PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exited = true;
    log.info({ code, signal }, 'bundled Kafka broker exited');
    resolve();
  }));
  const deadline = Date.now() + 180_000; // the first start resolves jars with mvn
  while (!(await portOpen(port))) {
    if (exited) throw new Error(`bundled Kafka broker exited during start; see ${cfg.home}/kafka/logs-${port}/`);
    if (Date.now() > deadline) throw new Error('bundled Kafka broker did not serve within 180 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  log.info({ port }, 'bundled Kafka broker serving');
  return {
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
