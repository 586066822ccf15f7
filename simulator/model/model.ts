/**
 * The cluster model: given a scenario and its inventory, the SimEvents of any time range, in time order, and
 * the ground truth of what was injected.
 *
 * Sources, merged by time (model/merge.ts; equal times in this order): allocation events, training jobs,
 * infrastructure (DNS, NTP, monitoring, control plane), the inference tier, and the incidents (attacks and
 * traps, built whole when the model is built). The first four generate one 10 s slot at a time, each slot from
 * generators seeded by the scenario seed and the slot, holding only that slot's events; an event belongs to the
 * slot holding its `time` (a flow's time is when its exporter sends it, its end; a late flow's is later).
 *
 * The guarantee: events(from, to) is a pure function of the scenario, the inventory, the options and the range,
 * and equals events(from, m) followed by events(m, to) for any m in between: the events with from <= time < to
 * of one fixed, infinite stream. So the runner can emit 7 days of history, then go live, and get what one
 * long run would have given. Jobs already running at a range's start announced their allocation before it:
 * activeAllocations(from) gives those events.
 */
import type { Inventory } from '../../inventory/inventory';
import type { SimEvent, TruthLabel } from '../events';
import { type Scenario, ScenarioError } from '../scenario';
import { attackIncident } from './attacks';
import { Egress } from './egress';
import { ClusterView } from './hosts';
import type { Ctx, Incident } from './incident';
import { InferenceTraffic } from './inference';
import { InfraTraffic } from './infra';
import { JobSchedule } from './jobs';
import { mergeByTime } from './merge';
import { Rng } from './random';
import { TrainingTraffic } from './training';
import { trapIncidents } from './traps';
import { SLOT_MS, type World } from './world';

export interface ModelOptions {
  /** Time zero of the scenario's offsets, ms since the epoch; needed when the scenario has no `start`. */
  start?: number;
  /** Load tests: multiplies the records of normal traffic (not their bytes, not the incidents); default 1. */
  rate?: number;
}

interface SlotSource {
  slot(from: number, to: number, out: SimEvent[]): void;
}

/** When a labelled flow was emitted and what it spans. */
interface Mark {
  time: number;
  start: number;
  end: number;
}

const byTime = (a: SimEvent, b: SimEvent) => a.time - b.time;

export class ClusterModel {
  readonly start: number;
  readonly end: number;
  /** What the model left out and why (e.g. a kind of normal traffic the inventory's allow list forbids). */
  readonly notes: string[] = [];
  private readonly schedule: JobSchedule;
  private readonly sources: SlotSource[];
  /** The source whose flows node-reassigned relabels: the jobs' traffic. */
  private readonly jobTraffic: SlotSource;
  private readonly incidents: Incident[] = [];
  private readonly incidentEvents: SimEvent[];
  private readonly marks = new Map<string, Mark[]>();
  private readonly holds: (NonNullable<Incident['hold']> & { id: string })[];
  private readonly relabels: (NonNullable<Incident['relabel']> & { id: string })[];

  constructor(scenario: Scenario, inventory: Inventory, options: ModelOptions = {}) {
    const start = options.start ?? scenario.start;
    const rate = options.rate ?? 1;
    if (start === undefined) throw new ScenarioError(['start: the scenario has none and the runner gave none']);
    if (!(rate > 0 && Number.isFinite(rate))) throw new ScenarioError([`rate: must be a positive number, not ${rate}`]);
    this.start = start;
    this.end = start + scenario.duration;
    const seed = scenario.seed;
    const problems: string[] = [];
    const view = new ClusterView(inventory);
    const schedule = new JobSchedule(view, scenario, start, seed, problems);
    this.schedule = schedule;
    if (problems.length > 0) throw new ScenarioError(problems);
    const w: World = { seed, view, schedule, egress: new Egress(view, scenario.egress.approved), exportInterval: Math.round(scenario.rates.exportInterval / rate), rate };
    const training = new TrainingTraffic(w);
    this.jobTraffic = training;
    const allocations: SlotSource = {
      slot: (from, to, out) => {
        for (const job of schedule.overlapping(from, to)) {
          if (job.start >= from && job.start < to) out.push({ kind: 'allocation', time: job.start, event: JobSchedule.allocation(job, false) });
          if (job.end !== undefined && job.end >= from && job.end < to) out.push({ kind: 'allocation', time: job.end, event: JobSchedule.allocation(job, true) });
        }
      },
    };
    this.sources = [allocations, training, new InfraTraffic(w, scenario.rates, this.notes), new InferenceTraffic(w, scenario.inference, problems, this.notes)];

    const used = new Set([...scenario.attacks, ...scenario.traps].flatMap((e) => (e.id !== undefined ? [e.id] : [])));
    const idFor = (id: string | undefined, kind: string) => {
      if (id !== undefined) return id;
      let c = kind;
      for (let n = 2; used.has(c); n++) c = `${kind}-${n}`;
      used.add(c);
      return c;
    };
    const ctx = (key: string, id: string, at: number, until: number): Ctx => ({ w, training, id, key, at, until, rng: new Rng(seed, 'incident', id), problems });
    const job = (id: string) => schedule.explicit.find((j) => j.id === id)!;
    scenario.attacks.forEach((a, i) => {
      const id = idFor(a.id, a.kind);
      const inc = attackIncident(ctx(`attacks.${i}`, id, start + a.at, start + a.at + a.duration), a);
      if (inc) this.incidents.push(inc);
    });
    scenario.traps.forEach((t, i) => {
      const id = idFor(t.id, t.kind);
      const [at, until] = t.kind === 'job-edges' ? [job(t.job).start - t.grace, job(t.job).end! + t.grace]
        : t.kind === 'node-reassigned' ? [job(t.to).start, job(t.to).start + t.window]
          : [start + t.at, start + t.at + ('duration' in t ? t.duration : 0)];
      this.incidents.push(...trapIncidents(ctx(`traps.${i}`, id, at, until), t));
    });
    if (problems.length > 0) throw new ScenarioError(problems);

    this.holds = this.incidents.flatMap((inc) => (inc.hold ? [{ ...inc.hold, id: inc.label.id }] : []));
    this.relabels = this.incidents.flatMap((inc) => (inc.relabel ? [{ ...inc.relabel, id: inc.label.id }] : []));
    for (const h of this.holds) {
      const inc = this.incidents.find((i) => i.label.id === h.id)!;
      this.eachSlot(h.from, h.to, (out) => {
        for (const e of out) {
          if (e.kind === 'flow' && this.held(e, h)) inc.events.push({ kind: 'flow', time: e.time + h.delay, flow: { ...e.flow, label: h.id } });
        }
      });
    }
    for (const inc of this.incidents) {
      this.marks.set(inc.label.id, inc.events.flatMap((e) => (e.kind === 'flow' ? [{ time: e.time, start: e.flow.start, end: e.flow.end }] : [])));
    }
    for (const r of this.relabels) {
      const marks = this.marks.get(r.id)!;
      this.eachSlot(r.from, r.to, (out, source) => {
        for (const e of this.finish(out, source)) if (e.kind === 'flow' && e.flow.label === r.id) marks.push({ time: e.time, start: e.flow.start, end: e.flow.end });
      });
    }
    for (const m of this.marks.values()) m.sort((a, b) => a.time - b.time);
    this.incidentEvents = this.incidents.flatMap((i) => i.events).sort(byTime);
  }

