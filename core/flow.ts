/**
 * The Flow: eastwatch's normalized east-west flow record, the one source of truth for its TypeScript type,
 * its validation, its ClickHouse columns (see core/migrations) and its Avro wire encoding (core/codec).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { column } from './columns';

export const SOURCE_KINDS = ['ipfix', 'netflow9', 'sflow', 'hubble', 'proxy'] as const;
export const OBSERVATION_POINTS = ['dpu', 'switch', 'hubble', 'proxy'] as const;
export const DIRECTIONS = ['unknown', 'ingress', 'egress'] as const;
/** Hubble's verdicts, plus DENIED for a request an egress proxy refused. */
export const VERDICTS = [
  'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED', 'DENIED',
] as const;

const uint = (bits: 8 | 16 | 32) => z.number().int().min(0).max(2 ** bits - 1);
const count = () => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const millis = () => z.number().int().min(0).max(8.64e15);
const ip = () => z.string().refine((s) => isIP(s) !== 0, { message: 'not an IPv4 or IPv6 address' });
const text = (max = 1024) => z.string().max(max);
const lowText = (max = 256) => z.string().max(max);

type Prefixed<S extends string, T> = { [K in keyof T as `${S}_${K & string}`]: T[K] };

/** Kubernetes and enrichment context of one endpoint: the same columns exist for src_ and dst_. */
function endpoint<S extends 'src' | 'dst'>(side: S) {
  const who = side === 'src' ? 'source' : 'destination';
  const fields = {
    namespace: column(lowText().optional(), 'LowCardinality(String)', `Kubernetes namespace of the ${who} pod`),
    pod: column(text(253).optional(), 'String', `Kubernetes pod name of the ${who}`),
    workload: column(text(253).optional(), 'LowCardinality(String)', `Owning workload (Deployment, Job, PyTorchJob...) of the ${who} pod`),
    labels: column(
      z.record(z.string().max(317), z.string().max(1024)).optional(),
      'Map(LowCardinality(String), String)',
      `Kubernetes labels of the ${who} pod`,
    ),
    identity: column(uint(32).optional(), 'Nullable(UInt32)', `Cilium security identity of the ${who}`),
    names: column(z.array(text(253)).max(64).optional(), 'Array(String)', `DNS names known for the ${who} address`),
    node: column(lowText().optional(), 'LowCardinality(String)', `Inventory node owning the ${who} address (enrichment)`),
    fabric: column(lowText(64).optional(), 'LowCardinality(String)', `Fabric of the ${who} address: frontend, backend, oob (enrichment)`),
    rail: column(uint(8).optional(), 'Nullable(UInt8)', `Back-end rail number of the ${who} address (enrichment)`),
    zone: column(lowText(64).optional(), 'LowCardinality(String)', `Zone of the ${who} address; internet when no zone matches (enrichment)`),
    job: column(lowText(128).optional(), 'LowCardinality(String)', `Job the ${who} node or pod was allocated to at flow time (enrichment)`),
  };
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [`${side}_${k}`, v])) as Prefixed<S, typeof fields>;
}

export const FlowSchema = z.strictObject({
  time_received: column(millis(), 'DateTime64(3)', 'When eastwatch received the record (ms since epoch)'),
  time_start: column(millis(), 'DateTime64(3)', 'First packet of the flow (ms since epoch)'),
  time_end: column(millis(), 'DateTime64(3)', 'Last packet of the flow (ms since epoch)'),
  source_kind: column(z.enum(SOURCE_KINDS), 'LowCardinality(String)', 'Protocol the record arrived in: ipfix, netflow9, sflow, hubble, proxy'),
  exporter_address: column(ip(), 'IPv6', 'Address of the exporter (DPU, switch, Hubble node, proxy) that sent the record'),
  observation_domain: column(uint(32), 'UInt32', 'IPFIX observation domain / NetFlow source id / sFlow sub-agent'),
  observation_point: column(z.enum(OBSERVATION_POINTS), 'LowCardinality(String)', 'Where the flow was observed: dpu, switch, hubble, proxy'),
  src_addr: column(ip(), 'IPv6', 'Source address (IPv4 stored IPv4-mapped)'),
  dst_addr: column(ip(), 'IPv6', 'Destination address (IPv4 stored IPv4-mapped)'),
  src_port: column(uint(16), 'UInt16', 'Source transport port (0 when none)'),
  dst_port: column(uint(16), 'UInt16', 'Destination transport port (0 when none)'),
  protocol: column(uint(8), 'UInt8', 'IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)'),
  bytes: column(count().nullable(), 'Nullable(UInt64)', 'Octets as exported, before sampling scale-up; NULL when the source does not count (Hubble)'),
  packets: column(count().nullable(), 'Nullable(UInt64)', 'Packets as exported, before sampling scale-up; NULL when the source does not count'),
  tcp_flags: column(uint(16), 'UInt16', 'Union of TCP flags seen (tcpControlBits)'),
  sampling_rate: column(uint(32).min(1), 'UInt32', '1-in-N packet sampling applied by the exporter; multiply bytes and packets by it'),
  direction: column(z.enum(DIRECTIONS), 'LowCardinality(String)', 'Direction relative to the observation point: unknown, ingress, egress'),
  in_if: column(uint(32).optional(), 'UInt32', 'Ingress interface index at the exporter (ingressInterface); 0 when unknown'),
  out_if: column(uint(32).optional(), 'UInt32', 'Egress interface index at the exporter (egressInterface); 0 when unknown'),
  vlan: column(uint(16).optional(), 'UInt16', 'VLAN id (vlanId / dot1qVlanId); 0 when none'),
  vni: column(uint(32).optional(), 'UInt32', 'VXLAN network identifier of the overlay segment; 0 when none'),
  next_hop: column(ip().optional(), 'Nullable(IPv6)', 'IP next hop the exporter forwarded the flow to (IPv4 stored IPv4-mapped); NULL when none or unspecified (0.0.0.0, ::)'),
  ...endpoint('src'),
  ...endpoint('dst'),
  verdict: column(z.enum(VERDICTS).optional(), 'LowCardinality(String)', 'Policy verdict: FORWARDED, DROPPED, DENIED...; empty when the source has none'),
  drop_reason: column(lowText().optional(), 'LowCardinality(String)', 'Drop reason, e.g. POLICY_DENIED'),
  is_reply: column(z.boolean().optional(), 'Nullable(Bool)', 'The flow is the reply direction of a connection; NULL when unknown'),
  l7_summary: column(text(2048).optional(), 'String', 'L7 summary where the source has one (DNS query, HTTP request line)'),
  proxy_host: column(text(253).optional(), 'String', 'Destination host requested through the egress proxy'),
  proxy_method: column(lowText(32).optional(), 'LowCardinality(String)', 'Proxy request method (CONNECT, GET...)'),
  proxy_status: column(uint(16).optional(), 'Nullable(UInt16)', 'Proxy response status code'),
  enterprise_fields: column(
    z.record(z.string().max(128), z.string().max(4096)).optional(),
    'Map(LowCardinality(String), String)',
    'Enterprise-specific IPFIX elements the registry does not know, as "PEN.id" (or their configured name) to hex bytes',
  ),
});

export type Flow = z.infer<typeof FlowSchema>;
