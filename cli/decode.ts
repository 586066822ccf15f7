/**
 * `eastwatch decode FILE.pcap`: the flow records in a capture's UDP payloads (IPFIX, NetFlow v9, sFlow), as
 * JSON lines on stdout, templates learned in capture order. How operators check an exporter, and how tests
 * compare eastwatch with a reference decoder. The capture is read as a stream, so its size is not bounded by
 * memory. A summary on stderr says what was decoded and what was passed over, why, and where the first of each
 * reason starts in the file.
 */
import { closeSync, openSync } from 'node:fs';
import { UserError } from '../core/error-text';
import type { Flow } from '../core/flow';
import type { Logger } from '../core/log';
import type { InterfaceCounter } from '../core/records';
import { Collector, CollectorProtocol, sniffProtocol } from '../ingest/collector';
import { DEFAULT_LIMITS, ExporterStates } from '../ingest/ipfix/state';
import { CaptureStats, type Skipped, tally, udpPayloads } from '../ingest/pcap';

export interface DecodeSummary {
  /** Packet records in the capture. */
  packets: number;
  /** IPFIX, NetFlow v9 and sFlow datagrams decoded. */
  datagrams: number;
  flows: number;
  counters: number;
  /** Missing by sequence number: records (IPFIX) or datagrams (NetFlow v9, sFlow). */
  lost: number;
  /** What the flow decoders rejected in those datagrams (a whole datagram or part of it), by reason. */
  errors: Record<string, Skipped>;
  /** What never reached a flow decoder, by reason: the capture reader's (SkipReason) and not-flow-protocol. */
  skipped: Record<string, Skipped>;
}

export function decodeCapture(file: string, log: Logger, emit: (kind: 'flow' | 'counter', record: Flow | InterfaceCounter) => void,
  enterpriseNames: ReadonlyMap<string, string> = new Map()): DecodeSummary {
  const collector = new Collector({
    states: new ExporterStates(DEFAULT_LIMITS),
    enterpriseNames,
    sinks: { flow: (f) => emit('flow', f), counter: (c) => emit('counter', c) },
    log,
  });
  const stats = new CaptureStats();
  const summary: DecodeSummary = { packets: 0, datagrams: 0, flows: 0, counters: 0, lost: 0, errors: {}, skipped: stats.skipped };
  const fd = userFacing(file, () => openSync(file, 'r'));
  try {
    for (const d of userFacing(file, () => udpPayloads(fd, stats))) {
      const protocol: CollectorProtocol | undefined = sniffProtocol(d.payload);
      if (!protocol) {
        stats.skip('not-flow-protocol', d.offset);
        continue;
      }
      summary.datagrams++;
      const out = collector.handle(protocol, d.payload, d.srcAddr, 'udp', d.srcAddr, Math.floor(d.timeMs));
      summary.flows += out.flows.length;
      summary.counters += out.counters.length;
      summary.lost += out.lost;
      for (const e of out.errors) tally(summary.errors, e.reason, d.offset);
    }
  } finally {
    closeSync(fd);
  }
  summary.packets = stats.packets;
  return summary;
}

/** A file that cannot be opened or is no capture is the operator's to fix: one line naming it, no stack. */
function userFacing<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof UserError || (e as NodeJS.ErrnoException).code) throw new UserError(`${file}: ${(e as Error).message}`);
    throw e;
  }
}
