/**
 * What every emitter shares: the interface the runner drives, what it counts, and where simulated exporters
 * send from. Emitters batch by simulated time only, so the same events give the same bytes however fast the
 * runner goes and whenever it calls advance().
 */
import type { SimFlow } from '../events';

export interface EmitterStats {
  /** Flows (IPFIX records, sFlow flow samples, log lines) or allocation events handed on. */
  records: number;
  /** Datagrams, lines, or Kafka sends. */
  messages: number;
  /** Bytes of the datagrams and lines (Kafka sends are not counted). */
  bytes: number;
}

export interface Emitter {
  readonly name: string;
  readonly stats: EmitterStats;
  /** Simulated time reached `now`: sends what is due by then (batches past their interval, counter samples). */
  advance(now: number): void;
  /** Resolves once everything sent so far has left the process: the runner's backpressure. */
  drain(): Promise<void>;
  /** Sends everything held back, then drains. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface FlowEmitter extends Emitter {
  /** One flow, at simulated time `now` (its event's time). */
  flow(f: SimFlow, now: number): void;
}

export const newStats = (): EmitterStats => ({ records: 0, messages: 0, bytes: 0 });

/** The address block of a kind of simulated exporter: 127.NET.x.y. */
const DPU_NET = 1;
const SWITCH_NET = 2;
const HOSTS_PER_BLOCK = 254;

/**
 * Exporter `index`'s loopback address in 127.NET.0.0/16: 127.NET.(index / 254).(index % 254 + 1), so no
 * address ends in .0 or .255 (Linux routes all of 127/8 to lo; other tools may treat those as special).
 */
export function loopbackAddress(net: number, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 256 * HOSTS_PER_BLOCK) throw new RangeError(`exporter index ${index} is outside 0..${256 * HOSTS_PER_BLOCK - 1}`);
  return `127.${net}.${Math.floor(index / HOSTS_PER_BLOCK)}.${(index % HOSTS_PER_BLOCK) + 1}`;
}

/**
 * The source addresses of simulated exporters, from each node's place in a fixed node list (the inventory's
 * order): the DPU of node i sends from 127.1.x.y, switch i from 127.2.x.y. Stable across runs of the same
 * inventory, whatever traffic a scenario makes.
 */
export class ExporterAddresses {
  private readonly index = new Map<string, number>();

  constructor(nodes: Iterable<string>) {
    for (const n of nodes) if (!this.index.has(n)) this.index.set(n, this.index.size);
  }

  dpu(node: string): string {
    return loopbackAddress(DPU_NET, this.of(node));
  }

  switch(node: string): string {
    return loopbackAddress(SWITCH_NET, this.of(node));
  }

  private of(node: string): number {
    const i = this.index.get(node);
    if (i === undefined) throw new Error(`exporter ${node} is not a node of the cluster`);
    return i;
  }
}

/** FNV-1a, 32 bits: a cheap deterministic hash of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
