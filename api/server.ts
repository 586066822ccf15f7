/** The HTTP stage of an eastwatch process: fastify, one plugin per route group. */
import type { AddressInfo } from 'node:net';
import Fastify, { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from '../core/log';
import type { HealthReport, Stage, StageContext } from '../core/stage';
import type { HttpConfig } from './config';
import type { Alert } from '../core/records';
import { alertmanagerRoutes } from './alertmanager';
import { healthRoutes } from './health';

export interface HttpDeps {
  log: Logger;
  /** The health of every stage of the process, for /healthz. */
  health(): Promise<HealthReport>;
  /** Where alerts from Alertmanager's webhook go, with the token it must bear; absent: no webhook route. */
  alertmanager?: { token: string; publish(alerts: Alert[]): Promise<void> };
}

export class HttpStage implements Stage {
  readonly name = 'http';
  private app: FastifyInstance | undefined;

  constructor(private readonly cfg: HttpConfig, private readonly deps: HttpDeps) {}

  /** The bound port (the configured one, or the kernel's pick for 0). */
  get port(): number {
    return (this.app!.server.address() as AddressInfo).port;
  }

  async start(ctx: StageContext): Promise<void> {
    const app = Fastify({ loggerInstance: this.deps.log.child({ stage: 'http' }) as FastifyBaseLogger });
    // Probes and scrapes arrive every few seconds: log their requests only when they fail.
    await app.register(healthRoutes, { report: this.deps.health, logLevel: 'warn' });
    if (this.deps.alertmanager) await app.register(alertmanagerRoutes, this.deps.alertmanager);
    await app.listen({ host: this.cfg.host, port: this.cfg.port });
    app.server.on('error', (e) => ctx.fatal(e));
    this.app = app;
  }

  async stop(): Promise<void> {
    await this.app?.close();
  }
}
