/**
 * The inference tier: model-server pods (a Kubernetes Deployment) on the inference nodes, with pod addresses
 * from `inference.podCidr`, placed round-robin. Its load follows the clock: a daily cosine between `trough` and
 * 1 peaking at `peakHour` UTC, times `weekend` on Saturdays and Sundays.
 *
 * - Every gateway keeps a connection to every pod (:8000), a record each export interval carrying the
 *   requests, whose bytes follow the load;
 * - new client connections from the gateways arrive at `peakConnectionsPerSecond` times the load: Hubble sees
 *   each (a FORWARDED flow into the pod) and the gateway's leaf samples it;
 * - pods call out through the egress proxy to approved hosts at `peakEgressPerSecond` times the load, seen by
 *   Hubble and by their node's leaf;
 * - each pod reloads its model from the weights enclave (:443) every 6 hours, at its own phase.
 */
import type { PodEndpoint, SimEvent } from '../events';
import type { Scenario } from '../scenario';
import { FLAGS, flowEvent, type FlowPath, TCP } from './flows';
import { addressIn, cidrSize, type FrontHost } from './hosts';
import { hash32, Rng } from './random';
import { type Phased, Ticker } from './ticker';
import type { World } from './world';

const SERVE_PORT = 8000;
/** Request bytes a gateway sends a pod per ms at the peak. */
const SERVE_BYTES_PER_MS = 50;
const RELOAD_MS = 6 * 3_600_000;
const DAY_MS = 86_400_000;

interface Pod {
  ip: string;
  node: FrontHost;
  endpoint: PodEndpoint;
  /** Hubble on its node, and the switch (or DPU) that sees its node. */
  paths: FlowPath[];
}

interface Connection extends Phased {
  gateway: FrontHost;
  pod: Pod;
  srcPort: number;
}

interface Reload extends Phased {
  pod: Pod;
  vault: FrontHost;
}

/** The tier's load at t, as a fraction of the weekday peak. */
export function tierLoad(t: number, c: Scenario['inference']): number {
  const hour = ((t % DAY_MS) + DAY_MS) % DAY_MS / 3_600_000;
  const daily = c.trough + (1 - c.trough) * (1 + Math.cos((2 * Math.PI * (hour - c.peakHour)) / 24)) / 2;
  const weekday = (Math.floor(t / DAY_MS) + 4) % 7; // 1970-01-01 was a Thursday; 0 is Sunday
  return daily * (weekday === 0 || weekday === 6 ? c.weekend : 1);
}

export class InferenceTraffic {
  private readonly pods: Pod[];
  private readonly gateways: FrontHost[];
  private readonly connections: Ticker<Connection>;
  private readonly reloads: Ticker<Reload>;

