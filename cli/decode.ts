/**
 * `eastwatch decode FILE.pcap`: the flow records in a capture's UDP payloads (IPFIX, NetFlow v9, sFlow), as
 * JSON lines on stdout, templates learned in capture order. How operators check an exporter, and how tests
 * compare eastwatch with a reference decoder. A summary of packets and errors goes to stderr.
 */
import { readFileSync } from 'node:fs';
import type { Flow } from '../core/flow';
import type { Logger } from '../core/log';
import type { InterfaceCounter } from '../core/records';
import { Collector, CollectorProtocol, sniffProtocol } from '../ingest/collector';
import { DEFAULT_LIMITS, ExporterStates } from '../ingest/ipfix/state';
import { emptyUdpStats, udpPayloads } from '../ingest/pcap';

export interface DecodeSummary {
  packets: number;
  flows: number;
  counters: number;
  lost: number;
  errors: Record<string, number>;
  skipped: number;
}

export function decodeCapture(file: string, log: Logger, emit: (kind: 'flow' | 'counter', record: Flow | InterfaceCounter) => void,
  enterpriseNames: ReadonlyMap<string, string> = new Map()): DecodeSummary {
  const summary: DecodeSummary = { packets: 0, flows: 0, counters: 0, lost: 0, errors: {}, skipped: 0 };
  const collector = new Collector({
    states: new ExporterStates(DEFAULT_LIMITS),
    enterpriseNames,
    sinks: { flow: (f) => emit('flow', f), counter: (c) => emit('counter', c) },
    log,
  });
  const stats = emptyUdpStats();
  for (const d of udpPayloads(readFileSync(file), stats)) {
    const protocol: CollectorProtocol | undefined = sniffProtocol(d.payload);
    if (!protocol) {
      summary.skipped++;
      continue;
    }
    summary.packets++;
    const out = collector.handle(protocol, d.payload, d.srcAddr, 'udp', d.srcAddr, Math.floor(d.timeMs));
    summary.flows += out.flows.length;
    summary.counters += out.counters.length;
    summary.lost += out.lost;
    for (const e of out.errors) summary.errors[e.reason] = (summary.errors[e.reason] ?? 0) + 1;
  }
  return summary;
}
