/**
 * The ClickHouse stage: opens the store (embedded chDB or a server), brings the schema up to date, and answers
 * /healthz with a ping. Only processes whose roles read or write ClickHouse run it: chDB allows one process per
 * data directory, and a collector on an edge node has no ClickHouse at all.
 */
import { openStore, Store } from './clickhouse';
import type { ClickHouseConfig } from './config';
import type { Logger } from './log';
import { migrate } from './migrations';
import type { Stage } from './stage';

export class ClickHouseStage implements Stage {
  readonly name = 'clickhouse';
  private opened: Store | undefined;

  constructor(private readonly cfg: ClickHouseConfig, private readonly home: string, private readonly log: Logger) {}

  /** The open store; stages that need it are started after this one. */
  get store(): Store {
    if (!this.opened) throw new Error('ClickHouse is not open yet');
    return this.opened;
  }

  async start(): Promise<void> {
    const store = openStore(this.cfg, this.home);
    try {
      const report = await migrate(store, this.cfg, this.log);
      this.log.info({ ...report, embedded: store.embedded }, 'ClickHouse schema up to date');
    } catch (e) {
      await store.close();
      throw e;
    }
    this.opened = store;
  }

  async health(): Promise<void> {
    const r = await this.store.client.ping();
    if (!r.success) throw r.error;
  }

  async stop(): Promise<void> {
    await this.opened?.close();
    this.opened = undefined;
  }
}
