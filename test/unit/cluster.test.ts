import ipaddr from 'ipaddr.js';
import { parse } from 'yaml';
import { UserError } from '../../core/error-text';
import { EXAMPLE_INVENTORY } from '../../inventory/example';
import { loadInventory, parseInventory, readInventoryText } from '../../inventory/holder';
import { Inventory } from '../../inventory/inventory';
import { InventorySchema, PROTOCOLS } from '../../inventory/schema';
import { clusterInventory, inventoryYaml, type ClusterOptions } from '../../simulator/cluster';

/** The inventory's answers that do not depend on when it was built. */
const rows = (inv: Inventory) => inv.addresses(0)
  .map(({ updated_at: _, ...r }) => r)
  .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));

/** Generated, written as YAML and read back the way eastwatch reads an inventory file. */
function generated(o: ClusterOptions) {
  const spec = clusterInventory(o);
  const text = inventoryYaml(spec);
  return { spec: InventorySchema.parse(spec), inv: parseInventory(text), text };
}

describe('clusterInventory({ nodes: 64, rails: 8 })', () => {
  const example = loadInventory(EXAMPLE_INVENTORY);
  const exampleSpec = InventorySchema.parse(parse(readInventoryText(EXAMPLE_INVENTORY)));
  const { spec, inv } = generated({ nodes: 64, rails: 8 });

  it('is the example cluster: the same nodes, each address with the same owner, fabric, rail and zone', () => {
    expect([...inv.nodes].sort()).toEqual([...example.nodes].sort());
    expect(rows(inv)).toEqual(rows(example));
    expect(rows(inv)).toHaveLength(773);
  });

  it('has the example zones, proxies and services', () => {
    expect(spec.zones).toEqual(exampleSpec.zones);
    expect(spec.defaultZone).toBe(exampleSpec.defaultZone);
    expect(spec.proxies).toEqual(exampleSpec.proxies);
    expect(spec.services).toEqual(exampleSpec.services);
    expect([...inv.zoneNames].sort()).toEqual([...example.zoneNames].sort());
    for (const r of rows(example)) expect([r.address, inv.isProxy(r.address)]).toEqual([r.address, example.isProxy(r.address)]);
  });

  it('allows exactly what the example allows, between every pair of zones', () => {
    const ports = [0, 22, 53, 79, 80, 81, 123, 442, 443, 444, 623, 987, 988, 2049, 3128, 4791, 6443, 6816, 6817, 6818,
      6819, 6820, 7999, 8000, 8040, 8080, 8081, 10250, 65535];
    const zones = [...example.zoneNames];
    const answers = (i: Inventory) => zones.flatMap((from) => zones.flatMap((to) => Object.values(PROTOCOLS)
      .flatMap((p) => ports.map((port) => `${from}>${to} ${p}/${port} ${i.allows(from, to, p, port)}`))));
    const expected = answers(example);
    expect(answers(inv)).toEqual(expected);
    expect(expected.filter((a) => a.endsWith('true')).length).toBeGreaterThan(zones.length * 4 * ports.length);
  });
});

