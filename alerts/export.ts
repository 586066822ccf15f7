/**
 * Alerts in the formats SIEMs and SOARs ingest as they are: OCSF 1.8 Detection Finding events (class 2004)
 * and Elastic Common Schema documents (event.kind alert). Both carry the alert's ends, its traffic, its
 * detector as the analytic or rule, and its triage; what neither schema names goes under `unmapped` (OCSF)
 * or `labels` (ECS).
 */
import type { Ecs } from '@elastic/ecs';
import { EcsVersion } from '@elastic/ecs';
import { productVersion } from '../core/paths';
import type { AlertView } from './view';

export const EXPORT_FORMATS = ['eastwatch', 'ocsf', 'ecs'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const OCSF_VERSION = '1.8.0';
const DETECTION_FINDING = 2004;
const FINDINGS = 2;

const ms = (iso: string) => Date.parse(iso);

/** Where a detector's judgement comes from, as OCSF's analytic type and ECS's rule category name it. */
const ANALYTIC: Record<string, { type_id: number; type: string }> = {
  'outside-allocation': { type_id: 1, type: 'Rule' },
  'topology-mismatch': { type_id: 1, type: 'Rule' },
  'zone-violation': { type_id: 1, type: 'Rule' },
  'policy-denied': { type_id: 1, type: 'Rule' },
  scan: { type_id: 2, type: 'Behavioral' },
  'new-destination': { type_id: 2, type: 'Behavioral' },
  'egress-spike': { type_id: 3, type: 'Statistical' },
  'seed-egress-volume': { type_id: 3, type: 'Statistical' },
};
const analyticOf = (detector: string) => ANALYTIC[detector] ?? { type_id: 1, type: 'Rule' };

const SEVERITY = { info: { id: 1, name: 'Informational', ecs: 21 }, warning: { id: 3, name: 'Medium', ecs: 47 }, critical: { id: 5, name: 'Critical', ecs: 99 } } as const;
const STATUS = { open: { id: 1, name: 'New' }, acknowledged: { id: 2, name: 'In Progress' }, closed: { id: 4, name: 'Resolved' } } as const;
const TRANSPORT: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp' };

/** Traffic between two zones of the cluster is lateral (east-west); toward the internet it goes out. */
const OUTSIDE = new Set(['internet', '']);
const lateral = (a: AlertView) => a.dst_zone !== undefined && !OUTSIDE.has(a.dst_zone);

/** An OCSF network endpoint of one end of the alert, or undefined when it names neither address nor node. */
function endpoint(a: AlertView, side: 'src' | 'dst'): Record<string, unknown> | undefined {
  const ip = a[`${side}_addr`];
  const node = a[`${side}_node`];
  if (!ip && !node) return undefined;
  const zone = a[`${side}_zone`];
  return {
    ...(ip ? { ip } : {}), ...(node ? { name: node, hostname: node } : {}), ...(zone ? { zone } : {}),
    ...(side === 'dst' && a.dst_port !== undefined ? { port: a.dst_port } : {}),
  };
}

export function toOcsf(a: AlertView): Record<string, unknown> {
  const activity = a.status === 'closed' ? { id: 3, name: 'Close' } : a.updated_at !== a.raised_at ? { id: 2, name: 'Update' } : { id: 1, name: 'Create' };
  const severity = SEVERITY[a.severity];
  const status = STATUS[a.status];
  const analytic = analyticOf(a.detector);
  const src = endpoint(a, 'src');
  const dst = endpoint(a, 'dst');
  const evidence = src || dst ? {
    ...(src ? { src_endpoint: src } : {}), ...(dst ? { dst_endpoint: dst } : {}),
    connection_info: {
      direction_id: lateral(a) ? 3 : a.dst_zone === 'internet' ? 2 : 0, direction: lateral(a) ? 'Lateral' : a.dst_zone === 'internet' ? 'Outbound' : 'Unknown',
      ...(a.protocol !== undefined ? { protocol_num: a.protocol, ...(TRANSPORT[a.protocol] ? { protocol_name: TRANSPORT[a.protocol] } : {}) } : {}),
    },
    data: { bytes: a.bytes, flows: a.flows, ...(a.src_job ? { src_job: a.src_job } : {}), ...(a.dst_job ? { dst_job: a.dst_job } : {}) },
  } : undefined;
  return {
    activity_id: activity.id, activity_name: activity.name,
    category_uid: FINDINGS, category_name: 'Findings', class_uid: DETECTION_FINDING, class_name: 'Detection Finding',
    type_uid: DETECTION_FINDING * 100 + activity.id, type_name: `Detection Finding: ${activity.name}`,
    severity_id: severity.id, severity: severity.name, status_id: status.id, status: status.name,
    time: ms(a.time), start_time: ms(a.first_seen), end_time: ms(a.last_seen), message: a.summary, is_alert: true,
    finding_info: {
      uid: a.alert_id, title: a.summary, types: [a.detector], analytic: { uid: a.detector, name: a.detector, type_id: analytic.type_id, type: analytic.type },
      created_time: ms(a.raised_at), modified_time: ms(a.updated_at), first_seen_time: ms(a.first_seen), last_seen_time: ms(a.last_seen), data_sources: ['flows'],
    },
    ...(evidence ? { evidences: [evidence] } : {}),
    metadata: {
      version: OCSF_VERSION, uid: `${a.alert_id}:${ms(a.updated_at)}`, correlation_uid: a.group_id, log_name: 'alerts',
      product: { name: 'eastwatch', vendor_name: 'eastwatch', uid: 'eastwatch', version: productVersion() },
    },
    unmapped: {
      eastwatch: {
        state: a.state, group_id: a.group_id, fingerprint: a.fingerprint, tags: a.tags,
        ...(a.close_reason ? { close_reason: a.close_reason } : {}), ...(a.assignee ? { assignee: a.assignee } : {}),
      },
    },
  };
}

export function toEcs(a: AlertView): Ecs {
  const analytic = analyticOf(a.detector);
  const side = (s: 'src' | 'dst') => {
    const ip = a[`${s}_addr`];
    const node = a[`${s}_node`];
    return ip || node ? { ...(ip ? { ip } : {}), address: node ?? ip, ...(node ? { domain: node } : {}) } : undefined;
  };
  const source = side('src');
  const destination = side('dst');
  const labels: Record<string, string> = { state: a.state, status: a.status, group_id: a.group_id };
  for (const k of ['src_zone', 'dst_zone', 'src_job', 'dst_job', 'close_reason', 'assignee'] as const) if (a[k]) labels[k] = String(a[k]);
  return {
    '@timestamp': a.time,
    ecs: { version: EcsVersion },
    message: a.summary,
    ...(a.tags.length > 0 ? { tags: a.tags } : {}),
    event: {
      kind: 'alert', category: ['network', 'intrusion_detection'], type: ['info'], id: a.alert_id, action: a.detector, severity: SEVERITY[a.severity].ecs,
      start: a.first_seen, end: a.last_seen, created: a.raised_at, dataset: 'eastwatch.alerts', module: 'eastwatch', provider: 'eastwatch', hash: a.fingerprint, reason: a.summary,
    },
    rule: { id: a.detector, name: a.detector, category: analytic.type, ruleset: 'eastwatch' },
    ...(source ? { source } : {}),
    ...(destination ? { destination: { ...destination, ...(a.dst_port !== undefined ? { port: a.dst_port } : {}) } } : {}),
    network: {
      direction: lateral(a) ? 'internal' : a.dst_zone === 'internet' ? 'outbound' : 'unknown', bytes: a.bytes,
      ...(a.protocol !== undefined ? { iana_number: String(a.protocol), ...(TRANSPORT[a.protocol] ? { transport: TRANSPORT[a.protocol] } : {}) } : {}),
    },
    observer: { vendor: 'eastwatch', product: 'eastwatch', type: 'ids', version: productVersion() },
    related: {
      ip: [a.src_addr, a.dst_addr].filter((x): x is string => x !== undefined),
      hosts: [a.src_node, a.dst_node].filter((x): x is string => x !== undefined),
    },
    labels,
  };
}

/** An alert as one event of a SIEM format. */
export function exportAlert(a: AlertView, format: Exclude<ExportFormat, 'eastwatch'>): Record<string, unknown> {
  return format === 'ocsf' ? toOcsf(a) : { ...toEcs(a) };
}
