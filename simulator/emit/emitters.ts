/**
 * The emitters of one simulation run, behind one object the runner drives: each event goes to the emitter of
 * its path into eastwatch (a DPU's IPFIX, a switch's sFlow, the Hubble file, the Squid log, the allocations
 * topic). openEmitters() points them where a running eastwatch listens and follows, from its own config.
 */
import type { KafkaContext } from '../../core/kafka';
import type { CollectorConfig } from '../../ingest/config';
import type { SimEvent, Via } from '../events';
import { AllocationEmitter } from './allocations';
import { type EmitterStats, ExporterAddresses, type FlowEmitter } from './emitter';
import { hubbleEmitter } from './hubble';
import { IpfixEmitter, type IpfixEmitterOptions } from './ipfix';
import { SflowEmitter, type SflowEmitterOptions } from './sflow';
import { squidEmitter } from './squid';

export interface EmitterParts {
  /** Flows by path; a path without an emitter is counted in `unrouted`. */
  flows: Partial<Record<Via, FlowEmitter>>;
  allocations?: AllocationEmitter;
}

export class Emitters {
  /** Events that had no emitter, by path ('allocation' for allocation events). */
  readonly unrouted: Partial<Record<Via | 'allocation', number>> = {};
  private readonly flowEmitters: FlowEmitter[];

  constructor(private readonly parts: EmitterParts) {
    this.flowEmitters = [...new Set(Object.values(parts.flows))];
  }

  /** Hands one event on; a promise when the runner must wait for it (an allocation, until Kafka has it). */
  emit(e: SimEvent): Promise<void> | undefined {
    if (e.kind === 'allocation') {
      if (this.parts.allocations) return this.parts.allocations.allocation(e.event);
      this.unrouted.allocation = (this.unrouted.allocation ?? 0) + 1;
      return undefined;
    }
    const emitter = this.parts.flows[e.flow.via];
    if (emitter) emitter.flow(e.flow, e.time);
    else this.unrouted[e.flow.via] = (this.unrouted[e.flow.via] ?? 0) + 1;
    return undefined;
  }

  advance(now: number): void {
    for (const e of this.flowEmitters) e.advance(now);
  }

  async drain(): Promise<void> {
    await Promise.all(this.flowEmitters.map((e) => e.drain()));
  }

  async flush(): Promise<void> {
    await Promise.all(this.flowEmitters.map((e) => e.flush()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.flowEmitters.map((e) => e.close()), this.parts.allocations?.close()]);
  }

  stats(): Record<string, EmitterStats> {
    const all = [...this.flowEmitters, ...(this.parts.allocations ? [this.parts.allocations] : [])];
    return Object.fromEntries(all.map((e) => [e.name, { ...e.stats }]));
  }
}

export interface OpenEmittersOptions {
  /** Every node of the cluster in the inventory's order: exporter addresses follow it (see ExporterAddresses). */
  nodes: Iterable<string>;
  /** Where eastwatch's flow collectors listen (its collector config). */
  collector: Pick<CollectorConfig, 'host' | 'ipfixPort' | 'sflowPort'>;
  /** A Hubble file eastwatch follows (EASTWATCH_HUBBLE_FILES); without it Hubble flows are not emitted. */
  hubbleFile?: string;
  /** A Squid log eastwatch follows (EASTWATCH_SQUID_LOGS); without it proxy flows are not emitted. */
  squidFile?: string;
  /** Kafka for allocation events; without it they are not emitted. */
  kafka?: KafkaContext;
  ipfix?: Omit<IpfixEmitterOptions, 'target' | 'addresses'>;
  sflow?: Omit<SflowEmitterOptions, 'target' | 'addresses'>;
}

export async function openEmitters(o: OpenEmittersOptions): Promise<Emitters> {
  const addresses = new ExporterAddresses(o.nodes);
  const { host } = o.collector;
  return new Emitters({
    flows: {
      dpu: new IpfixEmitter({ ...o.ipfix, target: { host, port: o.collector.ipfixPort }, addresses }),
      switch: new SflowEmitter({ ...o.sflow, target: { host, port: o.collector.sflowPort }, addresses }),
      ...(o.hubbleFile ? { hubble: hubbleEmitter(o.hubbleFile) } : {}),
      ...(o.squidFile ? { proxy: squidEmitter(o.squidFile) } : {}),
    },
    ...(o.kafka ? { allocations: await AllocationEmitter.open(o.kafka) } : {}),
  });
}
