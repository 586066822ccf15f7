/**
 * The parts of a Cilium Hubble flow eastwatch reads, in the JSON that `hubble observe -o json` and the Hubble
 * exporter write: one GetFlowsResponse / ExportEvent per line, `{"flow": {...}, "node_name": "...", "time": "..."}`.
 * Hubble marshals with protojson using the proto field names (flow.proto: "IP", "l4", "TCP", "Type", "Summary",
 * "source_port", "pod_name"...); the lowerCamelCase names default protojson writes ("sourcePort", "podName") are
 * accepted too, the proto name winning when both are present. Protojson omits zero values (a missing port is 0,
 * a missing rcode is NOERROR), writes enums as names (numbers when the writer's proto does not know the value)
 * and 64-bit integers as strings. Unknown fields are stripped, since every Cilium release adds some; the fields
 * eastwatch reads are type-checked, so a wrong type rejects the line rather than storing garbage.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** Enum value names by number, from flow.proto. */
export const VERDICT_NAMES = ['VERDICT_UNKNOWN', 'FORWARDED', 'DROPPED', 'ERROR', 'AUDIT', 'REDIRECTED', 'TRACED', 'TRANSLATED'];
export const TRAFFIC_DIRECTION_NAMES = ['TRAFFIC_DIRECTION_UNKNOWN', 'INGRESS', 'EGRESS'];
export const L7_TYPE_NAMES = ['UNKNOWN_L7_TYPE', 'REQUEST', 'RESPONSE', 'SAMPLE'];

