import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../core/log';
import { registry } from '../../core/metrics';
import { InventoryAddressSchema } from '../../core/records';
import { InventoryHolder, loadInventory, parseInventory } from '../../inventory/holder';
import { Inventory, InventoryError } from '../../inventory/inventory';
import { PROTOCOLS, type InventoryFile } from '../../inventory/schema';

const EXAMPLE = path.join(__dirname, '../../inventory/example-64-nodes.yaml');
const TCP = PROTOCOLS.tcp;
const UDP = PROTOCOLS.udp;
const ICMP = PROTOCOLS.icmp;

const build = (spec: InventoryFile): Inventory => parseInventory(stringify(spec));

/** The problems an invalid inventory text is rejected with (fails the test when it is accepted). */
function problemsOf(text: string): string[] {
  try {
    parseInventory(text);
  } catch (e) {
    expect(e).toBeInstanceOf(InventoryError);
    const err = e as InventoryError;
    // The message lists every problem, one per line.
    expect(err.message).toBe(`invalid inventory:\n${err.problems.map((p) => `  ${p}`).join('\n')}`);
    return err.problems;
  }
  throw new Error('inventory was accepted');
}
const problemsOfSpec = (spec: unknown) => problemsOf(stringify(spec));

const zone = (name: string, ...cidrs: string[]) => ({ name, cidrs });

