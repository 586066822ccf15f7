/**
 * sFlow v5 datagrams and the frames they sample, for the decoder tests: the exporter-side encoder
 * (ingest/sflow/encoder.ts), its headers and samples defaulting to fixed values so datagrams are reproducible
 * and tests name only what they check.
 */
import * as encoder from '../ingest/sflow/encoder';
import type { IfCounters } from '../ingest/sflow/encoder';

export {
  ethernet, extendedSwitch, HEADER_PROTOCOL, type IfCounters, ipv4Packet, ipv6Packet, rawHeader, sampledEthernet, type SampledIp,
  sampledIpv4, sampledIpv6, tcp, tlv, udp, vxlan, Xdr,
} from '../ingest/sflow/encoder';

export interface DatagramOpts {
  /** Default 5. */
  version?: number;
  /** Text or raw bytes (any length, for broken datagrams); default 10.0.255.1. */
  agent?: string | Buffer;
  /** Default 2 for a 16-byte agent address, else 1. */
  agentType?: number;
  subAgent?: number;
  /** Default 1. */
  seq?: number;
  /** Agent uptime in ms; default 123456. */
  uptime?: number;
  /** The announced sample count; default the number of samples given. */
  count?: number;
}

export const datagram = (samples: Buffer[], o: DatagramOpts = {}): Buffer =>
  encoder.datagram({ ...o, agent: o.agent ?? '10.0.255.1', subAgent: o.subAgent ?? 0, seq: o.seq ?? 1, uptime: o.uptime ?? 123456 }, samples);

export interface FlowSampleOpts {
  /** Default 4096 (expanded: 512). */
  rate?: number;
  /** Interface indexes; default 17 and 18 (expanded: 0 and 0). */
  input?: number;
  output?: number;
  records: Buffer[];
}

/** Flow sample (format 1): sequence 77, source id 0x11, sample pool 1000000, no drops. */
export const flowSample = (o: FlowSampleOpts) =>
  encoder.flowSample({ seq: 77, sourceId: 0x11, rate: o.rate ?? 4096, pool: 1_000_000, drops: 0, input: o.input ?? 17, output: o.output ?? 18, records: o.records });

/** Expanded flow sample (format 3): sequence 78, source 0:5000000, sample pool 2000000, 3 drops. */
export const expandedFlowSample = (o: FlowSampleOpts & { inFormat?: number; outFormat?: number }) =>
  encoder.expandedFlowSample({
    seq: 78, sourceType: 0, sourceIndex: 5_000_000, rate: o.rate ?? 512, pool: 2_000_000, drops: 3,
    inFormat: o.inFormat ?? 0, input: o.input ?? 0, outFormat: o.outFormat ?? 0, output: o.output ?? 0, records: o.records,
  });

/** Counter sample (format 2): sequence 5. */
export const counterSample = (sourceId: number, records: Buffer[]) => encoder.counterSample(5, sourceId, records);

/** Expanded counter sample (format 4): sequence 6, source `sourceType`:`index`. */
export const expandedCounterSample = (index: number, records: Buffer[], sourceType = 0) => encoder.expandedCounterSample(6, sourceType, index, records);

/** A 400G port, up, with some traffic in each counter: what ifCounters() fills in for fields not given. */
export const IF_COUNTERS: Omit<IfCounters, 'index'> = {
  type: 6, speed: 400_000_000_000n, direction: 1, status: 3, inOctets: 0x1_2345_6789n, inUcast: 1000, inMulti: 20, inBroad: 3,
  inDiscards: 4, inErrors: 5, outOctets: 98_765_432_101_234n, outUcast: 2000, outMulti: 30, outBroad: 1, outDiscards: 6, outErrors: 7,
};

/** Generic interface counters record (format 1); unknown protocols 999 unless given. */
export const ifCounters = (counters: Partial<IfCounters> & { index: number }) =>
  encoder.ifCounters({ ...IF_COUNTERS, inUnknownProtos: 999, ...counters });

export interface TcpFrameOpts {
  /** Default 10.101.0.10 -> 10.101.0.11, 43512 -> 4791. */
  src?: string; dst?: string; sport?: number; dport?: number;
  /** Default PSH|ACK. */
  flags?: number;
  /** Payload bytes after the TCP header, or their count (zeros); default 1460. */
  payload?: Buffer | number;
  /** An 802.1Q tag. */
  vlan?: number;
}

/** An Ethernet + IPv4 + TCP frame: by default a full-size data segment. */
export const tcpFrame = (o: TcpFrameOpts = {}) =>
  encoder.ethernet(0x0800, encoder.ipv4Packet(o.src ?? '10.101.0.10', o.dst ?? '10.101.0.11', 6, encoder.tcp(o.sport ?? 43512, o.dport ?? 4791, o.flags ?? 0x18, o.payload ?? 1460)),
    { vlan: o.vlan });
