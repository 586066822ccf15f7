/**
 * The simulated cluster's inventory: a rail-optimized GPU training cluster of any size from 8 to 4,096 nodes
 * and 1 to 16 rails, laid out like inventory/example-64-nodes.yaml, which `{ nodes: 64, rails: 8 }` reproduces
 * address for address (test/unit/cluster.test.ts holds them equal). `eastwatch simulate --inventory-out`
 * writes it, so the simulator's flows and eastwatch's enrichment agree on every node and address.
 *
 * Address plan (N GPU nodes, R rails; node groups count up one address per host from the first host's):
 *
 *   training front end   10.30.1.1 + n                 zone training 10.30.0.0/16
 *   rail r               10.200.0.0 + r*B + 1 + n      B = the smallest power of two >= N + 2 (network and
 *                                                      broadcast), at least 256: 10.200.r.0/24 up to 254
 *                                                      nodes, /20 per rail at 2,048; zone 10.200.0.0/16,
 *                                                      or the /15 that 16 rails of 4,096 nodes need
 *   pod network          10.244.0.0/16, fd00:10:244::/48 (16 pod addresses per node even at 4,096 nodes)
 *   inference            10.20.1.1 + n                 zone inference 10.20.0.0/16
 *   storage              10.40.0.11 + n                services.storage: the /24 or larger prefix holding them
 *   fixed (not scaled)   weights 10.50.0.11 (2 vaults), management 10.240.0.x (jump01, 3 control-plane),
 *                        dmz 10.10.0.x (2 proxies, 2 gateways), services 10.245.0.53 (2 DNS)
 *   BMC / management     10.250.0.0/16 in /24 pages: GPUs from 10.250.1.1, inference, storage (.11) and
 *                        vaults (.101), control plane (.11) and proxies (.21), DPUs, then switches (rail
 *                        leaves .1, spines .21, front-end leaves .31) from 10.250.10.0 or the page after the
 *                        DPUs, whichever is later. Each group starts on a fresh page, or shares the page
 *                        of the group before it at the example's last octet when there is room.
 */
import { Document, isMap, isScalar, isSeq, visit } from 'yaml';
import { UserError } from '../core/error-text';
import { compressHostlist } from '../inventory/hostlist';
import type { InventoryFile } from '../inventory/schema';

export interface ClusterOptions {
  /** GPU training nodes, each with a DPU and one back-end NIC per rail. */
  nodes: number;
  rails: number;
  /** Inference (serving) GPU nodes; default nodes/8, at least 2. */
  inference?: number;
  /** Storage nodes; default nodes/8, at least 2. */
  storage?: number;
  /** The inventory's cluster name; default sim-NODES. */
  name?: string;
}

/** The egress destinations the simulated cluster's owners approved: the scenarios' default too. */
export const APPROVED_EGRESS = ['huggingface.co', 'pypi.org', 'files.pythonhosted.org', 'api.wandb.ai', 'github.com'] as const;

export const MIN_NODES = 8;
export const MAX_NODES = 4096;
export const MAX_RAILS = 16;
/** Hosts per front-end leaf; leaves come in (MLAG) pairs. */
const HOSTS_PER_FE_LEAF = 32;
const SPINES = 4;

const ip = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const num = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const log2Ceil = (n: number) => Math.ceil(Math.log2(n));

/** Names prefix + 1..count + suffix, zero-padded to `width` digits (wider when count needs it), as a hostlist. */
function hosts(prefix: string, count: number, width: number, suffix = '', from = 1): string {
  const w = Math.max(width, String(from + count - 1).length);
  return compressHostlist(Array.from({ length: count }, (_, i) => `${prefix}${String(from + i).padStart(w, '0')}${suffix}`));
}

/** Hands out one /16's addresses group after group, in /24 pages (see the address plan above). */
class Pages {
  private next: number;

  constructor(private readonly base: number) {
    this.next = base;
  }

  /** Moves to the start of the next page (unless at one already), and to page `atLeast` or later. */
  page(atLeast = 0): this {
    this.next = Math.max(Math.ceil(this.next / 256) * 256, this.base + atLeast * 256);
    return this;
  }

  /** The first address of `count` hosts, the first from here whose last octet is `octet`. */
  take(count: number, octet: number): string {
    let first = this.next - (this.next % 256) + octet;
    if (first < this.next) first += 256;
    this.next = first + count;
    return ip(first);
  }
}

function checkCount(what: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new UserError(`simulated cluster: ${what} must be a whole number from ${min} to ${max}, not ${v}`);
  }
  return v;
}