describe('the example inventory (inventory/example-64-nodes.yaml)', () => {
  const inv = loadInventory(EXAMPLE);

  it('has every node of every group, by role', () => {
    const byRole: Record<string, number> = {};
    for (const role of inv.nodes.values()) byRole[role] = (byRole[role] ?? 0) + 1;
    expect(byRole).toEqual({
      gpu: 72, // gpu001-gpu064 and inf01-inf08
      dpu: 66, // gpu001-064 and vault01-02
      storage: 10, // stor01-08, vault01-02
      'control-plane': 4, // cp01-03, jump01
      proxy: 2,
      service: 4, // gw01-02, dns01-02
      switch: 16, // 8 rail leaves, 4 spines, 4 front-end leaves
    });
    expect(inv.nodes.size).toBe(174);
    expect([...inv.nodes.keys()].filter((n) => /^gpu\d{3}$/.test(n))).toHaveLength(64);
    expect(inv.nodes.get('gpu064')).toBe('gpu');
    expect(inv.nodes.get('gpu064-dpu')).toBe('dpu');
    expect(inv.nodes.has('gpu065')).toBe(false);
    expect([...inv.zoneNames].sort()).toEqual(
      ['bmc', 'cluster-services', 'dmz', 'inference', 'internet', 'management', 'services', 'storage', 'training', 'weights'],
    );
    expect(inv.defaultZone).toBe('internet');
  });

  it('places gpu017 on every fabric: back-end rails, front end, BMC', () => {
    expect(inv.endpointOf('10.200.3.17')).toStrictEqual({ node: 'gpu017', role: 'gpu', fabric: 'backend', rail: 3 });
    expect(inv.zoneOf('10.200.3.17')).toBe('training');
    expect(inv.endpointOf('10.200.0.17')).toStrictEqual({ node: 'gpu017', role: 'gpu', fabric: 'backend', rail: 0 });
    expect(inv.endpointOf('10.30.1.17')).toStrictEqual({ node: 'gpu017', role: 'gpu', fabric: 'frontend' });
    expect(inv.zoneOf('10.30.1.17')).toBe('training');
    expect(inv.endpointOf('10.250.1.17')).toStrictEqual({ node: 'gpu017', role: 'gpu', fabric: 'oob' });
    expect(inv.zoneOf('10.250.1.17')).toBe('bmc');
    expect(inv.endpointOf('10.250.5.17')).toStrictEqual({ node: 'gpu017-dpu', role: 'dpu', fabric: 'oob' });
  });

  it('counts the last node of a group from the first address', () => {
    expect(inv.endpointOf('10.200.7.64')).toStrictEqual({ node: 'gpu064', role: 'gpu', fabric: 'backend', rail: 7 });
    expect(inv.endpointOf('10.30.1.64')).toStrictEqual({ node: 'gpu064', role: 'gpu', fabric: 'frontend' });
    expect(inv.endpointOf('10.200.7.1')).toStrictEqual({ node: 'gpu001', role: 'gpu', fabric: 'backend', rail: 7 });
    expect(inv.endpointOf('10.40.0.18')).toStrictEqual({ node: 'stor08', role: 'storage', fabric: 'frontend' });
    expect(inv.endpointOf('10.250.10.8')).toStrictEqual({ node: 'rail-leaf7', role: 'switch', fabric: 'oob' });
    // One past the end of a group is nobody's, though its zone is known.
    expect(inv.endpointOf('10.200.7.65')).toBeUndefined();
    expect(inv.zoneOf('10.200.7.65')).toBe('training');
    expect(inv.endpointOf('10.40.0.19')).toBeUndefined();
  });

  it('answers the same for an address written IPv4-mapped', () => {
    expect(inv.endpointOf('::ffff:10.200.3.17')).toStrictEqual({ node: 'gpu017', role: 'gpu', fabric: 'backend', rail: 3 });
    expect(inv.zoneOf('::ffff:10.200.3.17')).toBe('training');
    expect(inv.endpointOf('::ffff:ac8:311')).toStrictEqual({ node: 'gpu017', role: 'gpu', fabric: 'backend', rail: 3 });
    expect(inv.zoneOf('::ffff:10.250.1.17')).toBe('bmc');
    expect(inv.isProxy('::ffff:10.10.0.10')).toBe(true);
  });

  it('puts an unknown address in the default zone, owned by nobody', () => {
    expect(inv.zoneOf('8.8.8.8')).toBe('internet');
    expect(inv.endpointOf('8.8.8.8')).toBeUndefined();
    expect(inv.zoneOf('2001:4860:4860::8888')).toBe('internet');
    expect(inv.zoneOf('not an address')).toBe('internet');
    expect(inv.endpointOf('not an address')).toBeUndefined();
  });

  it('knows the egress proxies', () => {
    expect(inv.isProxy('10.10.0.10')).toBe(true);
    expect(inv.isProxy('10.10.0.11')).toBe(true);
    expect(inv.isProxy('10.10.0.12')).toBe(false);
    expect(inv.isProxy('10.10.0.20')).toBe(false); // a gateway, same zone
    expect(inv.isProxy('8.8.8.8')).toBe(false);
  });

  it('allows only the listed zone pairs, ports and protocols', () => {
    expect(inv.allows('training', 'storage', TCP, 2049)).toBe(true);
    expect(inv.allows('training', 'storage', TCP, 988)).toBe(true);
    expect(inv.allows('training', 'storage', UDP, 2049)).toBe(false);
    expect(inv.allows('training', 'storage', TCP, 2050)).toBe(false);
    expect(inv.allows('training', 'bmc', TCP, 22)).toBe(false);
    expect(inv.allows('training', 'bmc', UDP, 623)).toBe(false);
    expect(inv.allows('management', 'bmc', UDP, 623)).toBe(true);
    expect(inv.allows('management', 'bmc', TCP, 443)).toBe(true);
    expect(inv.allows('management', 'bmc', TCP, 80)).toBe(false);
    // The rule is one-way.
    expect(inv.allows('bmc', 'management', UDP, 623)).toBe(false);
    expect(inv.allows('storage', 'training', TCP, 2049)).toBe(false);
    // A range: 6817-6819.
    expect(inv.allows('training', 'management', TCP, 6816)).toBe(false);
    expect(inv.allows('training', 'management', TCP, 6817)).toBe(true);
    expect(inv.allows('training', 'management', TCP, 6819)).toBe(true);
    expect(inv.allows('training', 'management', TCP, 6820)).toBe(false);
    expect(inv.allows('training', 'management', TCP, 6443)).toBe(true);
    // The default zone is a zone like the others: only the DMZ may reach it.
    expect(inv.allows('dmz', 'internet', TCP, 443)).toBe(true);
    expect(inv.allows('training', 'internet', TCP, 443)).toBe(false);
    // Inside a zone anything goes.
    expect(inv.allows('training', 'training', UDP, 4791)).toBe(true);
    expect(inv.allows('bmc', 'bmc', TCP, 623)).toBe(true);
  });

  it('lists every node address as an inventory_addresses row', () => {
    const rows = inv.addresses(1764000000000);
    // gpu: frontend + 8 rails + BMC each; dpu 1; inf 2; stor 2; vault 2; cp 2; jump 1; proxy 2; gw 1; dns 1; switches 1.
    expect(rows).toHaveLength(64 * 10 + 66 + 8 * 2 + 8 * 2 + 2 * 2 + 3 * 2 + 1 + 2 * 2 + 2 + 2 + 16);
    expect(rows).toHaveLength(773);
    for (const r of rows) expect(InventoryAddressSchema.parse(r)).toStrictEqual(r);
    expect(new Set(rows.map((r) => r.address)).size).toBe(rows.length);
    expect(rows.filter((r) => r.node === 'gpu017')).toStrictEqual([
      { address: '10.30.1.17', node: 'gpu017', role: 'gpu', fabric: 'frontend', zone: 'training', updated_at: 1764000000000 },
      ...Array.from({ length: 8 }, (_, rail) => ({
        address: `10.200.${rail}.17`, node: 'gpu017', role: 'gpu', fabric: 'backend', rail, zone: 'training', updated_at: 1764000000000,
      })),
      { address: '10.250.1.17', node: 'gpu017', role: 'gpu', fabric: 'oob', zone: 'bmc', updated_at: 1764000000000 },
    ]);
    expect(rows.find((r) => r.node === 'proxy02' && r.fabric === 'frontend')).toStrictEqual(
      { address: '10.10.0.11', node: 'proxy02', role: 'proxy', fabric: 'frontend', zone: 'dmz', updated_at: 1764000000000 },
    );
    expect(rows.filter((r) => 'rail' in r)).toHaveLength(64 * 8);
  });
});

