/**
 * Benign traps: normal things that look odd, labelled so the score can count alerts on them as false.
 *
 * - checkpoint-burst: one more checkpoint of a job at `at` (ten times its normal storage bytes for ~45 s).
 * - approved-model-upload: a large upload through the proxy to an approved host, in 30 s chunks.
 * - job-edges: the job's collective records opening `grace` before its allocation starts and closing `grace`
 *   after it ends (clocks and teardown are never exact): two labels, `ID:first` and `ID:last`.
 * - late-flows: a node's DPU holds back what it exports during [at, at + duration] and sends it `delay` later:
 *   those events' time is when they are emitted, their flows keep their own start and end. The label's times
 *   are the flows' own.
 * - node-reassigned: a node of job `from` that job `to` takes over after `from` ended; its job traffic in its
 *   first `window` in `to` carries the label.
 */
import type { Trap } from '../scenario';
import { type Ctx, type Incident, runningJob, sourceOf } from './incident';

/** The trap's incidents: one, or two for job-edges (`ID:first` and `ID:last`, a job's first and last seconds). */
export function trapIncidents(ctx: Ctx, t: Trap): Incident[] {
  const { egress, schedule } = ctx.w;
  const label = (nodes: string[], addresses: string[], description: string, job?: string): Incident['label'] =>
    ({ id: ctx.id, class: 'benign', kind: t.kind, nodes, addresses, ...(job !== undefined ? { job } : {}), description });
  switch (t.kind) {
    case 'checkpoint-burst': {
      const job = runningJob(ctx, t.job);
      if (!job) return [];
      const plan = ctx.training.plan(job);
      if (plan.dataPort === undefined) {
        ctx.problems.push(`${ctx.key}.job: job ${job.id} may reach no storage node to checkpoint to`);
        return [];
      }
      return [{
        events: ctx.training.checkpoint(job, ctx.at, ctx.rng, ctx.id),
        label: label(job.hosts.map((h) => h.name), plan.fronts.map((f) => f.addr), `an extra checkpoint of job ${job.id} to storage`, job.id),
      }];
    }
    case 'approved-model-upload': {
      const src = sourceOf(ctx, t);
      if (!src) return [];
      const events: Incident['events'] = [];
      const n = Math.max(1, Math.round((ctx.until - ctx.at) / 30_000));
      const span = (ctx.until - ctx.at) / n;
      for (let i = 0; i < n; i++) {
        const start = ctx.at + Math.round(i * span);
        egress.request({
          client: src.host.frontend, paths: [src.host.route], host: t.host, start, end: start + Math.round(span * 0.9), up: t.bytes / n,
          down: ctx.rng.between(1_000, 20_000), method: 'CONNECT', label: ctx.id,
        }, ctx.rng, events);
      }
      if (events.length === 0) {
        ctx.problems.push(`${ctx.key}: ${src.host.name} may reach no egress proxy`);
        return [];
      }
      return [{ events, label: label([src.host.name], [src.host.frontend, egress.address(t.host)], `${src.host.name} uploads ${t.bytes} bytes to ${t.host}, an approved host, through the proxy`, src.job?.id) }];
    }
    case 'job-edges': {
      const job = schedule.explicit.find((j) => j.id === t.job)!;
      const nodes = job.hosts.map((h) => h.name);
      return (['first', 'last'] as const).map((edge) => {
        const id = `${ctx.id}:${edge}`;
        const events = ctx.training.edgeRecords(job, t.grace, edge, id);
        const addresses = [...new Set(events.map((e) => e.flow.src))].sort();
        return { events, label: { ...label(nodes, addresses, `job ${job.id}'s collective traffic in the ${t.grace} ms ${edge === 'first' ? 'before its allocation starts' : 'after it ends'}`, job.id), id } };
      });
    }
    case 'late-flows': {
      const src = sourceOf(ctx, t);
      if (!src) return [];
      if (!src.host.dpu) {
        ctx.problems.push(`${ctx.key}: ${src.host.name} has no DPU: late exports are modelled on a DPU`);
        return [];
      }
      return [{
        events: [],
        hold: { exporter: src.host.name, from: ctx.at, to: ctx.until, delay: t.delay },
        label: label([src.host.name], [src.host.frontend, ...src.host.rails], `the DPU of ${src.host.name} sends what it exported during ${ctx.until - ctx.at} ms ${t.delay} ms late`, src.job?.id),
      }];
    }
    case 'node-reassigned': {
      const [from, to] = [t.from, t.to].map((id) => schedule.explicit.find((j) => j.id === id)!) as [typeof schedule.explicit[number], typeof schedule.explicit[number]];
      const common = to.hosts.filter((h) => from.hosts.includes(h));
      const node = t.node === undefined ? common[0] : common.find((h) => h.name === t.node);
      if (!node) {
        ctx.problems.push(`${ctx.key}.node: ${t.node === undefined ? `jobs ${from.id} and ${to.id} share no node` : `${t.node} is not in both jobs ${from.id} and ${to.id}`}`);
        return [];
      }
      const pod = to.pods?.[to.hosts.indexOf(node)];
      const addresses = [node.frontend, ...node.rails, ...(pod ? [pod.ip] : [])];
      return [{
        events: [],
        relabel: { addresses: new Set(addresses), from: to.start, to: to.start + t.window },
        label: label([node.name], addresses, `${node.name} moves from job ${from.id} to job ${to.id}`, to.id),
      }];
    }
  }
}
