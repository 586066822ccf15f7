/**
 * Who is who in the simulated cluster, read from the inventory (as ingest/synthetic.ts did). An Inventory keeps
 * nodes, roles, addresses, zone verdicts and proxies, so the rest is recognised by role, by name and by what the
 * allow list lets through, which also keeps normal traffic allowed traffic:
 *
 * - training: gpu nodes with back-end rails (each needs a front-end and an oob address); inference: gpu nodes
 *   without rails; weights enclave: storage nodes training may not reach on Lustre (988) or NFS (2049) but may
 *   reach, or inference may, on 443; storage: the other storage nodes training reaches on 988, 2049 or 443;
 *   DNS: service nodes training reaches on udp/53; gateways: the other service nodes whose zone reaches the
 *   inference nodes on tcp/8000; proxies: nodes whose front end the inventory lists as a proxy; control plane:
 *   control-plane nodes, `jump*` being the jump hosts, the first of the rest running slurmctld, every one the
 *   Kubernetes API, the last one Prometheus.
 * - How a flow reaches eastwatch (its `via`): a node has a DPU when a dpu node named `NAME-dpu` exists, and the
 *   DPU exports what the node sends ('dpu', exporter = the node). Without one, the leaf switch samples it
 *   ('switch'): back-end rail r on the switch whose name ends in rail-leaf r (`rail-leaf3`); the front end on a
 *   front-end leaf (switches named `*leaf*` but not `*rail*`), the front-end hosts taken in inventory order and
 *   cabled to the leaves in equal consecutive blocks.
 */
import type { Inventory } from '../../inventory/inventory';
import { PROTOCOLS, type Role } from '../../inventory/schema';
import { ScenarioError } from '../scenario';

export interface Route {
  via: 'dpu' | 'switch';
  exporter: string;
}

export interface Host {
  name: string;
  role: Role;
  frontend?: string;
  oob?: string;
  /** Back-end addresses, index = rail. */
  rails: string[];
  dpu: boolean;
  /** The path of the flows it sends on the front end (hosts with a front-end address). */
  route?: Route;
}

/** A host with a front end (every host that sends anything). */
export type FrontHost = Host & { frontend: string; route: Route };
export type TrainingHost = FrontHost & { oob: string };

const { tcp, udp } = PROTOCOLS;

export class ClusterView {
  readonly hosts: Host[];
  readonly byName: Map<string, Host>;
  readonly training: TrainingHost[];
  /** Rails every training node has. */
  readonly rails: number;
  readonly inference: FrontHost[];
  readonly storage: FrontHost[];
  readonly weights: FrontHost[];
  readonly dns: FrontHost[];
  readonly gateways: FrontHost[];
  readonly proxies: FrontHost[];
  readonly controlPlane: FrontHost[];
  readonly jump: FrontHost[];
  private readonly railLeaves = new Map<number, string>();

