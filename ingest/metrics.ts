/** Metrics of the flow collectors, per protocol and exporter. */
import { Counter } from 'prom-client';
import { registry } from '../core/metrics';

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
