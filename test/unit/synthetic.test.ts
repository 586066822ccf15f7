import { allocationRows, AllocationEventSchema } from '../../allocations/event';
import { FlowSchema, type Flow } from '../../core/flow';
import { SyntheticCluster, syntheticAllocations } from '../../ingest/synthetic';
import { loadExampleInventory } from '../../inventory/example';
import { Inventory } from '../../inventory/inventory';
import { InventorySchema, PROTOCOLS, type InventoryFile } from '../../inventory/schema';

const NOW = 1_764_000_000_000;
/** Where the proxy-bypass incident uploads to. */
const INTERNET = '198.51.100.7';
const example = loadExampleInventory();
const build = (spec: InventoryFile) => Inventory.build(InventorySchema.parse(spec));
const generate = (inv: Inventory, seed: number, n: number) =>
  new SyntheticCluster(inv, { seed, incidentRate: 0.05, now: () => NOW }).batch(n);

/** Node, fabric and rail of an address, e.g. "gpu007 backend 3"; the zone when no node owns it. */
function owner(inv: Inventory, addr: string): string {
  const e = inv.endpointOf(addr);
  return e ? `${e.node} ${e.fabric}${e.rail !== undefined ? ` ${e.rail}` : ''}` : `zone ${inv.zoneOf(addr)}`;
}

/** Addresses of the flows that are neither an inventory node's nor the internet destination. */
const strangers = (inv: Inventory, flows: Flow[]) => flows
  .flatMap((f) => [f.src_addr, f.dst_addr, f.exporter_address])
  .filter((a) => a !== INTERNET && inv.endpointOf(a) === undefined);

/** Job of each node, from the allocations the generator announces (valid events). */
function jobsOf(inv: Inventory): Map<string, string> {
  return new Map(syntheticAllocations(inv, NOW).flatMap((a) => allocationRows(AllocationEventSchema.parse(a), NOW)).map((r) => [r.node, r.job_id]));
}

/** The flows the inventory does not allow or that cross jobs: what the incidents plant. */
function suspicious(inv: Inventory, flows: Flow[]): Set<string> {
  const jobs = jobsOf(inv);
  const job = (addr: string) => jobs.get(inv.endpointOf(addr)?.node ?? '');
  return new Set(flows
    .filter((f) => !inv.allows(inv.zoneOf(f.src_addr), inv.zoneOf(f.dst_addr), f.protocol, f.dst_port)
      || (job(f.src_addr) && job(f.dst_addr) && job(f.src_addr) !== job(f.dst_addr)))
    .map((f) => `${owner(inv, f.src_addr)} -> ${owner(inv, f.dst_addr)} ${f.dst_port}`));
}