/** Milliseconds since the epoch of an RFC 3339 timestamp (protojson writes 0, 3, 6 or 9 fraction digits). */
export function rfc3339Millis(s: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`);
  // from the digits, not floating point: 0.567 * 1000 is 566.99...
  const ms = whole + (m[3] ? Number((m[3] + '00').slice(0, 3)) : 0);
  return Number.isFinite(ms) && ms >= 0 && ms <= 8.64e15 ? ms : undefined;
}

/** Renames lowerCamelCase keys to the proto names before validation. */
function aliased<T extends z.core.$ZodLooseShape>(shape: T, aliases: Record<string, keyof T & string>) {
  return z.preprocess((v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    let out: Record<string, unknown> | undefined;
    for (const [camel, proto] of Object.entries(aliases)) {
      if (Object.hasOwn(v, camel) && !Object.hasOwn(v, proto)) {
        out ??= { ...(v as Record<string, unknown>) };
        out[proto] = out[camel];
        delete out[camel];
      }
    }
    return out ?? v;
  }, z.object(shape));
}

const uint32 = z.number().int().min(0).max(0xffffffff);
const int32 = z.number().int().min(-0x80000000).max(0x7fffffff);
/** uint64 in protojson is a decimal string; some writers use numbers. */
const uint64 = z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]);
/** flow.proto types ports as uint32; real ones fit the Flow's UInt16. */
const port = z.number().int().min(0).max(0xffff);
const protoEnum = z.union([z.string(), z.number().int().min(0)]);
const strings = z.array(z.string());
const timestamp = z.string().refine((s) => rfc3339Millis(s) !== undefined, { message: 'not an RFC 3339 timestamp after 1970' });
/** Protojson omits empty strings; an emitted "" (EmitUnpopulated) counts as absent. */
const address = z.string().refine((s) => s === '' || isIP(s) !== 0, { message: 'not an IPv4 or IPv6 address' });

const ports = { source_port: port.optional(), destination_port: port.optional() };
const portAliases = { sourcePort: 'source_port', destinationPort: 'destination_port' } as const;
/** ICMP type and code are one byte each on the wire (eastwatch packs them into dst_port). */
const icmp = z.object({ type: z.number().int().min(0).max(255).optional(), code: z.number().int().min(0).max(255).optional() });
const flag = z.boolean().optional();

const Endpoint = aliased(
  {
    ID: uint32.optional(),
    identity: uint32.optional(),
    cluster_name: z.string().optional(),
    namespace: z.string().optional(),
    labels: strings.optional(),
    pod_name: z.string().optional(),
    workloads: z.array(z.object({ name: z.string().optional(), kind: z.string().optional() })).optional(),
  },
  { podName: 'pod_name', clusterName: 'cluster_name' },
);

const Layer4 = z.object({
  TCP: aliased(
    {
      ...ports,
      flags: z
        .object({ FIN: flag, SYN: flag, RST: flag, PSH: flag, ACK: flag, URG: flag, ECE: flag, CWR: flag, NS: flag })
        .optional(),
    },
    portAliases,
  ).optional(),
  UDP: aliased(ports, portAliases).optional(),
  SCTP: aliased(ports, portAliases).optional(),
  ICMPv4: icmp.optional(),
  ICMPv6: icmp.optional(),
});

const Layer7 = aliased(
  {
    type: protoEnum.optional(),
    latency_ns: uint64.optional(),
    dns: aliased(
      {
        query: z.string().optional(),
        ips: strings.optional(),
        ttl: uint32.optional(),
        cnames: strings.optional(),
        observation_source: z.string().optional(),
        rcode: uint32.optional(),
        qtypes: strings.optional(),
        rrtypes: strings.optional(),
      },
      { observationSource: 'observation_source' },
    ).optional(),
    http: z
      .object({
        code: uint32.optional(),
        method: z.string().optional(),
        url: z.string().optional(),
        protocol: z.string().optional(),
        headers: z.array(z.object({ key: z.string().optional(), value: z.string().optional() })).optional(),
      })
      .optional(),
    kafka: aliased(
      {
        error_code: int32.optional(),
        api_version: int32.optional(),
        api_key: z.string().optional(),
        correlation_id: int32.optional(),
        topic: z.string().optional(),
      },
      { errorCode: 'error_code', apiVersion: 'api_version', apiKey: 'api_key', correlationId: 'correlation_id' },
    ).optional(),
  },
  { latencyNs: 'latency_ns' },
);

export const HubbleFlowSchema = aliased(
  {
    time: timestamp.optional(),
    uuid: z.string().optional(),
    verdict: protoEnum.optional(),
    /** Deprecated numeric form of drop_reason_desc; Hubble still writes both. */
    drop_reason: uint32.optional(),
    drop_reason_desc: protoEnum.optional(),
    ethernet: z.object({ source: z.string().optional(), destination: z.string().optional() }).optional(),
    IP: z
      .object({ source: address.optional(), destination: address.optional(), ipVersion: protoEnum.optional(), encrypted: z.boolean().optional() })
      .optional(),
    l4: Layer4.optional(),
    source: Endpoint.optional(),
    destination: Endpoint.optional(),
    Type: protoEnum.optional(),
    node_name: z.string().optional(),
    source_names: strings.optional(),
    destination_names: strings.optional(),
    l7: Layer7.optional(),
    /** Deprecated: false is indistinguishable from absent. */
    reply: z.boolean().optional(),
    /** A google.protobuf.BoolValue: a plain boolean in protojson, {value} from struct encoders ({} is false). */
    is_reply: z.union([z.boolean(), z.object({ value: z.boolean().optional() })]).optional(),
    traffic_direction: protoEnum.optional(),
    Summary: z.string().optional(),
  },
  {
    dropReason: 'drop_reason',
    dropReasonDesc: 'drop_reason_desc',
    nodeName: 'node_name',
    sourceNames: 'source_names',
    destinationNames: 'destination_names',
    isReply: 'is_reply',
    trafficDirection: 'traffic_direction',
  },
);

/** One line of `hubble observe -o json` (GetFlowsResponse) or of the exporter's file (ExportEvent) carrying a flow. */
export const HubbleLineSchema = aliased(
  { flow: HubbleFlowSchema, node_name: z.string().optional(), time: timestamp.optional() },
  { nodeName: 'node_name' },
);

export type HubbleFlow = z.output<typeof HubbleFlowSchema>;
export type HubbleLine = z.output<typeof HubbleLineSchema>;