/** The inventory of a simulated cluster; throws UserError for options no cluster of this layout can have. */
export function clusterInventory(o: ClusterOptions): InventoryFile {
  const n = checkCount('nodes', o.nodes, MIN_NODES, MAX_NODES);
  const rails = checkCount('rails', o.rails, 1, MAX_RAILS);
  const scaled = Math.max(2, Math.floor(n / 8));
  const inference = checkCount('inference', o.inference ?? scaled, 1, MAX_NODES);
  const storage = checkCount('storage', o.storage ?? scaled, 1, MAX_NODES);
  if (o.name !== undefined && o.name.length > 128) throw new UserError('simulated cluster: the name is longer than 128 characters');

  const railBlock = Math.max(256, 2 ** log2Ceil(n + 2));
  const railFirst = (r: number) => num('10.200.0.0') + r * railBlock;
  const railPrefix = 32 - log2Ceil(railBlock);
  const railsZone = `10.200.0.0/${Math.min(16, 32 - log2Ceil(rails * railBlock))}`;
  const railSubnets = rails === 1 ? `rail ${ip(railFirst(0))}/${railPrefix}`
    : `rails ${ip(railFirst(0))}/${railPrefix} .. ${ip(railFirst(rails - 1))}/${railPrefix}`;

  const storageFirst = num('10.40.0.11');
  const storagePrefix = Math.min(24, 32 - log2Ceil(storageFirst + storage - num('10.40.0.0')));

  // Every front-end host, GPU nodes included (their DPUs export their flows, but they are cabled to a leaf).
  const frontendHosts = n + inference + storage + 2 /* vaults */ + 4 /* control plane, jump */ + 4 /* proxies, gateways */ + 2 /* DNS */;
  const feLeaves = 2 * Math.ceil(frontendHosts / HOSTS_PER_FE_LEAF / 2);

  const bmc = new Pages(num('10.250.0.0'));
  const oob = {
    gpu: bmc.page(1).take(n, 1),
    inference: bmc.page().take(inference, 1),
    storage: bmc.page().take(storage, 11),
    vault: bmc.take(2, 101),
    controlPlane: bmc.page().take(3, 11),
    proxy: bmc.take(2, 21),
    dpu: bmc.page().take(n, 1),
    vaultDpu: bmc.take(2, 101),
    // Switches from page 10 as in the example, which leaves room for the servers of a small cluster.
    railLeaf: bmc.page(10).take(rails, 1),
    spine: bmc.take(SPINES, 21),
    feLeaf: bmc.take(feLeaves, 31),
  };

  const gpu = hosts('gpu', n, 3);
  return {
    cluster: o.name ?? `sim-${n}`,
    zones: [
      { name: 'dmz', cidrs: ['10.10.0.0/24'], description: 'ingress gateways and the egress proxies (north-south choke point)' },
      { name: 'inference', cidrs: ['10.20.0.0/16'], description: 'inference serving, talks to the internet through the gateways' },
      {
        name: 'training',
        cidrs: ['10.30.0.0/16', railsZone, '10.244.0.0/16', 'fd00:10:244::/48'],
        description: `GPU training nodes, front-end and back-end (${railSubnets}), and the pod network of the training Kubernetes cluster`,
      },
      { name: 'cluster-services', cidrs: ['10.96.0.0/12'], description: 'Kubernetes ClusterIP service addresses' },
      { name: 'storage', cidrs: ['10.40.0.0/16'], description: 'parallel file system and object storage' },
      { name: 'weights', cidrs: ['10.50.0.0/24'], description: 'high-value enclave holding model weights and checkpoints' },
      { name: 'services', cidrs: ['10.245.0.0/24'], description: 'DNS and NTP for the cluster' },
      { name: 'management', cidrs: ['10.240.0.0/24'], description: 'control plane (Slurm, Kubernetes API), jump hosts, telemetry' },
      { name: 'bmc', cidrs: ['10.250.0.0/16'], description: 'out-of-band network - BMC/IPMI of every server, switch management ports' },
    ],
    defaultZone: 'internet',
    allow: [
      { from: 'dmz', to: 'inference', protocols: ['tcp'], ports: [443, '8000-8080'], description: 'gateways to model servers' },
      { from: 'dmz', to: 'internet', protocols: ['tcp'], ports: [80, 443], description: 'egress proxies only (see proxies)' },
      { from: 'inference', to: 'weights', protocols: ['tcp'], ports: [443], description: 'load the served model' },
      { from: 'inference', to: 'dmz', protocols: ['tcp'], ports: [3128], description: 'egress through the proxy' },
      { from: 'training', to: 'storage', protocols: ['tcp'], ports: [988, 2049, 443], description: 'Lustre, NFS, S3' },
      { from: 'training', to: 'weights', protocols: ['tcp'], ports: [443], description: 'checkpoints' },
      { from: 'training', to: 'dmz', protocols: ['tcp'], ports: [3128], description: 'egress through the proxy' },
      { from: 'training', to: 'management', protocols: ['tcp'], ports: [6443, '6817-6819'], description: 'Kubernetes API, slurmctld' },
      { from: 'inference', to: 'management', protocols: ['tcp'], ports: [6443] },
      { from: 'storage', to: 'management', protocols: ['tcp'], ports: [6443] },
      { from: 'training', to: 'services', protocols: ['udp', 'tcp'], ports: [53, 123] },
      { from: 'inference', to: 'services', protocols: ['udp', 'tcp'], ports: [53, 123] },
      { from: 'storage', to: 'services', protocols: ['udp', 'tcp'], ports: [53, 123] },
      { from: 'dmz', to: 'services', protocols: ['udp', 'tcp'], ports: [53, 123] },
      { from: 'management', to: 'services', protocols: ['udp', 'tcp'], ports: [53, 123] },
      { from: 'weights', to: 'services', protocols: ['udp', 'tcp'], ports: [53, 123] },
      { from: 'management', to: 'bmc', protocols: ['tcp', 'udp'], ports: [22, 443, 623], description: 'jump hosts to BMCs (SSH, Redfish, IPMI)' },
      { from: 'management', to: 'training', protocols: ['tcp'], ports: [22, 6818, 9100, 9400, 10250], description: 'admin SSH, slurmd, Prometheus (node exporter, DCGM), kubelet' },
      { from: 'management', to: 'inference', protocols: ['tcp'], ports: [22, 9100, 9400, 10250] },
      { from: 'management', to: 'storage', protocols: ['tcp'], ports: [22, 9100, 10250] },
    ],
    nodes: [
      {
        hosts: gpu,
        role: 'gpu',
        frontend: '10.30.1.1',
        backend: Array.from({ length: rails }, (_, r) => ip(railFirst(r) + 1)),
        oob: oob.gpu,
      },
      { hosts: hosts('gpu', n, 3, '-dpu'), role: 'dpu', oob: oob.dpu },
      { hosts: hosts('inf', inference, 2), role: 'gpu', frontend: '10.20.1.1', oob: oob.inference },
      { hosts: hosts('stor', storage, 2), role: 'storage', frontend: ip(storageFirst), oob: oob.storage },
      { hosts: hosts('vault', 2, 2), role: 'storage', frontend: '10.50.0.11', oob: oob.vault },
      { hosts: hosts('vault', 2, 2, '-dpu'), role: 'dpu', oob: oob.vaultDpu },
      { hosts: hosts('cp', 3, 2), role: 'control-plane', frontend: '10.240.0.11', oob: oob.controlPlane },
      { hosts: 'jump01', role: 'control-plane', frontend: '10.240.0.5' },
      { hosts: hosts('proxy', 2, 2), role: 'proxy', frontend: '10.10.0.10', oob: oob.proxy },
      { hosts: hosts('gw', 2, 2), role: 'service', frontend: '10.10.0.20' },
      { hosts: hosts('dns', 2, 2), role: 'service', frontend: '10.245.0.53' },
      // Rail leaf r serves rail r, so its name carries the rail number unpadded, from 0.
      { hosts: hosts('rail-leaf', rails, 1, '', 0), role: 'switch', oob: oob.railLeaf },
      { hosts: hosts('spine', SPINES, 2), role: 'switch', oob: oob.spine },
      { hosts: hosts('fe-leaf', feLeaves, 2), role: 'switch', oob: oob.feLeaf },
    ],
    proxies: ['10.10.0.10', '10.10.0.11'],
    services: {
      dns: ['10.245.0.53', '10.245.0.54'],
      storage: [`10.40.0.0/${storagePrefix}`, '10.50.0.0/24'],
      monitoring: ['10.240.0.13'],
      controlPlane: ['10.240.0.0/24'],
    },
    sensitiveZones: ['weights'],
    egress: { approved: [{ zones: ['training', 'inference'], destinations: [...APPROVED_EGRESS], description: 'model hub, package index, experiment tracking, source' }] },
  };
}

/**
 * The inventory as YAML laid out like the example (short lists and allow rules on one line, a blank line
 * between sections), under a header saying it was generated; `comment` (e.g. the command line) joins the header.
 */
export function inventoryYaml(spec: InventoryFile, comment?: string): string {
  const doc = new Document(spec);
  const header = ['Generated by `eastwatch simulate --inventory-out` (simulator/cluster.ts): generate it again rather than edit it.'];
  if (comment !== undefined) header.push(...comment.split('\n'));
  header.push('Check it with `eastwatch inventory check FILE`.');
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  visit(doc, {
    Seq(_, seq) {
      if (seq.items.every(isScalar)) seq.flow = true;
    },
  });
  const allow = doc.get('allow');
  if (isSeq(allow)) for (const rule of allow.items) if (isMap(rule)) rule.flow = true;
  if (isMap(doc.contents)) for (const pair of doc.contents.items.slice(1)) if (isScalar(pair.key)) pair.key.spaceBefore = true;
  return doc.toString({ lineWidth: 0 });
}
