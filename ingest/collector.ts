/**
 * The protocol-independent half of a flow collector: decode one export packet, hand the flows to Kafka, and
 * account for everything else (per exporter and reason in metrics, a sample of bad packets in the dead-letter
 * topic). Sockets live in listeners.ts; decoders are pure functions over bytes.
 */
import type { Flow } from '../core/flow';
import type { DeadLetter } from '../core/dead-letter';
import type { Logger } from '../core/log';
import { recordsFailed, recordsIn } from '../core/metrics';
import { PrefixTrie } from '../inventory/prefix-trie';
import { collectorLost, collectorPackets, exportersForgotten, OTHER_EXPORTERS } from './metrics';
import type { InterfaceCounter } from '../core/records';
import { type Decoded, emptyDecoded } from './decoded';
import { decodeIpfix, decodeNetflow9, Protocol } from './ipfix/decoder';
import { ExporterStates, ExporterTable, type Slot } from './ipfix/state';
import { decodeSflow } from './sflow/decoder';

export type CollectorProtocol = Protocol | 'sflow';

export interface Sinks {
  flow(flow: Flow): void;
  counter(counter: InterfaceCounter): void;
}

export interface CollectorOptions {
  states: ExporterStates;
  enterpriseNames: ReadonlyMap<string, string>;
  sinks: Sinks;
  deadLetter?: DeadLetter;
  log: Logger;
  /** CIDRs exporters may send from (EASTWATCH_EXPORTER_CIDRS); absent or empty: any address. */
  exporterCidrs?: readonly string[];
}

const STAGE = 'collector';
/** Idle exporters are swept out this often (one looked up while idle is dropped there and then). */
const SWEEP_MS = 1000;

/** The protocol of an export packet, from its version field. */
export function sniffProtocol(packet: Buffer): CollectorProtocol | undefined {
  if (packet.length >= 4 && packet.readUInt32BE(0) === 5) return 'sflow';
  if (packet.length >= 2 && packet.readUInt16BE(0) === 10) return 'ipfix';
  if (packet.length >= 2 && packet.readUInt16BE(0) === 9) return 'netflow9';
  return undefined;
}


export class Collector {
  /** The next sFlow sequence number per agent and sub-agent; proven once a datagram of theirs decoded cleanly. */
  private readonly sflowNext: ExporterTable<number>;
  /** Exporters with their own metric series, each with the label values used under its name (to remove them). */
  private readonly named: ExporterTable<Series>;
  private readonly allowed: PrefixTrie<true> | undefined;
  private sweptAt = -Infinity;

  constructor(private readonly opts: CollectorOptions) {
    const { maxExporters, exporterIdleMs } = opts.states.limits;
    this.sflowNext = new ExporterTable(maxExporters, exporterIdleMs);
    this.named = new ExporterTable(maxExporters, exporterIdleMs, removeSeries);
    this.allowed = opts.exporterCidrs?.length ? new PrefixTrie(opts.exporterCidrs.map((c) => [c, true] as const)) : undefined;
    opts.states.onForgotten((_exporter, why) => exportersForgotten.inc({ reason: why }));
  }

  get states(): ExporterStates {
    return this.opts.states;
  }

  /** Whether the allow-list lets `exporter` in; a refusal is counted. */
  admits(exporter: string): boolean {
    if (this.allowed === undefined || this.allowed.lookup(exporter) !== undefined) return true;
    recordsFailed.inc({ stage: STAGE, source: OTHER_EXPORTERS, reason: 'exporter-not-allowed' });
    return false;
  }

