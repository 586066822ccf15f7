/**
 * What an IPFIX / NetFlow v9 collector remembers per (exporter address, observation domain): templates,
 * data sets waiting for their template, sampling announced in options data, the next sequence number.
 * Every part is bounded so a noisy or hostile exporter cannot exhaust the collector's memory, and the exporter
 * table so spoofed source addresses cannot lock real exporters out of it.
 */
import type { Template } from './template';

export interface Limits {
  /** Exporters (UDP source addresses and IPFIX/TCP sessions) with state. */
  maxExporters: number;
  maxDomainsPerExporter: number;
  maxTemplatesPerDomain: number;
  maxFieldsPerTemplate: number;
  /** Data sets held while their template has not arrived, per domain. */
  maxPendingSets: number;
  maxPendingBytes: number;
  pendingMs: number;
  /** UDP templates not refreshed for this long expire (RFC 7011 §8.4). */
  templateTimeoutMs: number;
  /** An exporter not heard from for this long is forgotten. */
  exporterIdleMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxExporters: 10_000,
  maxDomainsPerExporter: 64,
  maxTemplatesPerDomain: 512,
  maxFieldsPerTemplate: 512,
  maxPendingSets: 128,
  maxPendingBytes: 1 << 20,
  pendingMs: 10_000,
  templateTimeoutMs: 30 * 60_000,
  exporterIdleMs: 30 * 60_000,
};

/** Why an entry left an ExporterTable: not seen for its idle time, or pushed out of the full table. */
export type DropReason = 'idle' | 'evicted';

export interface Slot<V> {
  readonly key: string;
  value: V;
  /** The exporter sent something valid (a template, a sound sFlow datagram): what a spoofer cannot cheaply fake. */
  proven: boolean;
  /** Forgotten when idle (false: its owner ends it, as an IPFIX/TCP session ends with its connection). */
  expires: boolean;
  seenAt: number;
}

interface Node<V> extends Slot<V> {
  prev: Node<V> | undefined;
  next: Node<V> | undefined;
}

/** Slots from least to most recently seen, linked through the slots themselves: every operation is O(1). */
class Recency<V> {
  head: Node<V> | undefined;
  tail: Node<V> | undefined;

  push(n: Node<V>): void {
    n.prev = this.tail;
    n.next = undefined;
    if (this.tail) this.tail.next = n;
    else this.head = n;
    this.tail = n;
  }

  unlink(n: Node<V>): void {
    if (n.prev) n.prev.next = n.next;
    else this.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.tail = n.prev;
    n.prev = n.next = undefined;
  }
}

/**
 * Exporters (or sessions, sFlow agents), each with a value, bounded in number and forgotten when idle. A full
 * table evicts the least recently seen unproven entry; a proven one makes way only for another proven one, so
 * junk from spoofed addresses displaces only junk. Lookup, insertion, eviction and expiry are O(1) (a Map and a
 * recency list per tier).
 */
export class ExporterTable<V> {
  private readonly slots = new Map<string, Node<V>>();
  private readonly unproven = new Recency<V>();
  private readonly proven = new Recency<V>();

  constructor(
    readonly capacity: number,
    readonly idleMs: number,
    private readonly dropped: (key: string, value: V, why: DropReason) => void = () => {},
  ) {}

  get size(): number {
    return this.slots.size;
  }

  /** The slot, seen at `now`; undefined when absent or idle (then it is dropped). */
  get(key: string, now: number): Slot<V> | undefined {
    const n = this.slots.get(key);
    if (n === undefined) return undefined;
    if (n.expires && now - n.seenAt > this.idleMs) {
      this.drop(n, 'idle');
      return undefined;
    }
    if (now >= n.seenAt) {
      n.seenAt = now;
      const tier = this.tier(n);
      if (tier.tail !== n) {
        tier.unlink(n);
        tier.push(n);
      }
    }
    return n;
  }

  /** The slot, without marking it seen. */
  peek(key: string): Slot<V> | undefined {
    return this.slots.get(key);
  }

  /** Adds an entry, evicting one when full; undefined when every place is held by a proven entry and this one is not. */
  add(key: string, value: V, now: number, proven = false, expires = true): Slot<V> | undefined {
    if (this.slots.size >= this.capacity) {
      this.expire(now);
      if (this.slots.size >= this.capacity) {
        const victim = this.unproven.head ?? (proven ? this.proven.head : undefined);
        if (victim === undefined) return undefined;
        this.drop(victim, 'evicted');
      }
    }
    const n: Node<V> = { key, value, proven, expires, seenAt: now, prev: undefined, next: undefined };
    this.slots.set(key, n);
    this.tier(n).push(n);
    return n;
  }

  prove(key: string): void {
    const n = this.slots.get(key);
    if (n === undefined || n.proven) return;
    this.unproven.unlink(n);
    n.proven = true;
    this.proven.push(n);
  }

  /** Removes an entry without telling `dropped` (its owner ended it). */
  delete(key: string): void {
    const n = this.slots.get(key);
    if (n === undefined) return;
    this.slots.delete(key);
    this.tier(n).unlink(n);
  }

