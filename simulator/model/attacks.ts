/**
 * The attacks, each as the flows an attacker's actions leave and the truth label naming the nodes at fault
 * (the sources, and for egress the outside address too: what an alert must name to match) and the detectors
 * that should catch it. `zone-violation` is expected exactly when a flow crosses zones the allow list does not
 * let it; the other detectors by kind:
 *
 * - lateral-ssh: SSH (22) from a node's front end to training nodes outside its job. outside-allocation.
 * - scan: SYN probes from one node to many hosts and ports. outside-allocation.
 * - collective-intruder: RoCEv2 into a job's members on their rails, from a node outside the job
 *   (outside-allocation, topology-mismatch) or from a member to members it is not paired with (topology-mismatch).
 * - rail-crossing: a member's RoCEv2 to its collective peer, from NIC i to NIC j != i. topology-mismatch.
 * - bmc-access: IPMI (udp/623) from a node's front end to other servers' BMCs.
 * - exfil-proxy-slow / -fast: uploads through the egress proxy to a host not on the approved list, spread thin
 *   over hours (every ~2 minutes) or in parallel chunks (every ~10 s). egress-spike.
 * - proxy-bypass: an upload straight to an outside address. egress-spike.
 * - policy-denied: a Kubernetes job's pod trying an outside address, dropped by policy (Hubble, DROPPED,
 *   POLICY_DENIED: the seed's TrainingPodUnexpectedEgress). policy-denied.
 * - weights-new-destination: a weights-enclave node sending to a destination it never sends to. new-destination.
 *
 * An attack starting from a job's member uses its node's front end, even in a Kubernetes job (a node
 * compromised, not a pod), except policy-denied, which is a pod's by definition.
 */
import type { SimEvent } from '../events';
import type { Attack } from '../scenario';
import { FLAGS, flowEvent, ROCE_PORT, roceSourcePort, TCP, UDP } from './flows';
import type { FrontHost, TrainingHost } from './hosts';
import { crossesZones, type Ctx, type Incident, jobNote, runningJob, sourceOf, spread } from './incident';
import type { Job } from './jobs';
import { hash32, sample } from './random';

const RECORD_MS = 10_000;

/** RoCEv2 records every 10 s over the window from `src` NIC `from` to `dst` NIC `to`, two queue pairs. */
function roce(ctx: Ctx, src: TrainingHost, dst: TrainingHost, from: number, to: number, bytesPerMs: number, out: SimEvent[]): void {
  for (let q = 0; q < 2; q++) {
    const srcPort = roceSourcePort(hash32(ctx.w.seed, ctx.id, src.name, dst.name, from, to, q));
    for (let end = Math.min(ctx.until, ctx.at + RECORD_MS), start = ctx.at; start < ctx.until; start = end, end = Math.min(ctx.until, end + RECORD_MS)) {
      out.push(flowEvent({
        start, end, src: src.rails[from]!, dst: dst.rails[to]!, srcPort, dstPort: ROCE_PORT, protocol: UDP,
        bytes: ctx.rng.jitter(bytesPerMs * (end - start)), packetSize: 4096, label: ctx.id,
      }, ctx.w.view.backendRoute(src, from)));
    }
  }
}

/** `bytes` in `n` connections spread over the window, each from `src` through `send`. */
function chunks(ctx: Ctx, n: number, bytes: number, send: (start: number, end: number, bytes: number) => void): void {
  const span = ctx.until - ctx.at;
  for (const end of spread(ctx, n)) {
    const start = Math.max(ctx.at, end - Math.round(ctx.rng.jitter(Math.min(span / n, 20_000), 0.5)));
    send(start, Math.max(end, start + 1), ctx.rng.jitter(bytes / n));
  }
}