describe('zones: longest prefix wins', () => {
  const zones = [
    zone('wide', '10.0.0.0/8'),
    zone('narrow', '10.4.0.0/16'),
    zone('host', '10.4.7.12/32'),
    zone('v6wide', 'fd00::/8'),
    zone('v6narrow', 'fd00:10::/32'),
  ];
  const expected: [string, string][] = [
    ['10.0.0.0', 'wide'],
    ['10.1.2.3', 'wide'],
    ['10.3.255.255', 'wide'],
    ['10.4.0.0', 'narrow'],
    ['10.4.7.11', 'narrow'],
    ['10.4.7.12', 'host'],
    ['::ffff:10.4.7.12', 'host'],
    ['10.4.7.13', 'narrow'],
    ['10.4.255.255', 'narrow'],
    ['10.5.0.0', 'wide'],
    ['10.255.255.255', 'wide'],
    ['fd00::1', 'v6wide'],
    ['fd00:f::1', 'v6wide'],
    ['fd00:10::', 'v6narrow'],
    ['fd00:10:ffff:ffff:ffff:ffff:ffff:ffff', 'v6narrow'],
    ['FD00:0010:0000::5', 'v6narrow'],
    ['fd00:11::1', 'v6wide'],
    ['fdff:ffff::1', 'v6wide'],
  ];
  const unknown = ['9.255.255.255', '11.0.0.0', '192.168.1.1', 'fe00::1', 'fe80::1', '2001:db8::1', '::1'];

  it('puts each address in its most specific zone, whatever the order the zones are written in', () => {
    for (const order of [zones, [...zones].reverse()]) {
      const inv = build({ zones: order });
      expect(expected.map(([a]) => [a, inv.zoneOf(a)])).toEqual(expected);
      for (const a of unknown) expect([a, inv.zoneOf(a)]).toEqual([a, 'internet']);
      expect(inv.defaultZone).toBe('internet');
    }
  });

  it('puts uncovered IPv4 and IPv6 addresses in a custom default zone', () => {
    const inv = build({ zones, defaultZone: 'outside' });
    for (const a of unknown) expect([a, inv.zoneOf(a)]).toEqual([a, 'outside']);
    expect(inv.zoneOf('10.4.7.12')).toBe('host');
    expect(inv.zoneNames.has('outside')).toBe(true);
    expect(inv.zoneNames.has('internet')).toBe(false);
  });

  it('takes one zone over several CIDRs, IPv4 written mapped included', () => {
    const inv = build({ zones: [zone('lab', '192.168.0.0/16', '::ffff:172.16.0.0/108', '2001:db8::/32')] });
    expect(inv.zoneOf('192.168.9.9')).toBe('lab');
    expect(inv.zoneOf('172.16.3.4')).toBe('lab');
    expect(inv.zoneOf('172.32.0.0')).toBe('internet');
    expect(inv.zoneOf('2001:db8:1::1')).toBe('lab');
  });
});

