/**
 * The inventory file as the API reads and replaces it. A replacement is validated completely (the parser every
 * process uses), checked against the version the caller read (no lost update), then written beside the file
 * and renamed over it: a process reloading it sees the old file or the new one, never half of one.
 */
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { Conflict, NotFound } from '../../core/error-text';
import { parseInventory, readInventoryText } from '../../inventory/holder';
import type { Inventory } from '../../inventory/inventory';

export interface InventoryState {
  file: string;
  yaml: string;
  sha256: string;
  /** Absent when the file on disk does not parse (a replacement is how it gets fixed). */
  nodes?: number;
  zones?: string[];
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function stateOf(file: string, yaml: string, inv: Inventory): InventoryState {
  return { file, yaml, sha256: sha256(yaml), nodes: inv.nodes.size, zones: [...inv.zoneNames].sort() };
}

export function readInventoryFile(file: string | undefined): InventoryState {
  if (!file) throw new NotFound('no inventory is configured (EASTWATCH_INVENTORY)');
  const yaml = readInventoryText(file);
  let inv: Inventory | undefined;
  try {
    inv = parseInventory(yaml);
  } catch {
    // Shown as it is, without a summary: the processes keep the last valid one and report it stale.
  }
  return inv ? stateOf(file, yaml, inv) : { file, yaml, sha256: sha256(yaml) };
}

/** Replaces the file with `yaml` if it still is the version `expected` names; returns the old state and the new. */
export function replaceInventoryFile(file: string | undefined, yaml: string, expected: string): { before: InventoryState; after: InventoryState } {
  const before = readInventoryFile(file);
  if (before.sha256 !== expected) throw new Conflict(`the inventory changed since it was read (sha256 ${before.sha256}): read it again and redo the change`);
  const after = stateOf(before.file, yaml, parseInventory(yaml));
  const tmp = `${before.file}.${process.pid}.tmp`;
  writeFileSync(tmp, yaml);
  renameSync(tmp, before.file);
  return { before, after };
}
