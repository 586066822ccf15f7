/**
 * The HTTP stage of an eastwatch process: fastify with zod route schemas, one plugin per route group.
 * /healthz and /metrics are open (probes, scrapes); everything under /api/v1 takes a bearer token whose role
 * the route names; the OpenAPI document of it all is at /docs.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Store } from '../core/clickhouse';
import type { KafkaPublisher } from '../core/kafka-publisher';
import type { Logger } from '../core/log';
import type { Alert } from '../core/records';
import type { HealthReport, Stage, StageContext } from '../core/stage';
import { alertmanagerRoutes } from './alertmanager';
import { auth } from './auth';
import { HttpConfig, tlsOf } from './config';
import { docs } from './docs';
import { healthRoutes } from './health';
import { alertGroupRoutes } from './routes/alert-groups';
import { alertRoutes } from './routes/alerts';
import { suppressionRoutes } from './routes/suppressions';
import { trafficRoutes } from './routes/traffic';
import { inventoryRoutes } from './routes/inventory';
import { allocationRoutes } from './routes/allocations';
import { auditRoutes } from './routes/audit';
import { webhookRoutes } from './routes/webhooks';
import { security } from './security';
import { TokenVerifier } from './tokens';

export interface ApiDeps {
  store: Store;
  tokensFile: string;
  publish: KafkaPublisher['publish'];
  /** The inventory file the API reads and replaces (EASTWATCH_INVENTORY). */
  inventoryFile?: string;
  /** How long a rotated-out webhook secret keeps signing. */
  rotationOverlapMs: number;
}

export interface HttpDeps {
  log: Logger;
  /** The health of every stage of the process, for /healthz. */
  health(): Promise<HealthReport>;
  /** Where alerts from Alertmanager's webhook go, with the token it must bear; absent: no webhook route. */
  alertmanager?: { token: string; publish(alerts: Alert[]): Promise<void> };
  /** The API's store, token file and Kafka; absent (no ClickHouse in this process): no /api/v1 routes. */
  api?: ApiDeps;
}

/** Request bodies past this are refused with 413 (an inventory replacement is the largest). */
const BODY_LIMIT = 1024 * 1024;

export class HttpStage implements Stage {
  readonly name = 'http';
  private app: FastifyInstance | undefined;

  constructor(private readonly cfg: HttpConfig, private readonly deps: HttpDeps) {}

  /** The bound port (the configured one, or the kernel's pick for 0). */
  get port(): number {
    return (this.app!.server.address() as AddressInfo).port;
  }

  async start(ctx: StageContext): Promise<void> {
    const tls = tlsOf(this.cfg);
    const app = Fastify({ loggerInstance: this.deps.log.child({ stage: 'http' }) as FastifyBaseLogger, bodyLimit: BODY_LIMIT, ...(tls ? { https: tls } : {}) });
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(security, { cfg: this.cfg });
    await app.register(docs);
    // Probes and scrapes arrive every few seconds: log their requests only when they fail.
    await app.register(healthRoutes, { report: this.deps.health, logLevel: 'warn' });
    if (this.deps.alertmanager) await app.register(alertmanagerRoutes, this.deps.alertmanager);
    const api = this.deps.api;
    if (api) {
      const tokens = new TokenVerifier(api.tokensFile);
      await app.register(async (scope) => {
        await scope.register(auth, { tokens });
        for (const routes of [alertRoutes, alertGroupRoutes, suppressionRoutes, trafficRoutes, inventoryRoutes, allocationRoutes, auditRoutes, webhookRoutes]) await scope.register(routes, api);
      }, { prefix: '/api/v1' });
    }
    await app.listen({ host: this.cfg.host, port: this.cfg.port });
    app.server.on('error', (e) => ctx.fatal(e));
    this.app = app;
  }

  async stop(): Promise<void> {
    await this.app?.close();
  }
}