describe('clusterInventory at other sizes', () => {
  const num = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const inside = (addr: string, cidr: string) => ipaddr.parse(addr).match(ipaddr.parseCIDR(cidr));
  const frontendZone: [RegExp, string][] = [
    [/^gpu\d+$/, 'training'], [/^inf/, 'inference'], [/^stor/, 'storage'], [/^vault/, 'weights'],
    [/^(cp|jump)/, 'management'], [/^(proxy|gw)/, 'dmz'], [/^dns/, 'services'],
  ];

  it.each([
    { nodes: 64, rails: 8 },
    { nodes: 512, rails: 8 },
    { nodes: 2048, rails: 8 },
    { nodes: 16, rails: 2 },
    { nodes: 2048, rails: 16 },
    { nodes: 8, rails: 1 },
    // The largest: every group at its limit.
    { nodes: 4096, rails: 16, inference: 4096, storage: 4096 },
  ])('builds a consistent inventory for %o', (o) => {
    const { spec, inv } = generated(o);
    const inference = o.inference ?? Math.max(2, Math.floor(o.nodes / 8));
    const storage = o.storage ?? Math.max(2, Math.floor(o.nodes / 8));
    const feLeaves = 2 * Math.ceil((o.nodes + inference + storage + 12) / 64);
    const byRole: Record<string, number> = {};
    for (const role of inv.nodes.values()) byRole[role] = (byRole[role] ?? 0) + 1;
    expect(byRole).toEqual({
      gpu: o.nodes + inference, dpu: o.nodes + 2 /* vaults */, storage: storage + 2, 'control-plane': 4, proxy: 2, service: 4,
      switch: o.rails + 4 + feLeaves,
    });
    const width = Math.max(3, String(o.nodes).length);
    const last = `gpu${String(o.nodes).padStart(width, '0')}`;
    expect(inv.nodes.get(last)).toBe('gpu');
    expect(inv.nodes.get(`${last}-dpu`)).toBe('dpu');
    expect(inv.nodes.get(`rail-leaf${o.rails - 1}`)).toBe('switch');

    const all = rows(inv);
    expect(all).toHaveLength(o.nodes * (o.rails + 3) + 2 * inference + 2 * storage + 21 + o.rails + 4 + feLeaves);
    // Mismatches are collected and compared once: an expect per address would take seconds at 4,096 nodes.
    const misplaced = all.filter((r) => r.zone !== (r.fabric === 'backend' ? 'training' : r.fabric === 'oob' ? 'bmc'
      : frontendZone.find(([re]) => re.test(r.node))?.[1]));
    expect(misplaced).toEqual([]);

    // Rail r of every GPU node lies in the r-th block of 10.200.0.0, a power of two at least 256 big with room for
    // the network and broadcast addresses, so no two rails share a subnet.
    const block = Math.max(256, 2 ** Math.ceil(Math.log2(o.nodes + 2)));
    const backend = all.filter((a) => a.fabric === 'backend');
    expect(backend).toHaveLength(o.nodes * o.rails);
    expect(backend.filter((a) => {
      const offset = num(a.address) - num('10.200.0.0');
      return Math.floor(offset / block) !== a.rail || offset % block === 0 || offset % block === block - 1;
    })).toEqual([]);

    // Storage service CIDRs hold the storage nodes and not the weights enclave.
    const storageFrontends = all.filter((a) => a.fabric === 'frontend' && a.role === 'storage');
    expect(storageFrontends.filter((a) => spec.services.storage.some((c) => inside(a.address, c)) !== (a.zone === 'storage' || a.zone === 'weights')))
      .toEqual([]);
    expect(spec.proxies).toEqual(all.filter((a) => a.role === 'proxy' && a.fabric === 'frontend').map((a) => a.address));
    for (const p of spec.proxies) expect(inv.zoneOf(p)).toBe('dmz');
  });

  it('counts the 2,048-node cluster up from the first addresses', () => {
    const { spec, inv } = generated({ nodes: 2048, rails: 8 });
    expect(spec.nodes[0]).toMatchObject({ hosts: 'gpu[0001-2048]', frontend: '10.30.1.1', oob: '10.250.1.1' });
    expect(spec.nodes[0]!.backend).toEqual(Array.from({ length: 8 }, (_, r) => `10.200.${16 * r}.1`));
    expect(spec.zones.find((z) => z.name === 'training')!.cidrs).toEqual(['10.30.0.0/16', '10.200.0.0/16', '10.244.0.0/16', 'fd00:10:244::/48']);
    expect(spec.services.storage).toEqual(['10.40.0.0/23', '10.50.0.0/24']);
    const at = (a: string) => inv.endpointOf(a);
    expect(at('10.30.1.17')).toStrictEqual({ node: 'gpu0017', role: 'gpu', fabric: 'frontend' });
    expect(at('10.200.48.17')).toStrictEqual({ node: 'gpu0017', role: 'gpu', fabric: 'backend', rail: 3 });
    expect(at('10.30.9.0')).toStrictEqual({ node: 'gpu2048', role: 'gpu', fabric: 'frontend' });
    // Rail 7 is 10.200.112.0/20: its 2,048 hosts end below the broadcast address.
    expect(at('10.200.120.0')).toStrictEqual({ node: 'gpu2048', role: 'gpu', fabric: 'backend', rail: 7 });
    expect(at('10.250.9.0')).toStrictEqual({ node: 'gpu2048', role: 'gpu', fabric: 'oob' });
    expect(at('10.250.10.1')).toStrictEqual({ node: 'inf001', role: 'gpu', fabric: 'oob' });
    expect(at('10.250.12.11')).toStrictEqual({ node: 'stor001', role: 'storage', fabric: 'oob' });
    expect(at('10.250.13.101')).toStrictEqual({ node: 'vault01', role: 'storage', fabric: 'oob' });
    expect(at('10.250.15.1')).toStrictEqual({ node: 'gpu0001-dpu', role: 'dpu', fabric: 'oob' });
    expect(at('10.250.24.1')).toStrictEqual({ node: 'rail-leaf0', role: 'switch', fabric: 'oob' });
    expect(at('10.250.24.31')).toStrictEqual({ node: 'fe-leaf01', role: 'switch', fabric: 'oob' });
  });

  it('widens the rails zone when 16 rails of 4,096 nodes outgrow a /16', () => {
    const { spec } = generated({ nodes: 4096, rails: 16 });
    expect(spec.zones.find((z) => z.name === 'training')!.cidrs[1]).toBe('10.200.0.0/15');
    expect(spec.nodes[0]!.backend![15]).toBe('10.201.224.1');
  });
});