  /**
   * Handles one export packet from `exporter`. `session` keys template state: the exporter address for UDP,
   * address and port for a TCP session (whose templates die with it).
   */
  handle(protocol: CollectorProtocol, packet: Buffer, exporter: string, transport: 'udp' | 'tcp' = 'udp', session = exporter, now = Date.now()): Decoded {
    if (now - this.sweptAt >= SWEEP_MS || now < this.sweptAt) this.sweep(now);
    let named = this.named.get(exporter, now);
    // A named exporter passed the allow-list already: the common case costs one Map lookup.
    if (named === undefined && !this.admits(exporter)) return emptyDecoded();
    const out = this.decode(protocol, packet, exporter, transport, session, now);
    if (named === undefined || !named.proven) named = this.name(protocol, exporter, session, out, named, now);
    const source = named === undefined ? OTHER_EXPORTERS : exporter;
    if (named && !named.value.protocols.has(protocol)) {
      named.value.protocols.add(protocol);
      // The loss series exists from the first packet at 0: a rate over it is 0, not absent, until loss comes.
      collectorLost.inc({ protocol, exporter }, 0);
    }
    collectorPackets.inc({ protocol, exporter: source });
    for (const f of out.flows) this.opts.sinks.flow(f);
    for (const c of out.counters) this.opts.sinks.counter(c);
    if (out.flows.length > 0) recordsIn.inc({ stage: STAGE, source: protocol }, out.flows.length);
    if (out.lost > 0) collectorLost.inc({ protocol, exporter: source }, out.lost);
    for (const e of out.errors) {
      recordsFailed.inc({ stage: STAGE, source, reason: e.reason });
      named?.value.reasons.add(e.reason);
      // The sample keeps the address: it is rate-limited per reason, and forensics want it.
      void this.opts.deadLetter?.send({ stage: STAGE, source: exporter, reason: e.reason, detail: e.detail, payload: packet, origin: `${protocol}/${transport}/${exporter}` });
    }
    if (out.errors.length > 0) this.opts.log.debug({ exporter, protocol, errors: out.errors }, 'bad export packet');
    return out;
  }

  /** Drops the template state of a closed IPFIX-over-TCP session. */
  forget(session: string): void {
    this.opts.states.forget(session);
  }

  /**
   * The exporter's metric series slot once it has earned one: it sent a valid template or sFlow datagram, or the
   * allow-list names it. Undefined: it counts under "other".
   */
  private name(protocol: CollectorProtocol, exporter: string, session: string, out: Decoded, named: Slot<Series> | undefined, now: number): Slot<Series> | undefined {
    const proven = protocol === 'sflow' ? out.errors.length === 0 : this.opts.states.isValidated(session);
    if (named !== undefined) {
      if (proven) this.named.prove(exporter);
      return named;
    }
    if (!proven && this.allowed === undefined) return undefined;
    return this.named.add(exporter, { protocols: new Set(), reasons: new Set() }, now, proven);
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    this.opts.states.expire(now);
    this.named.expire(now);
    this.sflowNext.expire(now);
  }

  private decode(protocol: CollectorProtocol, packet: Buffer, exporter: string, transport: 'udp' | 'tcp', session: string, now: number): Decoded {
    if (protocol === 'sflow') {
      const out = decodeSflow(packet, exporter, now);
      if (out.agent !== undefined && out.sequence !== undefined) {
        const key = `${out.agent}/${out.subAgentId}`;
        const next = (out.sequence + 1) >>> 0;
        const clean = out.errors.length === 0;
        const slot = this.sflowNext.get(key, now);
        if (slot === undefined) this.sflowNext.add(key, next, now, clean);
        else {
          const gap = (out.sequence - slot.value) >>> 0;
          if (gap > 0 && gap < 0x80000000) out.lost += gap;
          slot.value = next;
          if (clean && !slot.proven) this.sflowNext.prove(key);
        }
      }
      return out;
    }
    const ctx = { exporter, now, states: this.opts.states, transport, enterpriseNames: this.opts.enterpriseNames, session };
    return protocol === 'ipfix' ? decodeIpfix(packet, ctx) : decodeNetflow9(packet, ctx);
  }
}

interface Series {
  protocols: Set<CollectorProtocol>;
  reasons: Set<string>;
}

/** Removes a named exporter's series, so the bound on them holds over time. */
function removeSeries(exporter: string, { protocols, reasons }: Series): void {
  for (const protocol of protocols) {
    collectorPackets.remove({ protocol, exporter });
    collectorLost.remove({ protocol, exporter });
  }
  for (const reason of reasons) recordsFailed.remove({ stage: STAGE, source: exporter, reason });
}
