/**
 * The enrichment stage of a collector process: the inventory (when configured) and the allocation feed,
 * caught up before the collectors start, so the first flows already find their zones and jobs.
 */
import type { KafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import type { Stage, StageContext } from '../core/stage';
import { AllocationFeed } from '../allocations/feed';
import type { InventoryConfig } from '../inventory/config';
import { InventoryHolder } from '../inventory/holder';
import { Enricher } from './enricher';

const DAY_MS = 24 * 3600e3;

export class EnrichmentStage implements Stage {
  readonly name = 'enrichment';
  readonly enricher: Enricher;
  private holder: InventoryHolder | undefined;
  private readonly feed: AllocationFeed;
  private prune: NodeJS.Timeout | undefined;

  constructor(private readonly cfg: InventoryConfig, kafka: KafkaContext, private readonly log: Logger) {
    this.feed = new AllocationFeed(kafka, log, 'enrich');
    this.enricher = new Enricher(() => this.holder?.current, this.feed.timeline);
  }

  /** The inventory in use, when one is configured. */
  get inventory(): InventoryHolder | undefined {
    return this.holder;
  }

  async start(ctx: StageContext): Promise<void> {
    this.holder = this.cfg.file ? new InventoryHolder(this.cfg.file, this.log) : undefined;
    try {
      await this.feed.start((e) => ctx.fatal(e));
    } catch (e) {
      this.holder?.stop();
      throw e;
    }
    this.prune = setInterval(() => this.feed.timeline.prune(Date.now() - this.cfg.historyDays * DAY_MS), 3600e3);
    this.prune.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.prune);
    this.holder?.stop();
    await this.feed.stop();
  }
}
