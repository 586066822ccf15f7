/**
 * A simulated flow as the Flow a collector would hand to enrichment (raw, un-enriched), for the pipeline
 * benchmark and tests that produce straight into Kafka instead of going through the wire. Hubble and proxy
 * flows go through their line and eastwatch's own parser, so they are what the followed files give; DPU flows
 * are what the IPFIX decoder makes of the emitter's records. A switch flow is one Flow of its whole traffic
 * (sampling rate 1) where the sFlow path gives one Flow per sample, 1 packet of the frame's length each.
 */
import type { Flow } from '../../core/flow';
import { normalizeHubble } from '../../ingest/hubble/normalize';
import { parseSquidLine } from '../../ingest/proxy/squid';
import type { SimFlow } from '../events';
import type { ExporterAddresses } from './emitter';
import { hubbleLine } from './hubble';
import { DOMAIN } from './ipfix';
import { switchPort } from './sflow';
import { squidLine } from './squid';

/** `receivedAt` defaults to the flow's end: an exporter sends a flow once it is over. */
export function toFlow(f: SimFlow, addresses: ExporterAddresses, receivedAt = f.end): Flow {
  const common = {
    time_received: receivedAt, time_start: f.start, time_end: f.end, src_addr: f.src, dst_addr: f.dst,
    src_port: f.srcPort, dst_port: f.dstPort, protocol: f.protocol, bytes: f.bytes, packets: f.packets, tcp_flags: f.tcpFlags, sampling_rate: 1,
  };
  switch (f.via) {
    case 'dpu':
      return { ...common, source_kind: 'ipfix', exporter_address: addresses.dpu(exporterOf(f)), observation_domain: DOMAIN, observation_point: 'dpu', direction: 'egress' };
    case 'switch':
      return {
        ...common, source_kind: 'sflow', exporter_address: addresses.switch(exporterOf(f)), observation_domain: 0, observation_point: 'switch',
        direction: 'unknown', in_if: switchPort(f.src), out_if: switchPort(f.dst), vlan: 0, vni: 0,
      };
    case 'hubble':
      return parsed(normalizeHubble(hubbleLine(f, 0), receivedAt), f);
    case 'proxy':
      // the proxy is the flow's destination: the address EASTWATCH_PROXY_ADDRESS names
      return parsed(parseSquidLine(squidLine(f), f.dst, receivedAt), f);
  }
}

function exporterOf(f: SimFlow): string {
  if (f.exporter === undefined) throw new Error(`${f.via} flow ${f.src} -> ${f.dst} names no exporter`);
  return f.exporter;
}

function parsed(r: { flow?: Flow; error?: { reason: string; detail: string } }, f: SimFlow): Flow {
  if (!r.flow) throw new Error(`${f.via} flow ${f.src} -> ${f.dst} does not parse back: ${r.error?.reason ?? 'empty'} ${r.error?.detail ?? ''}`);
  return r.flow;
}
