/**
 * One Hubble flow (a line of `hubble observe -o json` or of the exporter's file) to one Flow. Never throws:
 * a line that cannot become a Flow yields an error with a stable reason, as the packet decoders do.
 */
import type { Flow } from '../../core/flow';
import { VERDICTS } from '../../core/flow';
import { zodDetail } from '../../core/error-text';
import type { DecodeError } from '../decoded';
import {
  HubbleLineSchema, L7_TYPE_NAMES, rfc3339Millis, TRAFFIC_DIRECTION_NAMES, VERDICT_NAMES,
  type HubbleFlow,
} from './schema';

export interface HubbleResult {
  flow?: Flow;
  error?: DecodeError;
}

/** GetFlowsResponse / ExportEvent variants that carry no flow. */
const NON_FLOW_EVENTS = ['node_status', 'lost_events', 'agent_event', 'debug_event', 'nodeStatus', 'lostEvents', 'agentEvent', 'debugEvent'];
/** Keys that mark a bare flow, as older `hubble observe -o json` (now JSONLegacy) printed it without the envelope. */
const BARE_FLOW_KEYS = ['IP', 'l4', 'verdict', 'Type', 'event_type', 'Summary'];
const TCP_FLAG_BITS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80, NS: 0x100 } as const;
/** Numeric drop reasons named only for the policy drops detectors look for; others stay numbers. */
const DROP_REASONS: Record<number, string> = { 133: 'POLICY_DENIED', 181: 'POLICY_DENY' };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

const fail = (reason: string, detail: string): HubbleResult => ({ error: { reason, detail: detail.slice(0, 1024) } });

/** Cuts to the Flow schema's limit without leaving half a surrogate pair. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
const text = (s: string | undefined, max: number): string | undefined => (s ? clip(s, max) : undefined);
const millisOf = (s: string | undefined): number | undefined => (s ? rfc3339Millis(s) : undefined);
const enumName = (v: string | number | undefined, names: readonly string[]): string | undefined =>
  typeof v === 'number' ? names[v] : v;

export function normalizeHubble(line: unknown, receivedAt: number): HubbleResult {
  let value = line;
  if (typeof line === 'string' || Buffer.isBuffer(line)) {
    try {
      value = JSON.parse(line.toString());
    } catch (e) {
      return fail('hubble-invalid', `not JSON: ${(e as Error).message}`);
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !Object.hasOwn(value, 'flow')) {
    const event = NON_FLOW_EVENTS.find((k) => Object.hasOwn(value as object, k));
    if (event) return fail('hubble-not-flow', `${event} event`);
    if (BARE_FLOW_KEYS.some((k) => Object.hasOwn(value as object, k))) value = { flow: value };
  }
  const parsed = HubbleLineSchema.safeParse(value);
  if (!parsed.success) {
    return fail('hubble-invalid', zodDetail(parsed.error, '(root)', 3));
  }
  const { flow: f, node_name: envelopeNode, time: envelopeTime } = parsed.data;
  const src = f.IP?.source;
  const dst = f.IP?.destination;
  if (!src || !dst) return fail('hubble-no-ip', `flow ${f.uuid ?? '(no uuid)'} has no IP addresses (${f.Summary ?? 'no summary'})`);

  const time = millisOf(f.time) ?? millisOf(envelopeTime) ?? receivedAt;
  const direction = enumName(f.traffic_direction, TRAFFIC_DIRECTION_NAMES);
  const isReply = typeof f.is_reply === 'object' ? f.is_reply.value ?? false : f.is_reply ?? f.reply;
  const verdict = enumName(f.verdict, VERDICT_NAMES);

  // Hubble has no exporter address: the flow names the node whose agent saw it, which is the node of the
  // local endpoint. traffic_direction is the connection's direction from that endpoint (EGRESS: it opened the
  // connection), and Cilium inverts it for reply packets (EGRESS iff source-is-local != is-reply), so the
  // packet's source is local iff EGRESS != reply. Unknown reply status counts as a request, as Cilium assumes
  // for drops. Unknown direction places the node nowhere rather than guess.
  const node = text(f.node_name || envelopeNode, 256);
  const known = direction === 'EGRESS' || direction === 'INGRESS';
  const local = known ? ((direction === 'EGRESS') !== (isReply === true) ? 'src' : 'dst') : undefined;

  const flow: Flow = {
    time_received: receivedAt,
    time_start: time,
    time_end: time,
    source_kind: 'hubble',
    exporter_address: '::',
    observation_domain: 0,
    observation_point: 'hubble',
    src_addr: src,
    dst_addr: dst,
    ...transport(f),
    // Hubble does not count bytes or packets per flow; volume detectors use IPFIX/sFlow and proxy bytes.
    bytes: null,
    packets: null,
    sampling_rate: 1,
    direction: direction === 'EGRESS' ? 'egress' : direction === 'INGRESS' ? 'ingress' : 'unknown',
    ...endpoint('src', f.source, f.source_names, local === 'src' ? node : undefined),
    ...endpoint('dst', f.destination, f.destination_names, local === 'dst' ? node : undefined),
  };
  if (verdict && (VERDICTS as readonly string[]).includes(verdict)) flow.verdict = verdict as Flow['verdict'];
  const dropReason = dropReasonOf(f);
  if (dropReason) flow.drop_reason = clip(dropReason, 256);
  if (isReply !== undefined) flow.is_reply = isReply;
  const summary = l7Summary(f);
  if (summary) flow.l7_summary = clip(summary, 2048);
  return { flow };
}

/** Protocol, ports and TCP flags. ICMP type and code go into dst_port as type * 256 + code, the NetFlow convention. */
function transport(f: HubbleFlow): Pick<Flow, 'protocol' | 'src_port' | 'dst_port' | 'tcp_flags'> {
  const l4 = f.l4;
  const p = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  if (p) {
    const protocol = l4?.TCP ? 6 : l4?.UDP ? 17 : 132;
    let tcp_flags = 0;
    for (const [name, bit] of Object.entries(TCP_FLAG_BITS)) {
      if (l4?.TCP?.flags?.[name as keyof typeof TCP_FLAG_BITS]) tcp_flags |= bit;
    }
    return { protocol, src_port: p.source_port ?? 0, dst_port: p.destination_port ?? 0, tcp_flags };
  }
  const icmp = l4?.ICMPv4 ?? l4?.ICMPv6;
  if (icmp) return { protocol: l4?.ICMPv4 ? 1 : 58, src_port: 0, dst_port: (icmp.type ?? 0) * 256 + (icmp.code ?? 0), tcp_flags: 0 };
  return { protocol: 0, src_port: 0, dst_port: 0, tcp_flags: 0 }; // L4 not decoded by Hubble
}

