/**
 * What every cluster does besides its jobs, each kind only between hosts the allow list lets talk (a kind it
 * forbids somewhere is left out there and named in the model's notes, so normal traffic never looks like an
 * attack):
 *
 * - DNS: every host to one of the DNS servers, udp/53, `rates.dnsPerNode` queries a second; NTP to the same
 *   servers, udp/123, every 1024 s (chrony's longest poll);
 * - monitoring: Prometheus (the last control-plane node) keeps connections to every node exporter (:9100) and
 *   the GPU nodes' DCGM exporters (:9400), one record an export interval; it polls every BMC's Redfish (:443)
 *   every 5 minutes;
 * - control plane: each host's kubelet keeps a connection to an API server (:6443) and an API server one to
 *   the kubelet (:10250); slurmctld pings every training node's slurmd (:6818) every 100 s;
 * - administrators' SSH sessions from the jump host, `rates.adminSshPerHour`.
 *
 * Periods are divided by the rate option, so it scales these records too.
 */
import type { SimEvent } from '../events';
import type { Scenario } from '../scenario';
import { FLAGS, flowEvent, type FlowPath, TCP, UDP } from './flows';
import type { FrontHost } from './hosts';
import { hash32, Rng } from './random';
import { type Phased, Ticker } from './ticker';
import type { World } from './world';

interface Periodic extends Phased {
  src: string;
  dst: string;
  dstPort: number;
  protocol: number;
  /** Bytes per ms for a long-lived connection, bytes per flow for a short one. */
  bytes: number;
  packetSize: number;
  path: FlowPath;
  /** A long-lived connection (fixed source port), or a short exchange (a new port each time). */
  srcPort?: number;
}

const NTP_MS = 1024_000;
const BMC_POLL_MS = 300_000;
const SLURM_PING_MS = 100_000;
const SHORT_MS = 40;

export class InfraTraffic {
  /** Long-lived connections, one record each export interval. */
  private readonly connections: Ticker<Periodic>;
  /** Short periodic exchanges. */
  private readonly exchanges: Ticker<Periodic>[];
  private readonly resolvers: { host: FrontHost; dns: FrontHost }[];
  private readonly sshTargets: FrontHost[];

