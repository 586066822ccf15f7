/**
 * Keeps the current inventory: loads the YAML file at start (an invalid file stops the start), then reloads it
 * when it changes (polled, like the log followers; read once it stood still for a poll) or on SIGHUP. A new snapshot is built completely and then
 * swapped in one assignment, so a flow is enriched by the old inventory or the new one, never by a mix; an
 * invalid new file is reported and the old inventory stays.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../core/log';
import { inventoryLoadedAt, inventoryReloads, inventoryStale } from './metrics';
import { Inventory, InventoryError } from './inventory';
import { InventorySchema } from './schema';

/** Parses and builds an inventory from YAML text; throws InventoryError naming each problem by its key. */
export function parseInventory(text: string): Inventory {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new InventoryError([`not YAML: ${(e as Error).message}`]);
  }
  const parsed = InventorySchema.safeParse(raw);
  if (!parsed.success) {
    throw new InventoryError(parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`));
  }
  return Inventory.build(parsed.data);
}

/** The file's text; an unreadable file is an InventoryError naming it. */
export function readInventoryText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InventoryError([`${path}: ${(e as Error).message}`]);
  }
}

export function loadInventory(path: string): Inventory {
  return parseInventory(readInventoryText(path));
}

export class InventoryHolder {
  private snapshot: Inventory;
  private seen: string;
  private readonly timer: NodeJS.Timeout;
  private readonly onHup = () => this.reload('SIGHUP');

  constructor(private readonly path: string, private readonly log: Logger, pollMs = 1000) {
    this.snapshot = loadInventory(path);
    this.seen = this.fingerprint();
    this.loaded(true);
    log.info({ path, nodes: this.snapshot.nodes.size, zones: this.snapshot.zoneNames.size }, 'inventory loaded');
    // A change is loaded once the file stood still for one poll: an editor still writing it is not read half-way.
    let pending = '';
    this.timer = setInterval(() => {
      const now = this.fingerprint();
      if (now === this.seen) pending = '';
      else if (now === pending) this.reload('file changed');
      else pending = now;
    }, pollMs);
    this.timer.unref();
    process.on('SIGHUP', this.onHup);
  }

  get current(): Inventory {
    return this.snapshot;
  }

  private fingerprint(): string {
    try {
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  }

  reload(why: string): void {
    this.seen = this.fingerprint();
    try {
      const next = loadInventory(this.path);
      this.snapshot = next;
      this.loaded(true);
      this.log.info({ path: this.path, why, nodes: next.nodes.size, zones: next.zoneNames.size }, 'inventory reloaded');
    } catch (e) {
      this.loaded(false);
      this.log.error({ path: this.path, why, problems: (e as InventoryError).problems ?? [(e as Error).message] }, 'inventory not reloaded; keeping the previous one');
    }
  }

  private loaded(ok: boolean): void {
    inventoryReloads.inc({ result: ok ? 'ok' : 'invalid' });
    inventoryStale.set(ok ? 0 : 1);
    if (ok) inventoryLoadedAt.set(Date.now() / 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    process.off('SIGHUP', this.onHup);
  }
}
