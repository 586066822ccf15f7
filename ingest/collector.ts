/**
 * The protocol-independent half of a flow collector: decode one export packet, hand the flows to Kafka, and
 * account for everything else (per exporter and reason in metrics, a sample of bad packets in the dead-letter
 * topic). Sockets live in listeners.ts; decoders are pure functions over bytes.
 */
import type { Flow } from '../core/flow';
import type { DeadLetter } from '../core/dead-letter';
import type { Logger } from '../core/log';
import { recordsFailed, recordsIn } from '../core/metrics';
import { collectorLost, collectorPackets } from './metrics';
import type { InterfaceCounter } from '../core/records';
import type { Decoded } from './decoded';
import { decodeIpfix, decodeNetflow9, Protocol } from './ipfix/decoder';
import { ExporterStates } from './ipfix/state';
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
}

const STAGE = 'collector';

/** The protocol of an export packet, from its version field. */
export function sniffProtocol(packet: Buffer): CollectorProtocol | undefined {
  if (packet.length >= 4 && packet.readUInt32BE(0) === 5) return 'sflow';
  if (packet.length >= 2 && packet.readUInt16BE(0) === 10) return 'ipfix';
  if (packet.length >= 2 && packet.readUInt16BE(0) === 9) return 'netflow9';
  return undefined;
}


export class Collector {
  /** sFlow sequence numbers per agent and sub-agent. */
  private readonly sflowNext = new Map<string, number>();

  constructor(private readonly opts: CollectorOptions) {}

  /**
   * Handles one export packet from `exporter`. `session` keys template state: the exporter address for UDP,
   * address and port for a TCP session (whose templates die with it).
   */
  handle(protocol: CollectorProtocol, packet: Buffer, exporter: string, transport: 'udp' | 'tcp' = 'udp', session = exporter, now = Date.now()): Decoded {
    collectorPackets.inc({ protocol, exporter });
    const out = this.decode(protocol, packet, exporter, transport, session, now);
    for (const f of out.flows) this.opts.sinks.flow(f);
    for (const c of out.counters) this.opts.sinks.counter(c);
    if (out.flows.length > 0) recordsIn.inc({ stage: STAGE, source: protocol }, out.flows.length);
    if (out.lost > 0) collectorLost.inc({ protocol, exporter }, out.lost);
    for (const e of out.errors) {
      recordsFailed.inc({ stage: STAGE, source: exporter, reason: e.reason });
      void this.opts.deadLetter?.send({ stage: STAGE, source: exporter, reason: e.reason, detail: e.detail, payload: packet, origin: `${protocol}/${transport}/${exporter}` });
    }
    if (out.errors.length > 0) this.opts.log.debug({ exporter, protocol, errors: out.errors }, 'bad export packet');
    return out;
  }

  /** Drops the template state of a closed IPFIX-over-TCP session. */
  forget(session: string): void {
    this.opts.states.forget(session);
  }

  private decode(protocol: CollectorProtocol, packet: Buffer, exporter: string, transport: 'udp' | 'tcp', session: string, now: number): Decoded {
    if (protocol === 'sflow') {
      const out = decodeSflow(packet, exporter, now);
      if (out.agent !== undefined && out.sequence !== undefined) {
        const key = `${out.agent}/${out.subAgentId}`;
        const expected = this.sflowNext.get(key);
        if (expected !== undefined) {
          const gap = (out.sequence - expected) >>> 0;
          if (gap > 0 && gap < 0x80000000) out.lost += gap;
        }
        if (this.sflowNext.size < this.opts.states.limits.maxExporters || this.sflowNext.has(key)) this.sflowNext.set(key, (out.sequence + 1) >>> 0);
      }
      return out;
    }
    const ctx = { exporter, now, states: this.opts.states, transport, enterpriseNames: this.opts.enterpriseNames, session };
    return protocol === 'ipfix' ? decodeIpfix(packet, ctx) : decodeNetflow9(packet, ctx);
  }
}
