/** The inventory as a stage of a process that judges by it without enriching (the detectors). */
import type { Logger } from '../core/log';
import type { Stage } from '../core/stage';
import type { InventoryConfig } from './config';
import { InventoryHolder } from './holder';
import type { Inventory } from './inventory';

export class InventoryStage implements Stage {
  readonly name = 'inventory';
  private holder: InventoryHolder | undefined;

  constructor(private readonly cfg: InventoryConfig, private readonly log: Logger) {}

  /** The current snapshot; undefined when no inventory is configured. */
  current = (): Inventory | undefined => this.holder?.current;

  async start(): Promise<void> {
    if (this.cfg.file) this.holder = new InventoryHolder(this.cfg.file, this.log);
  }

  async stop(): Promise<void> {
    this.holder?.stop();
  }
}
