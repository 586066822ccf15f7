/** The shipped example inventory: the 64-node cluster the demo, the benchmarks and the tests use. */
import * as path from 'node:path';
import { repoRoot } from '../core/paths';
import { loadInventory } from './holder';
import type { Inventory } from './inventory';

export const EXAMPLE_INVENTORY = path.join(repoRoot(), 'inventory', 'example-64-nodes.yaml');

export const loadExampleInventory = (): Inventory => loadInventory(EXAMPLE_INVENTORY);
