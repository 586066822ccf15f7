/**
 * The simulation clock: walks simulated time in fixed steps, takes each step's events from the model and hands
 * them to the emitters, paced against the wall clock.
 *
 * - `speed`: simulated seconds per wall second (a simulated day in 10 minutes is 144; Infinity: no waiting).
 *   A step is released once the wall clock reaches its end, so no event goes out before its simulated time.
 * - `rate`: flows per wall second; simulated time advances as fast as that takes it.
 * - `backfill`: that much history before `start`, emitted first at `backfillRate` flows/s (default 20k: as fast
 *   as collectors take UDP on one machine without loss), its events' times in the past; the live part follows.
 *
 * Steps start at fixed offsets from each part's beginning and emitters batch by simulated time only, so the
 * same events give the same bytes at any pace. Events of a step are expected in time order. An abort signal or
 * SIGINT stops after the event in hand; what the emitters hold is flushed either way.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EmitterStats } from './emit/emitter';
import type { Emitters } from './emit/emitters';
import type { SimEvent, Via } from './events';

export interface RunOptions {
  /** The model's events with from <= time < to. */
  events: (from: number, to: number) => Iterable<SimEvent>;
  /** Simulated start of the live part, ms since the epoch. */
  start: number;
  /** Simulated length of the live part, ms. */
  duration: number;
  /** Simulated seconds per wall second; the default (1) when neither speed nor rate is given. */
  speed?: number;
  /** Flows per wall second, instead of speed. */
  rate?: number;
  /** Simulated ms of history emitted before the live part; default 0. */
  backfill?: number;
  /** Flows per wall second during the backfill; default 20000. */
  backfillRate?: number;
  /** Simulated ms per step; default 1000. */
  stepMs?: number;
  emitters: Emitters;
  signal?: AbortSignal;
  /** Called after every step. */
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  phase: 'backfill' | 'live';
  /** Simulated time reached. */
  time: number;
  flows: number;
  /** How far the wall clock is past the schedule (ms): the emitters or the model cannot keep the pace. */
  lagMs: number;
}

export interface RunResult {
  flows: number;
  /** Of those, flows emitted in the backfill. */
  backfillFlows: number;
  allocations: number;
  byVia: Record<Via, number>;
  byEmitter: Record<string, EmitterStats>;
  /** Events no emitter took, by path. */
  unrouted: Emitters['unrouted'];
  /** Simulated time reached: start + duration unless stopped. */
  end: number;
  wallMs: number;
  stopped: boolean;
}

type Pace = { speed: number } | { rate: number };

export const DEFAULT_BACKFILL_RATE = 20_000;

export async function runSimulation(o: RunOptions): Promise<RunResult> {
  if (o.speed !== undefined && o.rate !== undefined) throw new RangeError('give speed or rate, not both');
  for (const [k, v] of Object.entries({ speed: o.speed, rate: o.rate, backfillRate: o.backfillRate, stepMs: o.stepMs })) {
    if (v !== undefined && !(v > 0)) throw new RangeError(`${k} must be positive, got ${v}`);
  }
  const live: Pace = o.rate !== undefined ? { rate: o.rate } : { speed: o.speed ?? 1 };
  const step = o.stepMs ?? 1000;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) stop.abort();
  // once: a second ^C finds no listener and ends the process the usual way
  process.once('SIGINT', onAbort);

  const result: RunResult = {
    flows: 0, backfillFlows: 0, allocations: 0, byVia: { dpu: 0, switch: 0, hubble: 0, proxy: 0 }, byEmitter: {}, unrouted: {},
    end: o.start - (o.backfill ?? 0), wallMs: 0, stopped: false,
  };
  const wallStart = performance.now();

  /** Waits until the wall clock reads `at` (performance.now() ms), or the run is stopped. */
  const until = async (at: number) => {
    const wait = at - performance.now();
    if (wait > 0 && !stop.signal.aborted) await sleep(wait, undefined, { signal: stop.signal }).catch(() => undefined);
  };

  async function phase(name: Progress['phase'], from: number, to: number, pace: Pace): Promise<void> {
    const wall0 = performance.now();
    let flows = 0;
    const due = () => ('rate' in pace ? wall0 + (flows * 1000) / pace.rate : wall0 + (result.end - from) / pace.speed);
    for (let t = from; t < to && !stop.signal.aborted; t += step) {
      const next = Math.min(t + step, to);
      if ('speed' in pace) await until(wall0 + (next - from) / pace.speed);
      for (const e of o.events(t, next)) {
        if (stop.signal.aborted) break;
        if (e.kind === 'flow') {
          if ('rate' in pace && due() > performance.now() + 1) {
            await o.emitters.drain();
            await until(due());
          }
          flows++;
          result.byVia[e.flow.via]++;
        } else {
          result.allocations++;
        }
        const sent = o.emitters.emit(e);
        if (sent) await sent;
        result.end = Math.max(result.end, e.time);
      }
      if (stop.signal.aborted) break;
      o.emitters.advance(next);
      await o.emitters.drain();
      result.end = next;
      o.onProgress?.({ phase: name, time: next, flows: result.flows + flows, lagMs: Math.max(0, performance.now() - due()) });
      // Behind its pace the loop awaits only settled promises: let timers (the abort, a caller's) and I/O run.
      await new Promise((resolve) => setImmediate(resolve));
    }
    result.flows += flows;
    if (name === 'backfill') result.backfillFlows = flows;
  }

  try {
    if (o.backfill) await phase('backfill', o.start - o.backfill, o.start, { rate: o.backfillRate ?? DEFAULT_BACKFILL_RATE });
    await phase('live', o.start, o.start + o.duration, live);
  } finally {
    process.off('SIGINT', onAbort);
    o.signal?.removeEventListener('abort', onAbort);
  }
  await o.emitters.flush();
  result.stopped = stop.signal.aborted;
  result.byEmitter = o.emitters.stats();
  result.unrouted = { ...o.emitters.unrouted };
  result.wallMs = performance.now() - wallStart;
  return result;
}