describe('allows()', () => {
  const inv = build({
    zones: [zone('a', '10.1.0.0/16'), zone('b', '10.2.0.0/16'), zone('c', '10.3.0.0/16'), zone('d', '10.4.0.0/16')],
    allow: [
      { from: 'a', to: 'b', protocols: ['tcp'], ports: [22, '8000-8080'] },
      { from: 'a', to: 'b', protocols: ['udp'], ports: [53] },
      { from: 'a', to: 'c' },
      { from: 'c', to: 'd', protocols: ['icmp'] },
      { from: 'd', to: 'c', ports: [443] },
    ],
  });

  it('allows traffic inside a zone, whatever it is', () => {
    for (const z of ['a', 'b', 'c', 'd', 'internet']) expect(inv.allows(z, z, TCP, 12345)).toBe(true);
  });

  it('allows a listed pair only on its ports and protocols', () => {
    expect(inv.allows('a', 'b', TCP, 22)).toBe(true);
    expect(inv.allows('a', 'b', TCP, 8000)).toBe(true);
    expect(inv.allows('a', 'b', TCP, 8042)).toBe(true);
    expect(inv.allows('a', 'b', TCP, 8080)).toBe(true);
    expect(inv.allows('a', 'b', TCP, 7999)).toBe(false);
    expect(inv.allows('a', 'b', TCP, 8081)).toBe(false);
    expect(inv.allows('a', 'b', TCP, 53)).toBe(false);
    expect(inv.allows('a', 'b', UDP, 53)).toBe(true); // the second rule of the pair
    expect(inv.allows('a', 'b', UDP, 22)).toBe(false);
    expect(inv.allows('a', 'b', ICMP, 0)).toBe(false);
  });

  it('reads omitted ports or protocols as all', () => {
    expect(inv.allows('a', 'c', TCP, 1)).toBe(true);
    expect(inv.allows('a', 'c', UDP, 65535)).toBe(true);
    expect(inv.allows('a', 'c', ICMP, 0)).toBe(true);
    expect(inv.allows('c', 'd', ICMP, 0)).toBe(true);
    expect(inv.allows('c', 'd', TCP, 0)).toBe(false);
    expect(inv.allows('d', 'c', TCP, 443)).toBe(true);
    expect(inv.allows('d', 'c', UDP, 443)).toBe(true);
    expect(inv.allows('d', 'c', TCP, 444)).toBe(false);
  });

  it('denies unlisted pairs and the reverse of a listed pair', () => {
    expect(inv.allows('b', 'a', TCP, 22)).toBe(false);
    expect(inv.allows('c', 'a', TCP, 1)).toBe(false);
    expect(inv.allows('b', 'c', TCP, 1)).toBe(false);
    expect(inv.allows('a', 'd', TCP, 1)).toBe(false);
    expect(inv.allows('a', 'internet', TCP, 443)).toBe(false);
    expect(inv.allows('internet', 'a', TCP, 443)).toBe(false);
  });
});

