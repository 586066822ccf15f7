/** Building SimFlows: one event per flow record, at the time its exporter sends it (the record's end). */
import type { SimEvent, SimFlow } from '../events';
import { PROTOCOLS } from '../../inventory/schema';

export const { tcp: TCP, udp: UDP } = PROTOCOLS;
/** TCP flags seen over a record: a whole short connection, one that opens or closes in it, or neither. */
export const FLAGS = { whole: 0x1b, opening: 0x1a, closing: 0x19, established: 0x18, syn: 0x02 } as const;
/** RoCEv2: UDP to 4791, the source port an entropy hash of the queue pair (RoCEv2 spec: 0xC000 and up). */
export const ROCE_PORT = 4791;
export const roceSourcePort = (hash: number): number => 0xc000 | (hash & 0x3fff);

/** How a flow reaches eastwatch: what SimFlow carries besides the 5-tuple and counters. */
export type FlowPath = Pick<SimFlow, 'via' | 'exporter' | 'hubble'>;

export type FlowSpec = Pick<SimFlow, 'start' | 'end' | 'src' | 'dst' | 'srcPort' | 'dstPort' | 'protocol' | 'bytes' | 'label'> & {
  /** Average packet size on the wire, for the packet count. */
  packetSize: number;
  /** TCP only; a whole short connection when omitted. */
  tcpFlags?: number;
};

export type FlowEvent = Extract<SimEvent, { kind: 'flow' }>;

export function flowEvent(f: FlowSpec, path: FlowPath): FlowEvent {
  const bytes = Math.max(1, Math.round(f.bytes));
  const flow: SimFlow = {
    start: f.start,
    end: f.end,
    src: f.src,
    dst: f.dst,
    srcPort: f.srcPort,
    dstPort: f.dstPort,
    protocol: f.protocol,
    bytes,
    packets: Math.max(1, Math.ceil(bytes / f.packetSize)),
    tcpFlags: f.protocol === TCP ? f.tcpFlags ?? FLAGS.whole : 0,
    ...path,
  };
  if (f.label !== undefined) flow.label = f.label;
  return { kind: 'flow', time: f.end, flow };
}

/** Flags of one record of a long-lived TCP connection alive over [born, dies). */
export const recordFlags = (start: number, end: number, born: number, dies: number): number =>
  start === born ? (end === dies ? FLAGS.whole : FLAGS.opening) : end === dies ? FLAGS.closing : FLAGS.established;