export function attackIncident(ctx: Ctx, a: Attack): Incident | undefined {
  const { view, egress } = ctx.w;
  const events: SimEvent[] = [];
  const made = (nodes: string[], addresses: string[], detectors: string[], description: string, job?: Job): Incident => ({
    events,
    label: {
      id: ctx.id, class: 'attack', kind: a.kind, nodes, addresses, ...(job ? { job: job.id } : {}),
      detectors: [...new Set([...detectors, ...(crossesZones(ctx, events) ? ['zone-violation'] : [])])].sort(),
      description,
    },
  });
  const ofJob = (job: Job | undefined, node: string | undefined, field = 'node'): TrainingHost | undefined => {
    if (!job) return undefined;
    if (node === undefined) return ctx.rng.pick(job.hosts);
    const h = view.training.find((t) => t.name === node);
    if (!h) ctx.problems.push(`${ctx.key}.${field}: ${node} is not a training node`);
    return h;
  };
  const tcp = (src: FrontHost, dst: string, dstPort: number, start: number, end: number, bytes: number, packetSize = 1400, tcpFlags: number = FLAGS.whole) =>
    events.push(flowEvent({ start, end, src: src.frontend, dst, srcPort: ctx.rng.ephemeral(), dstPort, protocol: TCP, bytes, packetSize, tcpFlags, label: ctx.id }, src.route));

  switch (a.kind) {
    case 'lateral-ssh': {
      const src = sourceOf(ctx, a);
      if (!src) return undefined;
      const targets = sample(ctx.rng, view.training.filter((h) => h !== src.host && !src.job?.hosts.includes(h)), a.targets);
      for (const t of targets) {
        chunks(ctx, ctx.rng.between(1, 3), 20_000, (start, end, bytes) => tcp(src.host, t.frontend, 22, start, end, bytes, 150));
      }
      return made([src.host.name], [src.host.frontend], ['outside-allocation'],
        `${src.host.name}${jobNote(src.job)} opens SSH to ${targets.length} training nodes outside its allocation: ${targets.map((t) => t.name).join(', ')}`, src.job);
    }
    case 'scan': {
      const src = sourceOf(ctx, a);
      if (!src) return undefined;
      const hosts = sample(ctx.rng, view.hosts.filter((h): h is FrontHost => h.route !== undefined && h !== src.host), a.targets);
      const probes = sample(ctx.rng, hosts.flatMap((h) => a.ports.map((port) => [h.frontend, port] as const)), Infinity);
      spread(ctx, probes.length).forEach((t, i) => tcp(src.host, probes[i]![0], probes[i]![1], t, t, 60, 60, FLAGS.syn));
      return made([src.host.name], [src.host.frontend], ['outside-allocation'],
        `${src.host.name}${jobNote(src.job)} probes ${hosts.length} hosts on ${a.ports.length} ports`, src.job);
    }
    case 'collective-intruder': {
      const job = runningJob(ctx, a.job);
      if (!job) return undefined;
      const outsider = a.node === undefined || !job.hosts.some((h) => h.name === a.node);
      const intruder = a.node === undefined ? ctx.rng.pick(view.training.filter((h) => !job.hosts.includes(h))) : ofJob(job, a.node);
      if (!intruder) return undefined;
      const rank = job.hosts.indexOf(intruder);
      const peers = new Set(ctx.training.plan(job).edges.filter((e) => e.from === rank).map((e) => e.to));
      const candidates = job.hosts.filter((h, r) => h !== intruder && !peers.has(r));
      if (candidates.length === 0) {
        ctx.problems.push(`${ctx.key}.node: ${intruder.name} already sends to every member of job ${job.id}: no member is outside its pattern`);
        return undefined;
      }
      const targets = sample(ctx.rng, candidates, a.targets);
      const rails = sample(ctx.rng, Array.from({ length: view.rails }, (_, r) => r), 2);
      for (const t of targets) for (const r of rails) roce(ctx, intruder, t, r, r, 2e6, events);
      return made([intruder.name], rails.map((r) => intruder.rails[r]!), outsider ? ['outside-allocation', 'topology-mismatch'] : ['topology-mismatch'],
        `${intruder.name}${outsider ? ', not a member,' : ', a member,'} sends RoCEv2 to ${targets.map((t) => t.name).join(', ')} of job ${job.id} outside its collective pattern (${job.pattern})`, job);
    }
    case 'rail-crossing': {
      const job = runningJob(ctx, a.job);
      const member = ofJob(job, a.node);
      if (!job || !member) return undefined;
      const rank = job.hosts.indexOf(member);
      if (rank < 0) {
        ctx.problems.push(`${ctx.key}.node: ${member.name} is not a member of job ${job.id}`);
        return undefined;
      }
      const peers = ctx.training.plan(job).edges.filter((e) => e.from === rank);
      if (peers.length === 0 || view.rails < 2) {
        ctx.problems.push(`${ctx.key}.job: ${view.rails < 2 ? 'the cluster has one rail' : `${member.name} sends nothing on the network in job ${job.id} (${job.pattern})`}: no rail to cross`);
        return undefined;
      }
      const peer = job.hosts[ctx.rng.pick(peers).to]!;
      const from = ctx.rng.int(view.rails);
      const to = (from + 1 + ctx.rng.int(view.rails - 1)) % view.rails;
      roce(ctx, member, peer, from, to, 3e6, events);
      return made([member.name], [member.rails[from]!], ['topology-mismatch'],
        `${member.name} sends RoCEv2 from rail ${from} to rail ${to} of its peer ${peer.name} in job ${job.id}`, job);
    }
    case 'bmc-access': {
      const src = sourceOf(ctx, a);
      if (!src) return undefined;
      const bmcs = sample(ctx.rng, view.hosts.filter((h) => h.oob !== undefined && h.role !== 'switch' && h !== src.host), a.targets);
      for (const b of bmcs) {
        for (const end of spread(ctx, ctx.rng.between(2, 4))) {
          events.push(flowEvent({
            start: Math.max(ctx.at, end - 500), end, src: src.host.frontend, dst: b.oob!, srcPort: ctx.rng.ephemeral(), dstPort: 623, protocol: UDP,
            bytes: ctx.rng.between(100, 400), packetSize: 60, label: ctx.id,
          }, src.host.route));
        }
      }
      return made([src.host.name], [src.host.frontend], [], `${src.host.name}${jobNote(src.job)} sends IPMI (udp/623) to the BMCs of ${bmcs.map((b) => b.name).join(', ')}`, src.job);
    }
    case 'exfil-proxy-slow':
    case 'exfil-proxy-fast': {
      const src = sourceOf(ctx, a);
      if (!src) return undefined;
      if (!egress.proxyFor(src.host.frontend)) {
        ctx.problems.push(`${ctx.key}: ${src.host.name} may reach no egress proxy`);
        return undefined;
      }
      const every = a.kind === 'exfil-proxy-slow' ? 120_000 : 10_000;
      chunks(ctx, Math.max(1, Math.round((ctx.until - ctx.at) / every)), a.bytes, (start, end, up) => egress.request({
        client: src.host.frontend, paths: [src.host.route], host: a.host, start, end, up, down: ctx.rng.between(500, 5_000), method: 'CONNECT', label: ctx.id,
      }, ctx.rng, events));
      const rate = a.bytes / ((ctx.until - ctx.at) / 60_000);
      return made([src.host.name], [src.host.frontend, egress.address(a.host)], ['egress-spike'],
        `${src.host.name}${jobNote(src.job)} uploads ${a.bytes} bytes through the proxy to ${a.host}, not an approved host (${Math.round(rate)} bytes a minute)`, src.job);
    }
    case 'proxy-bypass': {
      const src = sourceOf(ctx, a);
      if (!src) return undefined;
      chunks(ctx, Math.max(1, Math.round((ctx.until - ctx.at) / 30_000)), a.bytes, (start, end, bytes) => tcp(src.host, a.address, a.port, start, end, bytes));
      return made([src.host.name], [src.host.frontend, a.address], ['egress-spike'],
        `${src.host.name}${jobNote(src.job)} uploads ${a.bytes} bytes straight to ${a.address}:${a.port}, around the proxy`, src.job);
    }
    case 'policy-denied': {
      const job = runningJob(ctx, a.job);
      if (!job) return undefined;
      const rank = ctx.rng.int(job.hosts.length);
      const pod = job.pods![rank]!;
      const node = job.hosts[rank]!.name;
      for (const t of spread(ctx, a.attempts)) {
        events.push(flowEvent({
          start: t, end: t, src: pod.ip, dst: a.address, srcPort: ctx.rng.ephemeral(), dstPort: a.port, protocol: TCP, bytes: 60, packetSize: 60,
          tcpFlags: FLAGS.syn, label: ctx.id,
        }, { via: 'hubble', hubble: { src: pod.endpoint, verdict: 'DROPPED', dropReason: 'POLICY_DENIED', node } }));
      }
      return made([node], [pod.ip, a.address], ['policy-denied'],
        `pod ${pod.endpoint.namespace}/${pod.name} of job ${job.id} tries ${a.address}:${a.port} ${a.attempts} times; policy drops it`, job);
    }
    case 'weights-new-destination': {
      const vault = a.node === undefined ? view.weights[0] : view.weights.find((h) => h.name === a.node);
      if (!vault) {
        ctx.problems.push(`${ctx.key}.node: ${a.node === undefined ? 'the inventory has no weights-enclave node' : `${a.node} is not a weights-enclave node (${view.weights.map((h) => h.name).join(', ') || 'none'})`}`);
        return undefined;
      }
      const target = a.target === undefined ? ctx.rng.pick(view.training) : view.byName.get(a.target);
      if (!target?.frontend) {
        ctx.problems.push(`${ctx.key}.target: ${a.target} is not a node with a front-end address`);
        return undefined;
      }
      chunks(ctx, Math.max(1, Math.round((ctx.until - ctx.at) / 15_000)), a.bytes, (start, end, bytes) => tcp(vault, target.frontend!, a.port, start, end, bytes));
      return made([vault.name], [vault.frontend], ['new-destination'], `weights-enclave node ${vault.name} sends ${a.bytes} bytes to ${target.name}:${a.port}, a destination it never sends to`);
    }
  }
}