describe('synthetic cluster from the example inventory', () => {
  const flows = generate(example, 5, 5000);

  it('splits the training nodes into the three jobs', () => {
    expect(syntheticAllocations(example, NOW)).toEqual([
      { job_id: '88213', nodes: 'gpu[001-016]', start: NOW, pattern: 'ring', source: 'synthetic' },
      { job_id: '88214', nodes: 'gpu[017-048]', start: NOW, pattern: 'all-to-all', source: 'synthetic' },
      { job_id: '88215', nodes: 'gpu[049-064]', start: NOW, pattern: 'tree', source: 'synthetic' },
    ]);
  });

  it('uses the inventory\'s addresses: nodes, DPU exporters, the pods its zones hold, the internet', () => {
    for (const f of flows) expect(FlowSchema.parse(f)).toEqual(f);
    expect(strangers(example, flows.filter((f) => f.source_kind !== 'hubble'))).toEqual([]);
    expect(new Set(flows.map((f) => example.endpointOf(f.exporter_address)?.role))).toEqual(new Set(['dpu']));
    const pods = flows.filter((f) => f.source_kind === 'hubble');
    expect(pods.length).toBeGreaterThan(0);
    expect(new Set(pods.map((f) => `${example.zoneOf(f.src_addr)} ${example.zoneOf(f.dst_addr)}`))).toEqual(new Set(['training cluster-services']));
  });

  it('keeps collective traffic inside a job and on one rail', () => {
    const jobs = jobsOf(example);
    const collectives = flows.filter((f) => f.dst_port === 4791);
    expect(collectives.length).toBeGreaterThan(flows.length / 2);
    const rails = new Set<number>();
    const off = collectives.filter((f) => {
      const [src, dst] = [example.endpointOf(f.src_addr), example.endpointOf(f.dst_addr)];
      rails.add(src?.rail ?? -1);
      return src?.fabric !== 'backend' || dst?.fabric !== 'backend' || dst.rail !== src.rail || dst.node === src.node
        || jobs.get(dst.node) !== jobs.get(src.node);
    });
    expect(off).toEqual([]);
    expect([...rails].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('plants the incidents, and only they are disallowed or cross jobs', () => {
    expect([...suspicious(example, flows)].sort()).toEqual([
      'gpu007 backend 3 -> gpu041 backend 3 22',
      'gpu012 frontend -> gpu031 oob 623',
      'gpu052 frontend -> zone internet 443',
      'inf01 frontend -> gpu021 frontend 29500',
      'inf02 frontend -> gpu021 frontend 29500',
      'zone training -> zone cluster-services 5432',
    ]);
    expect(flows.filter((f) => f.verdict === 'DROPPED')[0]).toMatchObject({
      src_pod: 'trainer-88214-worker-3', dst_pod: 'orders-db-0', drop_reason: 'POLICY_DENIED',
    });
    // Storage, DNS and the proxy are reached as the inventory allows.
    const services = new Set(flows.filter((f) => f.dst_port !== 4791).map((f) => `${example.zoneOf(f.dst_addr)} ${f.dst_port}`));
    expect([...services]).toEqual(expect.arrayContaining(['storage 2049', 'services 53', 'dmz 3128']));
  });

  it('is deterministic for a seed', () => {
    expect(generate(example, 5, 5000)).toEqual(flows);
    expect(generate(example, 6, 100)).not.toEqual(flows.slice(0, 100));
  });
});

describe('synthetic cluster from another inventory', () => {
  // 8 GPU nodes with 2 rails (one IPv6), no DPUs, no serving nodes, no pod network: nothing like the example.
  const small = build({
    zones: [
      { name: 'gpus', cidrs: ['172.16.0.0/16', '192.168.0.0/16', 'fd00:1::/64'] },
      { name: 'nas', cidrs: ['172.17.0.0/16'] },
      { name: 'infra', cidrs: ['172.18.0.0/16'] },
      { name: 'edge', cidrs: ['172.19.0.0/16'] },
      { name: 'ipmi', cidrs: ['172.31.0.0/16'] },
    ],
    allow: [
      { from: 'gpus', to: 'nas', protocols: ['tcp'], ports: [2049] },
      { from: 'gpus', to: 'infra', protocols: ['udp'], ports: [53] },
      { from: 'gpus', to: 'edge', protocols: ['tcp'], ports: [3128] },
    ],
    nodes: [
      { hosts: 'node[1-8]', role: 'gpu', frontend: '172.16.5.10', backend: ['192.168.7.10', 'fd00:1::10'], oob: '172.31.0.100', step: 2 },
      { hosts: 'nas1', role: 'storage', frontend: '172.17.0.5' },
      { hosts: 'ns1', role: 'service', frontend: '172.18.0.53' },
      { hosts: 'squid1', role: 'proxy', frontend: '172.19.0.3' },
    ],
    proxies: ['172.19.0.3'],
  });
  const flows = generate(small, 5, 5000);

  it('produces flows only in that inventory\'s addressing', () => {
    expect(syntheticAllocations(small, NOW).map((a) => a.nodes)).toEqual(['node[1-2]', 'node[3-6]', 'node[7-8]']);
    for (const f of flows) expect(FlowSchema.parse(f)).toEqual(f);
    expect(strangers(small, flows)).toEqual([]);
    const used = new Set(flows.flatMap((f) => [f.src_addr, f.dst_addr].map((a) => owner(small, a))));
    // Both rails (one IPv6), storage, DNS, the proxy.
    expect([...used]).toEqual(expect.arrayContaining(['node1 backend 0', 'node8 backend 1', 'nas1 frontend', 'ns1 frontend', 'squid1 frontend']));
    // No DPUs: the GPU nodes' BMCs export.
    expect(new Set(flows.map((f) => small.endpointOf(f.exporter_address)?.fabric))).toEqual(new Set(['oob']));
  });

  it('places the incidents it can at the same places, and not the others', () => {
    expect([...suspicious(small, flows)].sort()).toEqual([
      'node1 backend 1 -> node6 backend 1 22',
      'node2 frontend -> node4 oob 623',
      'node7 frontend -> zone internet 443',
    ]);
    const gen = new SyntheticCluster(small);
    expect(() => gen.incident('serving-to-training')).toThrow('no serving-to-training incident');
    expect(() => gen.incident('policy-denied')).toThrow('no policy-denied incident');
    expect(flows.some((f) => f.protocol === PROTOCOLS.tcp && f.dst_port === 5432)).toBe(false);
  });

  it('says what the inventory lacks', () => {
    const noDns = build({ zones: [{ name: 'gpus', cidrs: ['172.16.0.0/16'] }], nodes: [
      { hosts: 'node[1-8]', role: 'gpu', frontend: '172.16.5.10', backend: ['172.16.7.10'], oob: '172.16.9.10' },
    ] });
    expect(() => new SyntheticCluster(noDns)).toThrow('the inventory has no storage, DNS, proxy that its training nodes may reach');
    const seven = build({ zones: [{ name: 'gpus', cidrs: ['172.16.0.0/16'] }], nodes: [
      { hosts: 'node[1-7]', role: 'gpu', frontend: '172.16.5.10', backend: ['172.16.7.10'], oob: '172.16.9.10' },
    ] });
    expect(() => syntheticAllocations(seven, NOW)).toThrow('needs at least 8 GPU nodes with back-end rails, the inventory has 7');
  });
});
