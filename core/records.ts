/**
 * The other stored records, in the same schema-as-code form as the Flow. Their tables exist from the first
 * migration so every stage can rely on them; inventory, allocation and detector stages fill them.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { column } from './columns';

const ip = () => z.string().refine((s) => isIP(s) !== 0, { message: 'not an IPv4 or IPv6 address' });
const millis = () => z.number().int().min(0).max(8.64e15);

/** One address of the fabric and who owns it: the inventory as enrichment reads it. */
export const InventoryAddressSchema = z.strictObject({
  address: column(ip(), 'IPv6', 'Address on one of the fabrics'),
  node: column(z.string().min(1).max(253), 'LowCardinality(String)', 'Inventory node name'),
  role: column(z.enum(['gpu', 'storage', 'proxy', 'control-plane', 'switch', 'dpu', 'service']), 'LowCardinality(String)', 'Role of the node'),
  fabric: column(z.enum(['frontend', 'backend', 'oob']), 'LowCardinality(String)', 'Fabric the address is on'),
  rail: column(z.number().int().min(0).max(255).optional(), 'Nullable(UInt8)', 'Back-end rail number'),
  zone: column(z.string().min(1).max(64), 'LowCardinality(String)', 'Zone the address belongs to'),
  updated_at: column(millis(), 'DateTime64(3)', 'Version of this row (latest wins)'),
});
export type InventoryAddress = z.infer<typeof InventoryAddressSchema>;

export const PATTERNS = ['ring', 'tree', 'all-to-all', 'data-parallel', 'tensor-parallel', 'pipeline-parallel', 'unknown'] as const;

/** A node's (or pod's) membership in a job over a time range. */
export const AllocationSchema = z.strictObject({
  job_id: column(z.string().min(1).max(128), 'String', 'Scheduler job id (Slurm job id, Kubernetes job name)'),
  node: column(z.string().min(1).max(253), 'LowCardinality(String)', 'Node allocated to the job'),
  pod: column(z.string().max(253).optional(), 'String', 'Kubernetes pod, when the allocation is per pod'),
  pod_ip: column(ip().optional(), 'Nullable(IPv6)', 'Pod address, when per pod'),
  start: column(millis(), 'DateTime64(3)', 'Allocation start'),
  end: column(millis().optional(), 'Nullable(DateTime64(3))', 'Allocation end; NULL while running'),
  pattern: column(z.enum(PATTERNS), 'LowCardinality(String)', 'Expected collective communication pattern'),
  peers: column(
    z.array(z.string().max(253)).max(4096).optional(),
    'Array(String)',
    'Nodes this node is expected to send to on the back end (the collective graph imported with the allocation); empty: learned from its traffic',
  ),
  source: column(z.string().min(1).max(64), 'LowCardinality(String)', 'Where the allocation came from: slurm, kubernetes, cli, kafka'),
  updated_at: column(millis(), 'DateTime64(3)', 'Version of this row (latest wins)'),
});
export type Allocation = z.infer<typeof AllocationSchema>;

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** The detector's view of an alert: traffic still offending, or the episode over (quiet for a while). */
export const ALERT_STATES = ['firing', 'ended'] as const;
/** The analyst's view: kept in its own table (alert_triage), so neither view can overwrite the other. */
export const ALERT_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

const name = (max: number) => z.string().max(max).optional();

/**
 * An alert: one episode of one detector's findings, as the detector last saw it. The fingerprint (detector +
 * the entities that define the episode) is stable; each episode has its own alert_id; a new row version
 * replaces the old (ReplacingMergeTree by updated_at).
 */
