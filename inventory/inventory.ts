/**
 * The built inventory: an immutable snapshot answering, for any address, which zone it is in and which node,
 * fabric and rail own it, and whether traffic between two zones is allowed. Built completely before anyone
 * sees it (inventory/holder.ts swaps snapshots whole), so a flow is never judged by half an inventory.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { expandHostlist } from './hostlist';
import { PrefixTrie } from './prefix-trie';
import { UserError } from '../core/error-text';
import type { InventoryAddress } from '../core/records';
import { AllowRule, Fabric, InventorySpec, PROTOCOLS, Role } from './schema';

/** Who owns an address. */
export interface Endpoint {
  node: string;
  role: Role;
  fabric: Fabric;
  rail?: number;
}

export class InventoryError extends UserError {
  constructor(readonly problems: string[]) {
    super(`invalid inventory:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

interface ApprovedEgress {
  hosts: Set<string>;
  /** ".example.com" for "*.example.com": any subdomain, not the domain itself. */
  domains: string[];
  cidrs: PrefixTrie<true>;
}

interface Rule {
  protocols?: Set<number>;
  ports?: [number, number][];
}

/** The address `n` steps after `first`, in the same family; undefined past the end of the address space. */
function addressPlus(first: string, n: number): string | undefined {
  const bytes = ipaddr.parse(first).toByteArray();
  let carry = BigInt(n);
  for (let i = bytes.length - 1; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(bytes[i]!) + carry;
    bytes[i] = Number(sum & 0xffn);
    carry = sum >> 8n;
  }
  return carry > 0n ? undefined : ipaddr.fromByteArray(bytes).toString();
}

export class Inventory {
  private readonly zones = new PrefixTrie<string>();
  private readonly endpoints = new PrefixTrie<Endpoint>();
  private readonly proxyTrie = new PrefixTrie<true>();
  private readonly serviceTrie = new PrefixTrie<string>();
  private readonly approved = new Map<string, ApprovedEgress>();
  /** Zones where any new destination is an alert (new-destination). */
  readonly sensitiveZones: Set<string>;
  private readonly rules = new Map<string, Rule[]>();
  readonly zoneNames: Set<string>;
  readonly nodes = new Map<string, Role>();
  readonly defaultZone: string;

  private constructor(spec: InventorySpec) {
    this.defaultZone = spec.defaultZone;
    this.zoneNames = new Set([spec.defaultZone]);
    this.sensitiveZones = new Set(spec.sensitiveZones);
  }

  /** Builds the snapshot, or throws InventoryError listing every problem found. */
  static build(spec: InventorySpec): Inventory {
    const inv = new Inventory(spec);
    const problems: string[] = [];
    const attempt = (where: string, f: () => void) => {
      try {
        f();
      } catch (e) {
        problems.push(`${where}: ${(e as Error).message}`);
      }
    };
    const cidrZone = new Map<string, string>();
    spec.zones.forEach((z, i) => {
      if (inv.zoneNames.has(z.name)) problems.push(`zones.${i}.name: zone "${z.name}" is defined twice (or is the default zone)`);
      inv.zoneNames.add(z.name);
      z.cidrs.forEach((c, j) => attempt(`zones.${i}.cidrs.${j}`, () => {
        const canonical = new PrefixTrie<true>().insert(c, true).entries().next().value!.prefix;
        const other = cidrZone.get(canonical);
        if (other && other !== z.name) throw new Error(`${c} is already in zone "${other}"`);
        cidrZone.set(canonical, z.name);
        inv.zones.insert(c, z.name);
      }));
    });
    spec.allow.forEach((r, i) => {
      for (const side of ['from', 'to'] as const) {
        if (!inv.zoneNames.has(r[side])) problems.push(`allow.${i}.${side}: unknown zone "${r[side]}"`);
      }
      attempt(`allow.${i}.ports`, () => inv.addRule(r));
    });
    const owner = new Map<string, string>();
    spec.nodes.forEach((g, i) => attempt(`nodes.${i}`, () => {
      const hosts = expandHostlist(g.hosts);
      hosts.forEach((node, k) => {
        if (inv.nodes.has(node)) throw new Error(`node ${node} is listed twice`);
        inv.nodes.set(node, g.role);
        const add = (first: string | undefined, fabric: Fabric, rail?: number) => {
          if (first === undefined) return;
          const addr = addressPlus(first, k * g.step);
          if (addr === undefined) throw new Error(`${fabric} address of ${node} runs past the end of the address space`);
          const before = owner.get(addr);
          if (before) throw new Error(`${addr} (${fabric} of ${node}) already belongs to ${before}`);
          owner.set(addr, node);
          inv.endpoints.insert(addr, { node, role: g.role, fabric, ...(rail !== undefined ? { rail } : {}) });
        };
        add(g.frontend, 'frontend');
        g.backend?.forEach((a, rail) => add(a, 'backend', rail));
        add(g.oob, 'oob');
      });
    }));
    spec.proxies.forEach((p, i) => attempt(`proxies.${i}`, () => inv.proxyTrie.insert(p, true)));
    const services = { dns: spec.services.dns, storage: spec.services.storage, monitoring: spec.services.monitoring, 'control-plane': spec.services.controlPlane };
    for (const [kind, list] of Object.entries(services)) {
      list.forEach((c, i) => attempt(`services.${kind === 'control-plane' ? 'controlPlane' : kind}.${i}`, () => inv.serviceTrie.insert(c, kind)));
    }
    spec.sensitiveZones.forEach((z, i) => {
      if (!inv.zoneNames.has(z)) problems.push(`sensitiveZones.${i}: unknown zone "${z}"`);
    });
    spec.egress.approved.forEach((a, i) => {
      a.zones.forEach((z, j) => {
        if (!inv.zoneNames.has(z)) problems.push(`egress.approved.${i}.zones.${j}: unknown zone "${z}"`);
      });
      a.destinations.forEach((d, j) => attempt(`egress.approved.${i}.destinations.${j}`, () => {
        for (const z of a.zones) {
          let entry = inv.approved.get(z);
          if (!entry) inv.approved.set(z, (entry = { hosts: new Set(), domains: [], cidrs: new PrefixTrie<true>() }));
          if (isIP(d) !== 0 || d.includes('/')) entry.cidrs.insert(d, true);
          else if (d.startsWith('*.')) entry.domains.push(d.slice(1).toLowerCase());
          else entry.hosts.add(d.toLowerCase());
        }
      }));
    });
    if (problems.length > 0) throw new InventoryError(problems);
    // The tries index lazily on the first lookup: do it now, before the snapshot is shared.
    for (const trie of [inv.zones, inv.endpoints, inv.proxyTrie, inv.serviceTrie, ...[...inv.approved.values()].map((a) => a.cidrs)]) trie.lookup('0.0.0.0');
    return inv;
  }

  private addRule(r: AllowRule): void {
    const ports = r.ports?.map((p): [number, number] => {
      if (typeof p === 'number') return [p, p];
      const [a, b] = p.split('-').map(Number) as [number, number];
      if (a > b || b > 65535) throw new Error(`bad port range "${p}"`);
      return [a, b];
    });
    const key = `${r.from}\u0000${r.to}`;
    const list = this.rules.get(key) ?? [];
    list.push({
      ...(r.protocols ? { protocols: new Set(r.protocols.map((p) => PROTOCOLS[p])) } : {}),
      ...(ports ? { ports } : {}),
    });
    this.rules.set(key, list);
  }

  /** Zone of an address: the longest zone CIDR containing it, else the default zone. */
  zoneOf(addr: string): string {
    return this.zones.lookup(addr) ?? this.defaultZone;
  }

  endpointOf(addr: string): Endpoint | undefined {
    return this.endpoints.lookup(addr);
  }

  isProxy(addr: string): boolean {
    return this.proxyTrie.lookup(addr) === true;
  }

  /** The shared service an address belongs to: dns, storage, monitoring, control-plane, or proxy. */
  serviceOf(addr: string): string | undefined {
    return this.isProxy(addr) ? 'proxy' : this.serviceTrie.lookup(addr);
  }

  /** Whether egress from `zone` to `destination` (a host name the proxy was asked for, or an address) is approved. */
  approvedEgress(zone: string, destination: string): boolean {
    const a = this.approved.get(zone);
    if (!a) return false;
    if (isIP(destination) !== 0) return a.cidrs.lookup(destination) === true;
    const host = destination.toLowerCase().replace(/\.$/, '');
    return a.hosts.has(host) || a.domains.some((d) => host.endsWith(d));
  }

  /** Traffic inside a zone is allowed; between zones only what an allow rule lists (default deny). */
  allows(from: string, to: string, protocol: number, dstPort: number): boolean {
    if (from === to) return true;
    const rules = this.rules.get(`${from}\u0000${to}`);
    return rules?.some((r) => (!r.protocols || r.protocols.has(protocol))
      && (!r.ports || r.ports.some(([a, b]) => dstPort >= a && dstPort <= b))) ?? false;
  }

  /** Every node address with its owner and zone: the inventory_addresses table. */
  addresses(updatedAt: number): InventoryAddress[] {
    return [...this.endpoints.entries()].map((e) => {
      const address = e.prefix.replace(/\/\d+$/, '');
      return {
        address, node: e.value.node, role: e.value.role, fabric: e.value.fabric,
        ...(e.value.rail !== undefined ? { rail: e.value.rail } : {}),
        zone: this.zoneOf(address), updated_at: updatedAt,
      };
    });
  }
}