  /** The normal traffic of every slot overlapping [from, to], unfinished, one slot and source at a time. */
  private eachSlot(from: number, to: number, f: (out: SimEvent[], source: SlotSource) => void): void {
    for (let a = Math.floor(from / SLOT_MS) * SLOT_MS; a <= to; a += SLOT_MS) {
      for (const s of this.sources) {
        const out: SimEvent[] = [];
        s.slot(a, a + SLOT_MS, out);
        f(out, s);
      }
    }
  }

  private held(e: SimEvent & { kind: 'flow' }, h: { exporter: string; from: number; to: number }): boolean {
    return e.flow.via === 'dpu' && e.flow.exporter === h.exporter && e.time >= h.from && e.time <= h.to;
  }

  /** A slot's events as emitted: late-flow holds removed, node-reassigned job flows labelled, in time order. */
  private finish(out: SimEvent[], source: SlotSource): SimEvent[] {
    let events = out;
    if (this.holds.length > 0) events = events.filter((e) => e.kind !== 'flow' || !this.holds.some((h) => this.held(e, h)));
    for (const r of source === this.jobTraffic ? this.relabels : []) {
      for (const e of events) {
        if (e.kind === 'flow' && e.time >= r.from && e.time <= r.to && (r.addresses.has(e.flow.src) || r.addresses.has(e.flow.dst))) e.flow.label = r.id;
      }
    }
    return events.sort(byTime);
  }

  private *slots(source: SlotSource, from: number, to: number): Generator<SimEvent> {
    for (let a = Math.floor(from / SLOT_MS) * SLOT_MS; a < to; a += SLOT_MS) {
      const out: SimEvent[] = [];
      source.slot(a, a + SLOT_MS, out);
      for (const e of this.finish(out, source)) if (e.time >= from && e.time < to) yield e;
    }
  }

  private *incidentsIn(from: number, to: number): Generator<SimEvent> {
    const list = this.incidentEvents;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.time < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length && list[i]!.time < to; i++) yield list[i]!;
  }

  /** Every event with from <= time < to (ms since the epoch), in time order. */
  events(from: number, to: number): Generator<SimEvent> {
    return mergeByTime([...this.sources.map((s) => this.slots(s, from, to)), this.incidentsIn(from, to)]);
  }

  /** The start events of the jobs running at t that started before it (what a consumer joining at t missed). */
  activeAllocations(t: number): SimEvent[] {
    return this.schedule.overlapping(t, t).filter((j) => j.start < t && (j.end === undefined || j.end >= t))
      .map((j): SimEvent => ({ kind: 'allocation', time: j.start, event: JobSchedule.allocation(j, false) }))
      .sort(byTime);
  }

  /**
   * The labels of the incidents with flows emitted in [from, to), each spanning its first to its last such flow
   * (their own times: a late flow counts where it happened, not where it was emitted). Attacks, then traps.
   */
  truth(from = -Infinity, to = Infinity): TruthLabel[] {
    return this.incidents.flatMap(({ label }) => {
      const marks = this.marks.get(label.id)!.filter((m) => m.time >= from && m.time < to);
      if (marks.length === 0) return [];
      const { id, class: cls, kind, nodes, addresses, job, detectors, description } = label;
      return [{
        id, class: cls, kind, nodes, addresses,
        start: marks.reduce((t, m) => Math.min(t, m.start), Infinity), end: marks.reduce((t, m) => Math.max(t, m.end), -Infinity),
        ...(job !== undefined ? { job } : {}), ...(detectors !== undefined ? { detectors } : {}), description,
      }];
    });
  }
}