  /** Drops the entries idle at `now`, walking each tier from its least recently seen end. */
  expire(now: number): void {
    for (const tier of [this.unproven, this.proven]) {
      // An entry that does not expire goes to the back, once per walk.
      for (let stop = tier.tail, n = tier.head; n !== undefined && now - n.seenAt > this.idleMs; n = tier.head) {
        if (n.expires) this.drop(n, 'idle');
        else {
          tier.unlink(n);
          tier.push(n);
        }
        if (n === stop) break;
      }
    }
  }

  *values(): IterableIterator<V> {
    for (const n of this.slots.values()) yield n.value;
  }

  private tier(n: Node<V>): Recency<V> {
    return n.proven ? this.proven : this.unproven;
  }

  private drop(n: Node<V>, why: DropReason): void {
    this.slots.delete(n.key);
    this.tier(n).unlink(n);
    this.dropped(n.key, n.value, why);
  }
}

export interface PendingSet {
  templateId: number;
  data: Buffer;
  at: number;
  /** Export time (ms) and NetFlow v9 sysUptime of the message the set came in. */
  exportMs: number;
  uptimeMs: number;
}

export class DomainState {
  readonly templates = new Map<number, Template>();
  readonly pending: PendingSet[] = [];
  pendingBytes = 0;
  /** The last message's sequence number and the records it carried (undefined: not trackable). */
  lastSequence: { seq: number; records: number } | undefined;
  /** The exporter's sequence numbers include the message's own records (see trackSequence). */
  sequenceInclusive: boolean | undefined;
  /** Domain-wide sampling rate, and per selector/sampler id, from options data. */
  samplingRate: number | undefined;
  readonly samplingBySelector = new Map<number, number>();
  systemInitMs: number | undefined;
}

type Domains = Map<number, DomainState>;

/**
 * The template state of every exporter (a UDP source address, or an IPFIX/TCP session), keyed by that. An
 * exporter is proven once it sent a valid template; see ExporterTable for who makes way when the table is full.
 * A UDP exporter idle for exporterIdleMs is forgotten; a TCP session's state lasts as long as the session.
 */
export class ExporterStates {
  private readonly table: ExporterTable<Domains>;
  private readonly forgotten: ((exporter: string, why: DropReason) => void)[] = [];
  /**
   * A newcomer the table had no place for (every place proven): it gets state for one message, and keeps it only
   * if that message brings a valid template, so a real exporter starting late is let in and junk is not.
   */
  private candidate: { exporter: string; domains: Domains; expires: boolean } | undefined;

  constructor(readonly limits: Limits = DEFAULT_LIMITS) {
    this.table = new ExporterTable<Domains>(limits.maxExporters, limits.exporterIdleMs, (exporter, _domains, why) => {
      for (const f of this.forgotten) f(exporter, why);
    });
  }

  /** The domain's state, or a reason it cannot have one. */
  domain(exporter: string, domain: number, now: number, transport: 'udp' | 'tcp' = 'udp'): DomainState | 'domain-limit' {
    let domains = this.table.get(exporter, now)?.value;
    if (!domains) {
      domains = new Map();
      const expires = transport === 'udp';
      this.candidate = this.table.add(exporter, domains, now, false, expires) ? undefined : { exporter, domains, expires };
    }
    let state = domains.get(domain);
    if (!state) {
      if (domains.size >= this.limits.maxDomainsPerExporter) return 'domain-limit';
      state = new DomainState();
      domains.set(domain, state);
    }
    return state;
  }

  /** The exporter sent a valid template. */
  validate(exporter: string, now: number): void {
    if (this.candidate?.exporter === exporter) {
      this.table.add(exporter, this.candidate.domains, now, true, this.candidate.expires);
      this.candidate = undefined;
    } else this.table.prove(exporter);
  }

  /** The exporter's last message found no place in the full table and brought no valid template. */
  refused(exporter: string): boolean {
    return this.candidate?.exporter === exporter;
  }

  isValidated(exporter: string): boolean {
    return this.table.peek(exporter)?.proven === true;
  }

  /** Whether the exporter holds a place in the table, for inspection (tests, diagnostics). */
  has(exporter: string): boolean {
    return this.table.peek(exporter) !== undefined;
  }

  /** Forgets the exporters idle at `now`. */
  expire(now: number): void {
    this.table.expire(now);
  }

  /** Calls `f` for each exporter forgotten because it was idle or evicted (not for forget()). */
  onForgotten(f: (exporter: string, why: DropReason) => void): void {
    this.forgotten.push(f);
  }

  /** Forgets an exporter, e.g. when its IPFIX-over-TCP session closes (templates are per session there). */
  forget(exporter: string): void {
    this.table.delete(exporter);
  }

  /** Every domain's state, for inspection (tests, diagnostics). */
  *domains(): IterableIterator<DomainState> {
    for (const domains of this.table.values()) yield* domains.values();
  }

  get size(): { exporters: number; templates: number; pendingBytes: number } {
    let templates = 0;
    let pendingBytes = 0;
    for (const domains of this.table.values()) {
      for (const d of domains.values()) {
        templates += d.templates.size;
        pendingBytes += d.pendingBytes;
      }
    }
    return { exporters: this.table.size, templates, pendingBytes };
  }
}