  constructor(readonly inventory: Inventory) {
    const hosts = new Map([...inventory.nodes].map(([name, role]): [string, Host] => [name, { name, role, rails: [], dpu: false }]));
    for (const a of inventory.addresses(0)) {
      const h = hosts.get(a.node)!;
      if (a.fabric === 'backend') h.rails[a.rail!] = a.address;
      else if (a.fabric === 'frontend') h.frontend = a.address;
      else h.oob = a.address;
    }
    this.hosts = [...hosts.values()];
    this.byName = hosts;
    const problems: string[] = [];

    const switches = this.hosts.filter((h) => h.role === 'switch').map((h) => h.name);
    for (const s of switches) {
      const m = /rail\D*(\d+)$/.exec(s);
      if (m) this.railLeaves.set(Number(m[1]), s);
    }
    const feLeaves = switches.filter((s) => s.includes('leaf') && !s.includes('rail'));
    const front = this.hosts.filter((h) => h.frontend !== undefined);
    for (const h of this.hosts) h.dpu = hosts.get(`${h.name}-dpu`)?.role === 'dpu';
    front.forEach((h, i) => {
      if (h.dpu) h.route = { via: 'dpu', exporter: h.name };
      else if (feLeaves.length > 0) h.route = { via: 'switch', exporter: feLeaves[Math.floor((i * feLeaves.length) / front.length)]! };
    });
    const unrouted = front.filter((h) => !h.route).map((h) => h.name);
    if (unrouted.length > 0) problems.push(`cluster: no DPU and no front-end leaf switch (a switch named *leaf*, not *rail*) exports the flows of ${unrouted.slice(0, 5).join(', ')}${unrouted.length > 5 ? ` and ${unrouted.length - 5} more` : ''}`);

    const fronts = front as FrontHost[];
    const gpus = fronts.filter((h) => h.role === 'gpu');
    const railed = this.hosts.filter((h) => h.role === 'gpu' && h.rails.length > 0);
    const incomplete = railed.filter((h) => !h.frontend || !h.oob).map((h) => h.name);
    if (incomplete.length > 0) problems.push(`cluster: GPU nodes with rails but no front-end or oob address: ${incomplete.slice(0, 5).join(', ')}`);
    this.training = railed.filter((h) => h.frontend && h.oob) as TrainingHost[];
    if (this.training.length === 0) problems.push('cluster: no training nodes (gpu nodes with back-end rails)');
    this.rails = this.training.reduce((n, h) => Math.min(n, h.rails.length), Infinity);
    const noLeaf = this.training.filter((h) => !h.dpu).flatMap((h) => h.rails.flatMap((_, r) => (this.railLeaves.has(r) ? [] : [r])));
    if (noLeaf.length > 0) problems.push(`cluster: rail ${noLeaf[0]} has no rail leaf switch (named rail-leaf${noLeaf[0]}) to sample the nodes without a DPU`);
    this.inference = gpus.filter((h) => h.rails.length === 0);

    const trainingZones = [...new Set(this.training.map((h) => inventory.zoneOf(h.frontend)))];
    const fromTraining = (h: FrontHost, protocol: number, port: number) =>
      trainingZones.length > 0 && trainingZones.every((z) => inventory.allows(z, inventory.zoneOf(h.frontend), protocol, port));
    const fromInference = (h: FrontHost, protocol: number, port: number) =>
      this.inference.some((i) => this.allows(i.frontend, h.frontend, protocol, port));
    const storageRole = fronts.filter((h) => h.role === 'storage');
    this.weights = storageRole.filter((h) => !fromTraining(h, tcp, 988) && !fromTraining(h, tcp, 2049)
      && (fromTraining(h, tcp, 443) || fromInference(h, tcp, 443)));
    this.storage = storageRole.filter((h) => !this.weights.includes(h) && [988, 2049, 443].some((p) => fromTraining(h, tcp, p)));
    const services = fronts.filter((h) => h.role === 'service');
    this.dns = services.filter((h) => fromTraining(h, udp, 53));
    this.gateways = services.filter((h) => !this.dns.includes(h) && this.inference.some((i) => this.allows(h.frontend, i.frontend, tcp, 8000)));
    this.proxies = fronts.filter((h) => inventory.isProxy(h.frontend));
    const cp = fronts.filter((h) => h.role === 'control-plane');
    this.jump = cp.filter((h) => h.name.startsWith('jump'));
    this.controlPlane = cp.filter((h) => !h.name.startsWith('jump'));
    if (problems.length > 0) throw new ScenarioError(problems);
  }

  /** The back end is sampled on the rail's leaf unless the node's DPU exports it. */
  backendRoute(h: Host, rail: number): Route {
    return h.dpu ? { via: 'dpu', exporter: h.name } : { via: 'switch', exporter: this.railLeaves.get(rail)! };
  }

  allows(src: string, dst: string, protocol: number, port: number): boolean {
    const inv = this.inventory;
    return inv.allows(inv.zoneOf(src), inv.zoneOf(dst), protocol, port);
  }
}

/** The IPv4 address `n` after the network address of `cidr` (the caller keeps n inside it). */
export function addressIn(cidr: string, n: number): string {
  const [net, len] = cidr.split('/') as [string, string];
  const base = net.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(len));
  const v = base - (base % size) + n;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** Addresses a CIDR holds. */
export const cidrSize = (cidr: string): number => 2 ** (32 - Number(cidr.split('/')[1]));
