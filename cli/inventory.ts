/**
 * `eastwatch inventory`: check an inventory file, look addresses up in it, and apply a new one. `apply`
 * validates first and then replaces the configured file atomically (write beside it, rename over it), so
 * running eastwatch processes reload a complete file or keep the old one.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Command } from 'commander';
import type { Config } from '../app/config';
import { UserError } from '../core/error-text';
import { loadInventory, parseInventory, readInventoryText } from '../inventory/holder';
import { InventoryError } from '../inventory/inventory';

function inventorySummary(path: string): Record<string, unknown> {
  const inv = loadInventory(path);
  const addresses = inv.addresses(0);
  return {
    file: path,
    zones: [...inv.zoneNames],
    nodes: inv.nodes.size,
    addresses: addresses.length,
    byFabric: Object.fromEntries(['frontend', 'backend', 'oob'].map((f) => [f, addresses.filter((a) => a.fabric === f).length])),
  };
}

export function registerInventory(program: Command, config: () => Config): void {
  const cmd = program.command('inventory').description('check, query and apply the inventory (zones, nodes, allowed zone pairs)');
  const fileOf = (file?: string) => {
    const f = file ?? config().inventory.file;
    if (!f) throw new InventoryError(['no inventory file: give one or set EASTWATCH_INVENTORY']);
    return f;
  };

  cmd.command('check')
    .description('validate an inventory file and summarize it')
    .argument('[file]', 'inventory YAML (default EASTWATCH_INVENTORY)')
    .action((file?: string) => console.log(JSON.stringify(inventorySummary(fileOf(file)))));

  cmd.command('lookup')
    .description('zone, node, fabric and rail of addresses')
    .argument('<address...>')
    .option('--file <file>', 'inventory YAML (default EASTWATCH_INVENTORY)')
    .action((addresses: string[], opts: { file?: string }) => {
      const bad = addresses.filter((a) => isIP(a) === 0);
      if (bad.length > 0) throw new UserError(`not an IP address: ${bad.join(', ')}`);
      const inv = loadInventory(fileOf(opts.file));
      for (const a of addresses) console.log(JSON.stringify({ address: a, zone: inv.zoneOf(a), ...inv.endpointOf(a), proxy: inv.isProxy(a) }));
    });

  cmd.command('apply')
    .description('validate a new inventory and install it as EASTWATCH_INVENTORY; running processes reload it')
    .argument('<file>', 'new inventory YAML')
    .action((file: string) => {
      const target = fileOf();
      const text = readInventoryText(file);
      parseInventory(text); // throws, naming every problem, before anything is replaced
      const tmp = `${target}.${process.pid}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, target);
      console.log(JSON.stringify(inventorySummary(target)));
    });
}
