/**
 * The one lifecycle of every part of an eastwatch process (broker, Kafka, ClickHouse, writer, collectors,
 * detectors, HTTP): a stage has a name, start, stop and an optional health check. The runner starts stages in
 * order, stops them in reverse, rolls back a failed start, reports each stage for /healthz, and turns a stage's
 * fatal failure into one log line, an orderly stop of the others and a non-zero exit (through `onFatal`), so a
 * supervisor (systemd, Kubernetes) restarts the process instead of it running blind.
 */
import type { Logger } from './log';

export interface StageContext {
  /** The stage cannot go on (its consumer crashed for good, its child process died): stop the process. */
  fatal(error: Error): void;
}

export interface Stage {
  readonly name: string;
  start(ctx: StageContext): Promise<void>;
  /** Drains: what the stage accepted is handed on before it resolves. */
  stop(): Promise<void>;
  /** Throws with the reason while the stage is not ready (e.g. Kafka unreachable); shown in /healthz. */
  health?(): void | Promise<void>;
}

export interface HealthReport {
  status: 'ok' | 'failing';
  /** Each stage: "ok" or why it is not ready. */
  stages: Record<string, string>;
}

export class StageRunner {
  private readonly started: Stage[] = [];
  private stopping: Promise<void> | undefined;
  private failed = false;

  constructor(private readonly log: Logger, private readonly onFatal: (stage: string, error: Error) => void) {}

  /** Starts one stage; if it fails, the stages already started stop in reverse and the error is rethrown. */
  async start<S extends Stage>(stage: S): Promise<S> {
    if (this.stopping) throw new Error(`not starting ${stage.name}: the process is stopping`);
    try {
      await stage.start({ fatal: (e) => this.fatal(stage.name, e) });
    } catch (e) {
      this.log.error({ stage: stage.name, err: e }, 'stage failed to start; stopping the stages already started');
      await this.stop();
      throw e;
    }
    this.started.push(stage);
    return stage;
  }

  /** Stops every started stage in reverse start order; an error in one does not keep the others running. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const stage of this.started.splice(0).reverse()) {
        const t0 = performance.now();
        try {
          await stage.stop();
          // Each stage's drain time, so a slow shutdown names the stage that held it.
          this.log.info({ stage: stage.name, ms: Math.round(performance.now() - t0) }, 'stage stopped');
        } catch (e) {
          this.log.error({ stage: stage.name, err: e }, 'error while stopping a stage');
        }
      }
    })();
    return this.stopping;
  }

  async health(): Promise<HealthReport> {
    const stages: Record<string, string> = {};
    let ok = !this.stopping;
    for (const stage of this.started) {
      try {
        await stage.health?.();
        stages[stage.name] = 'ok';
      } catch (e) {
        ok = false;
        stages[stage.name] = (e as Error).message;
      }
    }
    return { status: ok ? 'ok' : 'failing', stages };
  }

  private fatal(stage: string, error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.log.fatal({ stage, err: error }, `stage ${stage} failed: ${error.message}; stopping the process`);
    void this.stop().finally(() => this.onFatal(stage, error));
  }
}