  constructor(private readonly w: World, private readonly rates: Scenario['rates'], notes: string[]) {
    const { seed, view, exportInterval: E, rate } = w;
    const everyone = view.hosts.filter((h): h is FrontHost => h.route !== undefined);
    const denied = new Map<string, Set<string>>();
    const pairs = (kind: string, srcs: readonly FrontHost[], dsts: (src: FrontHost) => readonly FrontHost[], protocol: number, port: number) =>
      srcs.flatMap((src) => dsts(src).filter((dst) => {
        if (src === dst) return false;
        if (view.allows(src.frontend, dst.frontend, protocol, port)) return true;
        const zones = `${view.inventory.zoneOf(src.frontend)} -> ${view.inventory.zoneOf(dst.frontend)} ${protocol === TCP ? 'tcp' : 'udp'}/${port}`;
        denied.set(kind, (denied.get(kind) ?? new Set()).add(zones));
        return false;
      }).map((dst) => ({ src, dst })));
    const periodic = (kind: string, period: number, list: { src: FrontHost; dst: FrontHost }[], p: Omit<Periodic, 'phase' | 'src' | 'dst' | 'path'>, dstAddr = (d: FrontHost) => d.frontend) =>
      list.map(({ src, dst }): Periodic => ({ ...p, phase: hash32(seed, kind, src.name, dst.name, p.dstPort) % period, src: src.frontend, dst: dstAddr(dst), path: src.route }));
    const pick = <T>(xs: readonly T[], key: string) => xs[hash32(seed, key) % xs.length]!;
    const cp = view.controlPlane;
    const prometheus = cp.at(-1);
    const kubelets = [...view.training, ...view.inference, ...view.storage, ...view.weights];

    const long = (kind: string, list: { src: FrontHost; dst: FrontHost }[], dstPort: number, bytesPerMs: number) =>
      periodic(kind, E, list, { dstPort, protocol: TCP, bytes: bytesPerMs, packetSize: 300 }).map((c, i) => ({ ...c, srcPort: 32768 + (hash32(seed, kind, i) % 28000) }));
    this.connections = new Ticker([
      ...long('kubelet', pairs('kubelet', kubelets, (h) => (cp.length ? [pick(cp, h.name)] : []), TCP, 6443), 6443, 0.5),
      ...long('kubelet-api', pairs('kubelet-api', cp, () => kubelets, TCP, 10250).filter(({ src, dst }) => pick(cp, dst.name) === src), 10250, 0.2),
      ...(prometheus ? long('node-exporter', pairs('node-exporter', [prometheus], () => everyone, TCP, 9100), 9100, 0.02) : []),
      ...(prometheus ? long('dcgm-exporter', pairs('dcgm-exporter', [prometheus], () => everyone.filter((h) => h.role === 'gpu'), TCP, 9400), 9400, 0.02) : []),
    ], E);

    const withOob = view.hosts.filter((h) => h.oob !== undefined && h.role !== 'switch');
    const bmcAllowed = prometheus !== undefined && withOob.length > 0 && view.allows(prometheus.frontend, withOob[0]!.oob!, TCP, 443);
    if (prometheus && withOob.length > 0 && !bmcAllowed) denied.set('bmc-poll', new Set([`${view.inventory.zoneOf(prometheus.frontend)} -> ${view.inventory.zoneOf(withOob[0]!.oob!)} tcp/443`]));
    // Whole milliseconds, so every time the model makes is an integer.
    const [ntpMs, slurmMs, bmcMs] = [NTP_MS, SLURM_PING_MS, BMC_POLL_MS].map((p) => Math.max(1, Math.round(p / rate))) as [number, number, number];
    const ntp = pairs('ntp', everyone, (h) => (view.dns.length ? [pick(view.dns, `ntp${h.name}`)] : []), UDP, 123);
    const slurmd = cp.length ? pairs('slurmd', [cp[0]!], () => view.training, TCP, 6818) : [];
    this.exchanges = [
      new Ticker(periodic('ntp', ntpMs, ntp, { dstPort: 123, protocol: UDP, bytes: 90, packetSize: 90 }), ntpMs),
      new Ticker(periodic('slurmd', slurmMs, slurmd, { dstPort: 6818, protocol: TCP, bytes: 900, packetSize: 150 }), slurmMs),
      new Ticker(bmcAllowed ? withOob.map((h): Periodic => ({
        phase: hash32(seed, 'bmc', h.name) % bmcMs, src: prometheus.frontend, dst: h.oob!, dstPort: 443, protocol: TCP,
        bytes: 6000, packetSize: 600, path: prometheus.route,
      })) : [], bmcMs),
    ];
    this.resolvers = pairs('dns', everyone, (h) => (view.dns.length ? [pick(view.dns, `dns${h.name}`)] : []), UDP, 53).map(({ src, dst }) => ({ host: src, dns: dst }));
    const jump = view.jump[0];
    this.sshTargets = jump ? pairs('admin-ssh', [jump], () => kubelets, TCP, 22).map(({ dst }) => dst) : [];
    for (const [kind, zones] of denied) notes.push(`${kind}: not generated where the inventory does not allow it (${[...zones].join(', ')})`);
  }

  slot(from: number, to: number, out: SimEvent[]): void {
    const { seed, exportInterval: E, rate } = this.w;
    const rng = new Rng(seed, 'infra', from);
    this.connections.fires(from, to, (c, t) => out.push(flowEvent({
      start: t - E, end: t, src: c.src, dst: c.dst, srcPort: c.srcPort!, dstPort: c.dstPort, protocol: c.protocol,
      bytes: rng.jitter(c.bytes * E, 0.3), packetSize: c.packetSize, tcpFlags: FLAGS.established,
    }, c.path)));
    for (const ticker of this.exchanges) {
      ticker.fires(from, to, (c, t) => out.push(flowEvent({
        start: t - SHORT_MS, end: t, src: c.src, dst: c.dst, srcPort: rng.ephemeral(), dstPort: c.dstPort, protocol: c.protocol,
        bytes: c.bytes, packetSize: c.packetSize,
      }, c.path)));
    }
    const dnsPerSlot = this.rates.dnsPerNode * rate * ((to - from) / 1000);
    for (const { host, dns } of this.resolvers) {
      for (let i = rng.poisson(dnsPerSlot); i > 0; i--) {
        const end = from + rng.int(to - from);
        out.push(flowEvent({
          start: end - 1, end, src: host.frontend, dst: dns.frontend, srcPort: rng.ephemeral(), dstPort: 53, protocol: UDP,
          bytes: rng.between(60, 90), packetSize: 90,
        }, host.route));
      }
    }
    const jump = this.w.view.jump[0];
    if (jump && this.sshTargets.length > 0) {
      for (let i = rng.poisson((this.rates.adminSshPerHour / 3_600_000) * rate * (to - from)); i > 0; i--) {
        const end = from + rng.int(to - from);
        out.push(flowEvent({
          start: end - rng.between(5_000, 55_000), end, src: jump.frontend, dst: rng.pick(this.sshTargets).frontend, srcPort: rng.ephemeral(),
          dstPort: 22, protocol: TCP, bytes: rng.between(5_000, 80_000), packetSize: 200,
        }, jump.route));
      }
    }
  }
}