type Endpoint = NonNullable<HubbleFlow['source']>;

/** The src_ or dst_ columns of one endpoint; absent values stay absent so ClickHouse fills its defaults. */
function endpoint(side: 'src' | 'dst', ep: Endpoint | undefined, names: string[] | undefined, node: string | undefined): Partial<Flow> {
  const w = ep?.workloads?.find((x) => x.name);
  const cols: Record<string, unknown> = {
    namespace: text(ep?.namespace, 256),
    pod: text(ep?.pod_name, 253),
    workload: w?.name ? clip(w.kind ? `${w.kind.toLowerCase()}/${w.name}` : w.name, 253) : undefined,
    labels: ep?.labels?.length ? labelsOf(ep.labels) : undefined,
    identity: ep?.identity,
    names: names?.length ? names.slice(0, 64).map((n) => clip(n, 253)) : undefined,
    node,
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cols)) if (v !== undefined) out[`${side}_${k}`] = v;
  return out as Partial<Flow>;
}

/** "k8s:app=trainer" → {app: 'trainer'}; other sources keep their prefix ("reserved:host" → {'reserved:host': ''}). */
function labelsOf(labels: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const label of labels) {
    const eq = label.indexOf('=');
    let key = eq < 0 ? label : label.slice(0, eq);
    if (key.startsWith('k8s:')) key = key.slice(4);
    if (key) out[clip(key, 317)] = clip(eq < 0 ? '' : label.slice(eq + 1), 1024);
  }
  return out;
}

function dropReasonOf(f: HubbleFlow): string | undefined {
  const desc = f.drop_reason_desc;
  if (typeof desc === 'string' && desc !== '' && desc !== 'DROP_REASON_UNKNOWN') return desc;
  const n = typeof desc === 'number' && desc > 0 ? desc : f.drop_reason;
  return n ? DROP_REASONS[n] ?? String(n) : undefined;
}

/**
 * "DNS <query> <qtypes>" (plus rcode on responses), "<METHOD> <url> <code>", else Hubble's own Summary for
 * other L7 flows (Kafka...). L3/L4 flows have none: their Summary ("TCP Flags: SYN") is not an L7 summary.
 */
function l7Summary(f: HubbleFlow): string | undefined {
  const { dns, http } = f.l7 ?? {};
  if (dns) {
    const parts = ['DNS', dns.query ?? '', ...(dns.qtypes ?? [])];
    if (enumName(f.l7?.type, L7_TYPE_NAMES) === 'RESPONSE') parts.push(`rcode=${RCODES[dns.rcode ?? 0] ?? dns.rcode}`);
    return parts.filter(Boolean).join(' ');
  }
  if (http) return [http.method, http.url, http.code || undefined].filter(Boolean).join(' ');
  return f.l7 ? f.Summary || undefined : undefined;
}