  constructor(private readonly w: World, private readonly c: Scenario['inference'], problems: string[], notes: string[]) {
    const { seed, view } = w;
    const nodes = view.inference;
    const count = nodes.length === 0 ? 0 : c.pods;
    if (c.pods > 0 && nodes.length === 0) notes.push('inference: the inventory has no inference nodes (gpu nodes without rails): no inference tier');
    if (count + 2 > cidrSize(c.podCidr)) problems.push(`inference.podCidr: ${c.podCidr} is too small for ${count} pods`);
    const template = `llm-serve-${(hash32(seed, 'replicaset') % 0xfffffff).toString(36)}`;
    this.pods = Array.from({ length: count }, (_, i): Pod => {
      const node = nodes[i % nodes.length]!;
      const ip = addressIn(c.podCidr, i + 2);
      const pod = `${template}-${(hash32(seed, 'pod', i) % 60_466_176).toString(36).padStart(5, '0')}`;
      const endpoint = { namespace: 'inference', pod, node: node.name, labels: { app: 'llm-serve' }, workload: { name: 'llm-serve', kind: 'Deployment' } };
      return { ip, node, endpoint, paths: [{ via: 'hubble', hubble: { src: endpoint, verdict: 'FORWARDED', node: node.name } }, node.route] };
    });
    const inv = view.inventory;
    const stray = this.pods.find((p) => inv.zoneOf(p.ip) !== inv.zoneOf(p.node.frontend));
    if (stray) problems.push(`inference.podCidr: pod address ${stray.ip} is in zone ${inv.zoneOf(stray.ip)}, not in its node's zone ${inv.zoneOf(stray.node.frontend)}`);
    const allowed = (src: string, dst: string, port: number) => view.allows(src, dst, TCP, port);
    this.gateways = view.gateways.filter((g) => this.pods.length > 0 && allowed(g.frontend, this.pods[0]!.ip, SERVE_PORT));
    if (this.pods.length > 0 && this.gateways.length === 0) notes.push('inference: no gateway may reach the pods on tcp/8000: no client traffic');
    this.connections = new Ticker(this.gateways.flatMap((gateway) => this.pods.map((pod, i) => ({
      phase: hash32(seed, 'serve', gateway.name, i) % w.exportInterval, gateway, pod, srcPort: 32768 + (hash32(seed, 'serve-port', gateway.name, i) % 28000),
    }))), w.exportInterval);
    const vaults = view.weights;
    const reloads = vaults.length === 0 ? [] : this.pods.map((pod, i) => ({ phase: hash32(seed, 'reload', i) % RELOAD_MS, pod, vault: vaults[i % vaults.length]! }))
      .filter((r) => allowed(r.pod.ip, r.vault.frontend, 443));
    this.reloads = new Ticker(reloads, RELOAD_MS);
  }

  slot(from: number, to: number, out: SimEvent[]): void {
    if (this.pods.length === 0) return;
    const { seed, exportInterval: E, rate, egress } = this.w;
    const rng = new Rng(seed, 'inference', from);
    const load = tierLoad((from + to) / 2, this.c);
    this.connections.fires(from, to, (k, t) => out.push(flowEvent({
      start: t - E, end: t, src: k.gateway.frontend, dst: k.pod.ip, srcPort: k.srcPort, dstPort: SERVE_PORT, protocol: TCP,
      bytes: rng.jitter(SERVE_BYTES_PER_MS * load * E, 0.3), packetSize: 800, tcpFlags: FLAGS.established,
    }, k.gateway.route)));
    this.reloads.fires(from, to, (r, t) => {
      const f = { start: t - 120_000, end: t, src: r.pod.ip, dst: r.vault.frontend, srcPort: rng.ephemeral(), dstPort: 443, protocol: TCP, bytes: rng.jitter(3e6), packetSize: 300 };
      for (const path of r.pod.paths) out.push(flowEvent(f, path));
    });
    const seconds = (to - from) / 1000;
    if (this.gateways.length > 0) {
      for (let i = rng.poisson(this.c.peakConnectionsPerSecond * load * rate * seconds); i > 0; i--) {
        const gateway = rng.pick(this.gateways);
        const pod = rng.pick(this.pods);
        const end = from + rng.int(to - from);
        const f = { start: end - rng.between(500, 30_000), end, src: gateway.frontend, dst: pod.ip, srcPort: rng.ephemeral(), dstPort: SERVE_PORT, protocol: TCP, bytes: rng.between(2_000, 200_000), packetSize: 800 };
        out.push(flowEvent(f, { via: 'hubble', hubble: { dst: pod.endpoint, verdict: 'FORWARDED', node: pod.node.name } }));
        out.push(flowEvent(f, gateway.route));
      }
    }
    for (let i = rng.poisson(this.c.peakEgressPerSecond * load * rate * seconds); i > 0; i--) {
      const pod = rng.pick(this.pods);
      const end = from + rng.int(to - from);
      egress.request({
        client: pod.ip, paths: pod.paths, host: rng.pick(egress.approved), start: end - rng.between(200, 5_000), end,
        up: rng.between(1_000, 30_000), down: rng.between(2_000, 500_000), method: 'CONNECT',
      }, rng, out);
    }
  }
}