export const AlertSchema = z.strictObject({
  alert_id: column(z.uuid(), 'UUID', 'Alert id: one episode of one fingerprint'),
  fingerprint: column(z.string().min(1).max(64), 'String', 'Detector and the entities that define the episode, hashed: the same for every episode of the same thing'),
  detector: column(z.string().min(1).max(64), 'LowCardinality(String)', 'Detector that raised it'),
  severity: column(z.enum(SEVERITIES), 'LowCardinality(String)', 'info, warning or critical'),
  state: column(z.enum(ALERT_STATES), 'LowCardinality(String)', "The detector's view: firing, or ended once the episode went quiet"),
  time: column(millis(), 'DateTime64(3)', 'When the detector raised it, by the event time of the traffic that made it'),
  first_seen: column(millis(), 'DateTime64(3)', 'First offending traffic of the episode (event time)'),
  last_seen: column(millis(), 'DateTime64(3)', 'Last offending traffic of the episode (event time)'),
  raised_at: column(millis(), 'DateTime64(3)', 'Wall-clock time the detector raised it (detection latency = raised_at - the triggering flow\'s arrival)'),
  summary: column(z.string().max(1024), 'String', 'One human line for the SOC queue'),
  src_addr: column(ip().optional(), 'Nullable(IPv6)', 'Source address at fault'),
  src_node: column(name(253), 'LowCardinality(String)', 'Source node'),
  src_zone: column(name(64), 'LowCardinality(String)', 'Source zone'),
  src_job: column(name(128), 'String', 'Job of the source at the time of the traffic'),
  src_pod: column(name(253), 'String', 'Source pod'),
  dst_addr: column(ip().optional(), 'Nullable(IPv6)', 'Destination address involved'),
  dst_node: column(name(253), 'LowCardinality(String)', 'Destination node'),
  dst_zone: column(name(64), 'LowCardinality(String)', 'Destination zone'),
  dst_job: column(name(128), 'String', 'Job of the destination'),
  dst_port: column(z.number().int().min(0).max(65535).optional(), 'Nullable(UInt16)', 'Destination port'),
  protocol: column(z.number().int().min(0).max(255).optional(), 'Nullable(UInt8)', 'IP protocol'),
  bytes: column(z.number().int().min(0), 'UInt64', 'Bytes of the offending traffic (scaled by sampling)'),
  flows: column(z.number().int().min(0), 'UInt64', 'Flow records (or windows) behind the alert'),
  evidence: column(z.string().max(65536), 'String', 'JSON: the top flows, observed and baseline values, expected edges, and the SQL that pulls every flow behind the alert'),
  updated_at: column(millis(), 'DateTime64(3)', 'Version of this row (latest wins)'),
});
export type Alert = z.infer<typeof AlertSchema>;