describe('clusterInventory options', () => {
  it('takes inference and storage counts and a name', () => {
    const { spec, inv } = generated({ nodes: 16, rails: 2, inference: 1, storage: 3, name: 'lab' });
    expect(spec.cluster).toBe('lab');
    expect(spec.nodes.find((g) => g.frontend === '10.20.1.1')!.hosts).toBe('inf01');
    expect(inv.nodes.has('stor03')).toBe(true);
    expect(generated({ nodes: 16, rails: 2 }).spec.cluster).toBe('sim-16');
  });

  it.each([
    [{ nodes: 7, rails: 8 }, 'nodes must be a whole number from 8 to 4096, not 7'],
    [{ nodes: 4097, rails: 8 }, 'nodes must be a whole number from 8 to 4096, not 4097'],
    [{ nodes: 64.5, rails: 8 }, 'nodes must be a whole number from 8 to 4096, not 64.5'],
    [{ nodes: 64, rails: 0 }, 'rails must be a whole number from 1 to 16, not 0'],
    [{ nodes: 64, rails: 17 }, 'rails must be a whole number from 1 to 16, not 17'],
    [{ nodes: 64, rails: Number.NaN }, 'rails must be a whole number from 1 to 16, not NaN'],
    [{ nodes: 64, rails: 8, inference: 0 }, 'inference must be a whole number from 1 to 4096, not 0'],
    [{ nodes: 64, rails: 8, storage: 5000 }, 'storage must be a whole number from 1 to 4096, not 5000'],
    [{ nodes: 64, rails: 8, name: 'x'.repeat(129) }, 'the name is longer than 128 characters'],
  ])('rejects %o', (o, message) => {
    expect(() => clusterInventory(o)).toThrow(new UserError(`simulated cluster: ${message}`));
    expect(() => clusterInventory(o)).toThrow(UserError);
  });
});

describe('inventoryYaml', () => {
  it('writes YAML that reads back as the same inventory, under a header saying how it was made', () => {
    const spec = clusterInventory({ nodes: 512, rails: 8 });
    const text = inventoryYaml(spec, 'eastwatch simulate --inventory-out sim.yaml --nodes 512 --rails 8');
    expect(text.split('\n').slice(0, 3)).toEqual([
      '# Generated by `eastwatch simulate --inventory-out` (simulator/cluster.ts): generate it again rather than edit it.',
      '# eastwatch simulate --inventory-out sim.yaml --nodes 512 --rails 8',
      '# Check it with `eastwatch inventory check FILE`.',
    ]);
    expect(parse(text)).toEqual(spec);
    expect(text).toContain('\n  - { from: training, to: storage, protocols: [ tcp ], ports: [ 988, 2049, 443 ], description: "Lustre, NFS, S3" }\n');
    expect(text).toContain('\n    cidrs: [ 10.30.0.0/16, 10.200.0.0/16, 10.244.0.0/16, fd00:10:244::/48 ]\n');
    expect(text).toContain('\n\nnodes:\n  - hosts: gpu[001-512]\n');
  });
});