describe('invalid inventories', () => {
  const ok = { zones: [zone('a', '10.1.0.0/16'), zone('b', '10.2.0.0/16')] };

  it('a zone defined twice', () => {
    expect(problemsOfSpec({ zones: [zone('a', '10.1.0.0/16'), zone('a', '10.2.0.0/16')] })).toEqual([
      'zones.1.name: zone "a" is defined twice (or is the default zone)',
    ]);
    expect(problemsOfSpec({ zones: [zone('internet', '10.1.0.0/16')] })).toEqual([
      'zones.0.name: zone "internet" is defined twice (or is the default zone)',
    ]);
  });

  it('the same CIDR in two zones, however it is written', () => {
    expect(problemsOfSpec({ zones: [zone('a', '10.1.0.0/16'), zone('b', '10.2.0.0/16', '10.1.0.0/16')] })).toEqual([
      'zones.1.cidrs.1: 10.1.0.0/16 is already in zone "a"',
    ]);
    expect(problemsOfSpec({ zones: [zone('a', '10.0.0.0/8'), zone('b', '::ffff:10.0.0.0/104')] })).toEqual([
      'zones.1.cidrs.0: ::ffff:10.0.0.0/104 is already in zone "a"',
    ]);
    // The same CIDR twice in one zone is harmless.
    expect(build({ zones: [zone('a', '10.1.0.0/16', '10.1.0.0/16')] }).zoneOf('10.1.2.3')).toBe('a');
  });

  it('host bits set in a CIDR, naming the network probably meant', () => {
    expect(problemsOfSpec({ zones: [zone('a', '10.1.0.0/16'), zone('b', '10.2.0.0/16', '10.4.7.12/16')] })).toEqual([
      'zones.1.cidrs.1: invalid CIDR "10.4.7.12/16": host bits are set (the network is 10.4.0.0/16)',
    ]);
  });

  it('a CIDR of the wrong form, found by the schema', () => {
    const p = problemsOfSpec({ zones: [zone('a', '10.1.0.0/16', 'ten-dot-one')] });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^zones\.0\.cidrs\.1: expected a CIDR/);
    expect(problemsOfSpec({ zones: [zone('a', '10.1.0.0/33')] })).toEqual([
      'zones.0.cidrs.0: invalid CIDR "10.1.0.0/33": prefix length must be 0-32',
    ]);
  });

  it('an allow rule naming an unknown zone', () => {
    expect(problemsOfSpec({ ...ok, allow: [{ from: 'a', to: 'b' }, { from: 'a', to: 'nowhere', ports: [22] }] })).toEqual([
      'allow.1.to: unknown zone "nowhere"',
    ]);
    expect(problemsOfSpec({ ...ok, allow: [{ from: 'x', to: 'y' }] })).toEqual([
      'allow.0.from: unknown zone "x"',
      'allow.0.to: unknown zone "y"',
    ]);
    // The default zone may be named.
    expect(build({ ...ok, allow: [{ from: 'a', to: 'internet' }] }).allows('a', 'internet', TCP, 1)).toBe(true);
  });

  it('a descending port range', () => {
    expect(problemsOfSpec({ ...ok, allow: [{ from: 'a', to: 'b', ports: ['9000-8000'] }] })).toEqual([
      'allow.0.ports: bad port range "9000-8000"',
    ]);
    expect(problemsOfSpec({ ...ok, allow: [{ from: 'a', to: 'b', ports: ['1-70000'] }] })).toEqual([
      'allow.0.ports: bad port range "1-70000"',
    ]);
  });

  it('a node in two groups', () => {
    expect(problemsOfSpec({
      ...ok,
      nodes: [
        { hosts: 'gpu[001-004]', role: 'gpu', frontend: '10.1.0.1' },
        { hosts: 'gpu[004-005]', role: 'gpu', frontend: '10.1.1.4' },
      ],
    })).toEqual(['nodes.1: node gpu004 is listed twice']);
  });

  it('an address owned twice: two groups overlapping, or two fabrics of one node', () => {
    expect(problemsOfSpec({
      ...ok,
      nodes: [
        { hosts: 'gpu[001-004]', role: 'gpu', frontend: '10.1.0.1' },
        { hosts: 'stor[01-02]', role: 'storage', frontend: '10.1.0.3' },
      ],
    })).toEqual(['nodes.1: 10.1.0.3 (frontend of stor01) already belongs to gpu003']);
    expect(problemsOfSpec({
      ...ok,
      nodes: [{ hosts: 'gpu[001-002]', role: 'gpu', frontend: '10.1.0.1', oob: '10.1.0.2' }],
    })).toEqual(['nodes.0: 10.1.0.2 (frontend of gpu002) already belongs to gpu001']);
    // With a step the groups interleave without overlapping.
    const inv = build({
      ...ok,
      nodes: [
        { hosts: 'x[1-3]', role: 'gpu', frontend: '10.1.0.1', step: 2 },
        { hosts: 'y[1-3]', role: 'gpu', frontend: '10.1.0.2', step: 2 },
      ],
    });
    expect(['10.1.0.1', '10.1.0.2', '10.1.0.5', '10.1.0.6'].map((a) => inv.endpointOf(a)?.node)).toEqual(['x1', 'y1', 'x3', 'y3']);
  });

  it('a bad hostlist', () => {
    expect(problemsOfSpec({ ...ok, nodes: [{ hosts: 'gpu[001-', role: 'gpu' }] })).toEqual([
      'nodes.0: invalid hostlist "gpu[001-": unbalanced "[" at offset 3',
    ]);
    expect(problemsOfSpec({ ...ok, nodes: [{ hosts: 'a', role: 'gpu' }, { hosts: 'gpu[9-1]', role: 'gpu' }] })).toEqual([
      'nodes.1: invalid hostlist "gpu[9-1]": descending range "9-1"',
    ]);
  });

  it('addresses counted past the end of the address space', () => {
    expect(problemsOfSpec({ ...ok, nodes: [{ hosts: 'h[1-3]', role: 'service', frontend: '255.255.255.254' }] })).toEqual([
      'nodes.0: frontend address of h3 runs past the end of the address space',
    ]);
    expect(problemsOfSpec({ ...ok, nodes: [{ hosts: 'h[1-2]', role: 'service', backend: ['10.1.0.1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'] }] })).toEqual([
      'nodes.0: backend address of h2 runs past the end of the address space',
    ]);
    // The last address itself is fine, and the carry crosses octets.
    const inv = build({ ...ok, nodes: [{ hosts: 'h[1-2]', role: 'service', frontend: '255.255.255.254', oob: '10.0.0.255' }] });
    expect(inv.endpointOf('255.255.255.255')?.node).toBe('h2');
    expect(inv.endpointOf('10.0.1.0')).toStrictEqual({ node: 'h2', role: 'service', fabric: 'oob' });
  });

  it('text that is not YAML', () => {
    const p = problemsOf('zones: [a, b\nnodes: {');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^not YAML: /);
  });

  it('unknown keys, at the top level and inside', () => {
    expect(problemsOfSpec({ ...ok, zone: [] })).toEqual(['(top level): Unrecognized key: "zone"']);
    const p = problemsOfSpec({ zones: [{ name: 'a', cidrs: ['10.1.0.0/16'], cidr: '10.2.0.0/16' }] });
    expect(p).toEqual(['zones.0: Unrecognized key: "cidr"']);
  });

  it('schema problems, each by its key path', () => {
    const p = problemsOfSpec({
      zones: [zone('A', '10.1.0.0/16'), { name: 'b', cidrs: [] }],
      nodes: [{ hosts: 'gpu1', role: 'accelerator', frontend: '10.1.0.300' }],
      proxies: ['proxy.example'],
    });
    expect(p.map((x) => x.slice(0, x.indexOf(':')))).toEqual([
      'zones.0.name', 'zones.1.cidrs', 'nodes.0.role', 'nodes.0.frontend', 'proxies.0',
    ]);
    expect(p[0]).toContain('lower-case letters');
    expect(p[3]).toBe('nodes.0.frontend: not an IPv4 or IPv6 address');
    expect(p[4]).toBe('proxies.0: not an IPv4 or IPv6 address');
    expect(problemsOf('cluster: x\n')).toEqual(['zones: Invalid input: expected array, received undefined']);
    expect(problemsOf('')).toHaveLength(1);
  });

  it('reports every problem of the build together, not just the first', () => {
    expect(problemsOfSpec({
      zones: [zone('a', '10.1.0.0/16'), zone('a', '10.2.0.0/16'), zone('c', '10.4.7.12/16', '10.1.0.0/16')],
      allow: [{ from: 'a', to: 'nowhere' }],
      nodes: [
        { hosts: 'gpu[1-2]', role: 'gpu', frontend: '10.1.0.1' },
        { hosts: 'gpu2', role: 'gpu', frontend: '10.1.0.9' },
        { hosts: 'x[', role: 'gpu' },
      ],
    })).toEqual([
      'zones.1.name: zone "a" is defined twice (or is the default zone)',
      'zones.2.cidrs.0: invalid CIDR "10.4.7.12/16": host bits are set (the network is 10.4.0.0/16)',
      'zones.2.cidrs.1: 10.1.0.0/16 is already in zone "a"',
      'allow.0.to: unknown zone "nowhere"',
      'nodes.1: node gpu2 is listed twice',
      'nodes.2: invalid hostlist "x[": unbalanced "[" at offset 1',
    ]);
  });

  it('a file that cannot be read', () => {
    expect(() => loadInventory('/nonexistent/inventory.yaml')).toThrow(InventoryError);
    try {
      loadInventory('/nonexistent/inventory.yaml');
    } catch (e) {
      expect((e as InventoryError).problems).toEqual([expect.stringMatching(/^\/nonexistent\/inventory\.yaml: ENOENT/)]);
    }
  });
});

