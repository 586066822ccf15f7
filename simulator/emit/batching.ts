/**
 * What the IPFIX and sFlow emitters share: one batch per exporter, sent as a datagram when the next record
 * would not fit or `flushMs` of simulated time after its first record, from the exporter's own address.
 * Subclasses say what a batch holds and how it becomes a datagram.
 */
import { type FlowEmitter, newStats } from './emitter';
import type { SimFlow } from '../events';
import { UdpExporters, type UdpTarget } from './transport';

export interface Batch {
  address: string;
  /** Simulated time of the batch's first record. */
  first: number;
}

export abstract class BatchingUdpEmitter<B extends Batch> implements FlowEmitter {
  abstract readonly name: string;
  readonly stats = newStats();
  protected readonly batches = new Map<string, B>();
  private readonly udp: UdpExporters;

  constructor(target: UdpTarget, protected readonly maxDatagram: number, protected readonly flushMs: number) {
    this.udp = new UdpExporters(target);
  }

  abstract flow(f: SimFlow, now: number): void;
  /** Whether `b` holds records not sent yet. */
  protected abstract pending(b: B): boolean;
  /** Sends `b`'s records as a datagram stamped `at` (simulated) and empties it. */
  protected abstract send(b: B, at: number): void;

  /** Sends `b` if its interval is over at `now`. */
  protected due(b: B, now: number): void {
    if (this.pending(b) && now >= b.first + this.flushMs) this.send(b, b.first + this.flushMs);
  }

  advance(now: number): void {
    for (const b of this.batches.values()) this.due(b, now);
  }

  drain(): Promise<void> {
    return this.udp.drain();
  }

  async flush(): Promise<void> {
    // What is still batched goes out when its interval would have ended.
    for (const b of this.batches.values()) if (this.pending(b)) this.send(b, b.first + this.flushMs);
    await this.drain();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.udp.close();
  }

  protected datagram(b: B, d: Buffer): void {
    this.udp.send(b.address, d);
    this.stats.messages++;
    this.stats.bytes += d.length;
  }
}
