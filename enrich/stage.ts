/**
 * Starts what enrichment needs in a collector process: the inventory (when configured) and the allocation
 * feed, caught up before the first flow is taken.
 */
import type { Kafka } from 'kafkajs';
import type { Config } from '../core/config';
import type { Logger } from '../core/log';
import { AllocationFeed } from '../allocations/feed';
import { InventoryHolder } from '../inventory/holder';
import { Enricher } from './enricher';

export interface EnrichmentStage {
  enricher: Enricher;
  inventory?: InventoryHolder;
  stop(): Promise<void>;
}

const DAY_MS = 24 * 3600e3;

export async function startEnrichment(kafka: Kafka, cfg: Config, log: Logger): Promise<EnrichmentStage> {
  const inventory = cfg.inventory.file ? new InventoryHolder(cfg.inventory.file, log) : undefined;
  const feed = new AllocationFeed(kafka, cfg, log);
  try {
    await feed.start();
  } catch (e) {
    inventory?.stop();
    throw e;
  }
  const prune = setInterval(() => feed.timeline.prune(Date.now() - cfg.inventory.historyDays * DAY_MS), 3600e3);
  prune.unref();
  return {
    enricher: new Enricher(() => inventory?.current, feed.timeline),
    ...(inventory ? { inventory } : {}),
    async stop() {
      clearInterval(prune);
      inventory?.stop();
      await feed.stop();
    },
  };
}
