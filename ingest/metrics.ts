/**
 * Metrics of the flow collectors, per protocol and exporter. Only exporters that sent a valid template or sFlow
 * datagram, or that the allow-list names, get their own `exporter` value (at most the exporter limit of them);
 * the rest count under "other", so forged source addresses cannot multiply the series.
 */
import { Counter, Gauge } from 'prom-client';
import { registry } from '../core/metrics';
import type { ExporterStates } from './ipfix/state';
import { udpSocketDrops } from './socket-drops';

/** The `exporter` (or `source`) label value of every exporter without its own series. */
export const OTHER_EXPORTERS = 'other';

export const collectorPackets = new Counter({
  name: 'eastwatch_collector_packets_total',
  help: 'Export packets (datagrams, TCP messages) received, by protocol and exporter',
  labelNames: ['protocol', 'exporter'] as const,
  registers: [registry],
});

export const collectorLost = new Counter({
  name: 'eastwatch_collector_lost_total',
  help: 'Lost on the way from the exporter, from sequence gaps: records for IPFIX, export packets for NetFlow v9 and sFlow',
  labelNames: ['protocol', 'exporter'] as const,
  registers: [registry],
});

export const exportersForgotten = new Counter({
  name: 'eastwatch_collector_exporters_forgotten_total',
  help: 'Exporters (UDP addresses, IPFIX/TCP sessions) whose template state was dropped: idle, or evicted from the full exporter table',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const tcpSessionsClosed = new Counter({
  name: 'eastwatch_collector_tcp_sessions_closed_total',
  help: 'IPFIX/TCP sessions the collector closed: idle, session-limit (no place for them), evicted (their state was), out-of-step',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/** The template state of this process's collectors, read when scraped. */
const watched = new Set<ExporterStates>();

/** Counts `states` in the exporter and template gauges until the returned function is called. */
export function watchStates(states: ExporterStates): () => void {
  watched.add(states);
  return () => watched.delete(states);
}

const sizes = () => [...watched].map((s) => s.size);

export const collectorExporters = new Gauge({
  name: 'eastwatch_collector_exporters',
  help: 'IPFIX/NetFlow v9 exporters (UDP addresses, TCP sessions) the collectors hold template state for',
  registers: [registry],
  collect() {
    this.set(sizes().reduce((n, s) => n + s.exporters, 0));
  },
});

export const collectorTemplates = new Gauge({
  name: 'eastwatch_collector_templates',
  help: 'IPFIX/NetFlow v9 templates the collectors hold, over every exporter and observation domain',
  registers: [registry],
  collect() {
    this.set(sizes().reduce((n, s) => n + s.templates, 0));
  },
});

/** The UDP sockets of this process's collectors, and the kernel's drop count on each when last read. */
const udpSockets = new Set<{ protocol: string; host: string; port: number; seen: number }>();

/** Counts the kernel's drops on the UDP socket bound to host:port until the returned function is called. */
export function watchUdpSocket(protocol: string, host: string, port: number): () => void {
  const s = { protocol, host, port, seen: udpSocketDrops(host, port) ?? 0 };
  udpSockets.add(s);
  return () => udpSockets.delete(s);
}

export const collectorReceiveDrops = new Counter({
  name: 'eastwatch_collector_receive_drops_total',
  help: "Datagrams a collector's UDP socket dropped before decoding: where=kernel, its receive buffer full (Linux, /proc/net/udp); where=reader, the reader thread's backlog full (the main thread behind)",
  labelNames: ['protocol', 'where'] as const,
  registers: [registry],
  collect() {
    for (const s of udpSockets) {
      const drops = udpSocketDrops(s.host, s.port);
      if (drops === undefined || drops <= s.seen) continue;
      this.inc({ protocol: s.protocol, where: 'kernel' }, drops - s.seen);
      s.seen = drops;
    }
  },
});