/** Why an analyst closed an alert, as SOC tools model it. */
export const CLOSE_REASONS = ['true_positive', 'false_positive', 'benign_positive', 'duplicate', 'other'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export const tag = () => z.string().regex(/^[\w.:/-]{1,64}$/, 'a tag is 1 to 64 letters, digits or . _ : / -');

/** An analyst's triage of an alert; the latest row per alert wins. */
export const AlertTriageSchema = z.strictObject({
  alert_id: column(z.uuid(), 'UUID', 'Alert triaged'),
  status: column(z.enum(ALERT_STATUSES), 'LowCardinality(String)', 'open, acknowledged or closed'),
  close_reason: column(z.enum(CLOSE_REASONS).optional(), 'LowCardinality(String)', 'Why it was closed: true_positive, false_positive, benign_positive, duplicate, other (closed only)'),
  assignee: column(z.string().max(253).optional(), 'String', 'Analyst it is assigned to'),
  tags: column(z.array(tag()).max(32).optional(), 'Array(String)', 'Analyst tags'),
  actor: column(z.string().max(253), 'String', 'Who changed it'),
  note: column(z.string().max(4096), 'String', 'Why'),
  updated_at: column(millis(), 'DateTime64(3)', 'When (latest wins)'),
});
export type AlertTriage = z.infer<typeof AlertTriageSchema>;

/** The entity fields a suppression may match on: an alert's own fields. */
export const SUPPRESSION_FIELDS = ['src_node', 'src_addr', 'src_zone', 'src_job', 'dst_node', 'dst_addr', 'dst_zone', 'dst_job', 'dst_port'] as const;

/**
 * An analyst's suppression: alerts of one detector whose entity fields all equal the given ones are not
 * raised until it expires or is revoked. The latest row version per suppression wins.
 */
export const SuppressionSchema = z.strictObject({
  suppression_id: column(z.uuid(), 'UUID', 'Suppression id'),
  detector: column(z.string().min(1).max(64), 'LowCardinality(String)', 'Detector whose alerts it holds back'),
  src_node: column(name(253), 'String', 'Matches alerts with this source node'),
  src_addr: column(ip().optional(), 'Nullable(IPv6)', 'Matches alerts with this source address'),
  src_zone: column(name(64), 'String', 'Matches alerts with this source zone'),
  src_job: column(name(128), 'String', 'Matches alerts with this source job'),
  dst_node: column(name(253), 'String', 'Matches alerts with this destination node'),
  dst_addr: column(ip().optional(), 'Nullable(IPv6)', 'Matches alerts with this destination address'),
  dst_zone: column(name(64), 'String', 'Matches alerts with this destination zone'),
  dst_job: column(name(128), 'String', 'Matches alerts with this destination job'),
  dst_port: column(z.number().int().min(0).max(65535).optional(), 'Nullable(UInt16)', 'Matches alerts with this destination port'),
  reason: column(z.string().min(1).max(4096), 'String', 'Why, as the analyst gave it'),
  created_by: column(z.string().min(1).max(253), 'String', 'Who made it'),
  created_at: column(millis(), 'DateTime64(3)', 'When'),
  expires_at: column(millis(), 'DateTime64(3)', 'When it stops holding alerts back'),
  revoked_by: column(z.string().max(253).optional(), 'String', 'Who ended it early'),
  revoked_at: column(millis().optional(), 'Nullable(DateTime64(3))', 'When it was ended early'),
  updated_at: column(millis(), 'DateTime64(3)', 'Version of this row (latest wins)'),
});
export type Suppression = z.infer<typeof SuppressionSchema>;

/** What a webhook subscription is sent: an alert raised (its first version) and an alert ended. */
export const WEBHOOK_EVENTS = ['alert.raised', 'alert.ended'] as const;
export const WEBHOOK_FORMATS = ['eastwatch', 'ocsf', 'ecs'] as const;

/**
 * An incident-response feed: alerts matching its filters go to its URL, signed as Standard Webhooks says with
 * each of its secrets (two while one is rotated out). The latest row version wins.
 */
export const WebhookSubscriptionSchema = z.strictObject({
  subscription_id: column(z.uuid(), 'UUID', 'Subscription id'),
  name: column(z.string().min(1).max(128), 'String', 'What it feeds (a SOAR playbook, a SIEM)'),
  url: column(z.url({ protocol: /^https?$/ }).max(2048), 'String', 'Where deliveries are POSTed'),
  secrets: column(z.array(z.string().regex(/^whsec_[A-Za-z0-9+/=]{32,88}$/)).min(1).max(2), 'Array(String)', 'Signing secrets (whsec_), newest first; never shown after creation or rotation'),
  previous_expires_at: column(millis().optional(), 'Nullable(DateTime64(3))', 'When the older of two secrets stops signing'),
  detectors: column(z.array(z.string().max(64)).max(64), 'Array(String)', 'Only alerts of these detectors (empty: all)'),
  severities: column(z.array(z.enum(SEVERITIES)).max(3), 'Array(String)', 'Only alerts of these severities (empty: all)'),
  zones: column(z.array(z.string().max(64)).max(64), 'Array(String)', 'Only alerts with an end in one of these zones (empty: all)'),
  format: column(z.enum(WEBHOOK_FORMATS), 'LowCardinality(String)', "The alert in the payload's data: eastwatch, ocsf or ecs"),
  active: column(z.boolean(), 'Bool', 'Deliveries are made (false once disabled, by an admin or a 410 Gone)'),
  disabled_reason: column(z.string().max(1024).optional(), 'String', 'Why it was disabled'),
  created_by: column(z.string().min(1).max(253), 'String', 'Who made it'),
  created_at: column(millis(), 'DateTime64(3)', 'When'),
  updated_at: column(millis(), 'DateTime64(3)', 'Version of this row (latest wins)'),
});
export type WebhookSubscription = z.infer<typeof WebhookSubscriptionSchema>;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

/** One event for one subscription: made once (its id is the webhook-id), retried until delivered or given up. */
export const WebhookDeliverySchema = z.strictObject({
  subscription_id: column(z.uuid(), 'UUID', 'Subscription'),
  event_id: column(z.string().min(1).max(128), 'String', 'Event id, the webhook-id header: the same for every attempt'),
  event_type: column(z.enum(WEBHOOK_EVENTS), 'LowCardinality(String)', 'alert.raised or alert.ended'),
  alert_id: column(z.uuid(), 'UUID', 'The alert'),
  payload: column(z.string().max(1_000_000), 'String', 'The body sent, as signed'),
  status: column(z.enum(DELIVERY_STATUSES), 'LowCardinality(String)', 'pending (to be tried), delivered, failed (given up)'),
  attempts: column(z.number().int().min(0), 'UInt16', 'Attempts made'),
  next_attempt_at: column(millis(), 'DateTime64(3)', 'When it is tried next (pending)'),
  last_status: column(z.number().int().min(0).max(999), 'UInt16', 'HTTP status of the last attempt (0: no response)'),
  last_error: column(z.string().max(1024), 'String', 'What went wrong last'),
  created_at: column(millis(), 'DateTime64(3)', 'When the event was made'),
  updated_at: column(millis(), 'DateTime64(3)', 'Version of this row (latest wins)'),
});
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

/** What an audited change acted on. */
export const AUDIT_TARGETS = ['alert', 'suppression', 'inventory', 'allocation', 'webhook'] as const;

/** One change an analyst, an admin or the CLI made: who, when, what (each field from and to) and why. */
export const AuditEntrySchema = z.strictObject({
  audit_id: column(z.uuid(), 'UUID', 'Entry id'),
  time: column(millis(), 'DateTime64(3)', 'When'),
  actor: column(z.string().min(1).max(253), 'String', 'Who: the API token\'s name, or the CLI user'),
  actor_role: column(z.string().max(32), 'LowCardinality(String)', "The actor's role (cli for the command line)"),
  action: column(z.string().min(1).max(64), 'LowCardinality(String)', 'What was done, e.g. alert.triage, alert.note, suppression.create'),
  target_kind: column(z.enum(AUDIT_TARGETS), 'LowCardinality(String)', 'Kind of thing changed'),
  target: column(z.string().max(253), 'String', 'Id of the thing changed'),
  changes: column(z.string().max(65536), 'String', 'JSON: each field changed, {"field": {"from": ..., "to": ...}}'),
  reason: column(z.string().max(4096), 'String', 'Why, as the actor gave it'),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** Interface counters an exporter reports (sFlow counter samples): the fabric's health next to its flows. */
export const InterfaceCounterSchema = z.strictObject({
  time_received: column(millis(), 'DateTime64(3)', 'When eastwatch received the sample'),
  exporter_address: column(ip(), 'IPv6', 'Agent address of the exporter'),
  source_id: column(z.number().int().min(0).max(2 ** 32 - 1), 'UInt32', 'sFlow data source (type << 24 | index)'),
  if_index: column(z.number().int().min(0).max(2 ** 32 - 1), 'UInt32', 'Interface index'),
  if_type: column(z.number().int().min(0).max(2 ** 32 - 1), 'UInt32', 'IANA ifType'),
  if_speed: column(z.number().int().min(0), 'UInt64', 'Interface speed, bits per second'),
  if_direction: column(z.number().int().min(0).max(4), 'UInt8', '0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out'),
  if_admin_up: column(z.boolean(), 'Bool', 'ifAdminStatus is up'),
  if_oper_up: column(z.boolean(), 'Bool', 'ifOperStatus is up'),
  in_octets: column(z.number().int().min(0), 'UInt64', 'ifInOctets'),
  in_packets: column(z.number().int().min(0), 'UInt64', 'ifInUcastPkts + ifInMulticastPkts + ifInBroadcastPkts'),
  in_discards: column(z.number().int().min(0), 'UInt64', 'ifInDiscards'),
  in_errors: column(z.number().int().min(0), 'UInt64', 'ifInErrors'),
  out_octets: column(z.number().int().min(0), 'UInt64', 'ifOutOctets'),
  out_packets: column(z.number().int().min(0), 'UInt64', 'ifOutUcastPkts + ifOutMulticastPkts + ifOutBroadcastPkts'),
  out_discards: column(z.number().int().min(0), 'UInt64', 'ifOutDiscards'),
  out_errors: column(z.number().int().min(0), 'UInt64', 'ifOutErrors'),
});
export type InterfaceCounter = z.infer<typeof InterfaceCounterSchema>;