describe('InventoryHolder', () => {
  let dir: string;
  let holder: InventoryHolder | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-inventory-'));
  });
  afterEach(() => {
    holder?.stop();
    holder = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Replaces the file the way an editor or a config manager does: a new file renamed over the old one. */
  const replace = (file: string, text: string) => {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  };
  async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  async function reloads(result: 'ok' | 'invalid'): Promise<number> {
    const metric = registry.getSingleMetric('eastwatch_inventory_reloads_total');
    expect(metric).toBeDefined();
    const { values } = await metric!.get();
    return values.find((v) => v.labels.result === result)?.value ?? 0;
  }

  const v1 = { zones: [zone('train', '10.1.0.0/16')], nodes: [{ hosts: 'gpu[1-2]', role: 'gpu' as const, frontend: '10.1.0.1' }] };
  const v2 = {
    zones: [zone('train', '10.1.0.0/16'), zone('store', '10.2.0.0/16')],
    nodes: [{ hosts: 'gpu[1-4]', role: 'gpu' as const, frontend: '10.1.0.1' }],
  };

  it('swaps in a changed file, and keeps the previous inventory when the new one is invalid', async () => {
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, stringify(v1));
    const okBefore = await reloads('ok');
    holder = new InventoryHolder(file, createLogger('silent'), 50);
    expect(await reloads('ok')).toBe(okBefore + 1);
    const first = holder.current;
    expect(first.zoneOf('10.2.0.1')).toBe('internet');
    expect(first.endpointOf('10.1.0.4')).toBeUndefined();

    replace(file, stringify(v2));
    await until('the new inventory', () => holder!.current !== first);
    const second = holder.current;
    expect(second.zoneOf('10.2.0.1')).toBe('store');
    expect(second.endpointOf('10.1.0.4')).toStrictEqual({ node: 'gpu4', role: 'gpu', fabric: 'frontend' });
    expect(await reloads('ok')).toBe(okBefore + 2);
    // The old snapshot is untouched: whoever still holds it sees the old inventory whole.
    expect(first.zoneOf('10.2.0.1')).toBe('internet');

    const invalidBefore = await reloads('invalid');
    replace(file, stringify({ zones: [zone('train', '10.1.0.0/16'), zone('train', '10.3.0.0/16')] }));
    await until('the invalid reload', async () => (await reloads('invalid')) > invalidBefore);
    expect(await reloads('invalid')).toBe(invalidBefore + 1);
    expect(holder.current).toBe(second);
    // Reported once, not at every poll.
    await new Promise((r) => setTimeout(r, 200));
    expect(await reloads('invalid')).toBe(invalidBefore + 1);
    expect(holder.current).toBe(second);

    // Not YAML at all: still the previous one.
    replace(file, 'zones: [\n');
    await until('the second invalid reload', async () => (await reloads('invalid')) > invalidBefore + 1);
    expect(holder.current).toBe(second);

    // Fixed again: picked up.
    replace(file, stringify(v1));
    await until('the fixed inventory', () => holder!.current !== second);
    expect(holder.current.zoneOf('10.2.0.1')).toBe('internet');
    expect(await reloads('ok')).toBe(okBefore + 3);
    expect(readFileSync(file, 'utf8')).toBe(stringify(v1));
  });

  it('refuses to start on an invalid file, and reloads on demand', async () => {
    const file = path.join(dir, 'inventory.yaml');
    writeFileSync(file, stringify({ zones: [zone('a', '10.4.7.12/16')] }));
    expect(() => new InventoryHolder(file, createLogger('silent'), 50)).toThrow(InventoryError);
    expect(() => new InventoryHolder(path.join(dir, 'missing.yaml'), createLogger('silent'), 50)).toThrow(InventoryError);

    writeFileSync(file, stringify(v1));
    holder = new InventoryHolder(file, createLogger('silent'), 60_000);
    const first = holder.current;
    writeFileSync(file, stringify(v2));
    holder.reload('test');
    expect(holder.current).not.toBe(first);
    expect(holder.current.zoneOf('10.2.0.1')).toBe('store');
  });
});
