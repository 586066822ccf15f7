/**
 * The bundled single-node broker, run as a child this process owns when KAFKA_BROKERS is not set: started
 * through scripts/kafka.sh (which resolves the jars with mvn once), stopped with SIGTERM on shutdown. The
 * broker dying under a running process is fatal: nothing it holds could reach Kafka again.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import * as path from 'node:path';
import type { KafkaConfig } from './config';
import type { Logger } from './log';
import type { Stage, StageContext } from './stage';

export const KAFKA_SCRIPT = path.resolve(__dirname, '../../scripts/kafka.sh');

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export class ManagedKafka implements Stage {
  readonly name = 'kafka-broker';
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  private exited = false;
  private stopping = false;
  private serving = false;

  constructor(private readonly cfg: KafkaConfig, private readonly home: string, private readonly log: Logger) {}

  async start(ctx: StageContext): Promise<void> {
    const port = this.cfg.managedPort;
    if (await portOpen(port)) throw new Error(`port ${port} is already in use: set KAFKA_BROKERS to use that broker, or EASTWATCH_KAFKA_PORT`);
    this.log.info({ port, home: this.home }, 'starting bundled Kafka broker');
    const child = spawn('bash', [KAFKA_SCRIPT, 'run'], {
      env: { ...process.env, EASTWATCH_HOME: this.home, KAFKA_PORT: String(port) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.child = child;
    this.exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
      this.exited = true;
      this.log.info({ code, signal }, 'bundled Kafka broker exited');
      if (this.serving && !this.stopping) ctx.fatal(new Error(`the bundled Kafka broker exited (code ${code}, signal ${signal}); see ${this.home}/kafka/logs-${port}/`));
      resolve();
    }));
    const deadline = Date.now() + 180_000; // the first start resolves jars with mvn
    while (!(await portOpen(port))) {
      if (this.exited) throw new Error(`bundled Kafka broker exited during start; see ${this.home}/kafka/logs-${port}/`);
      if (Date.now() > deadline) throw new Error('bundled Kafka broker did not serve within 180 s');
      await new Promise((r) => setTimeout(r, 250));
    }
    this.serving = true;
    this.log.info({ port }, 'bundled Kafka broker serving');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.child || this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child!.kill('SIGKILL'), 30_000);
    await this.exit;
    clearTimeout(timer);
  }
}
