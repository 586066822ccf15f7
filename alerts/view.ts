/** An alert as the CLI and the API show it: the record with times in ISO 8601, evidence parsed, its group and triage. */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { type Alert, ALERT_STATUSES, AlertSchema, CLOSE_REASONS } from '../core/records';

const iso = z.string().describe('ISO 8601, UTC');

/** An alert on the wire: the record with times in ISO 8601, evidence parsed, and its triage. */
export const AlertViewSchema = z.object(AlertSchema.shape).omit({ evidence: true, time: true, first_seen: true, last_seen: true, raised_at: true, updated_at: true }).extend({
  time: iso, first_seen: iso, last_seen: iso, raised_at: iso, updated_at: iso,
  evidence: z.record(z.string(), z.unknown()).describe('Top flows, observed and baseline values, expected edges'),
  group_id: z.string().describe('The group of related alerts it belongs to'),
  status: z.enum(ALERT_STATUSES),
  close_reason: z.enum(CLOSE_REASONS).optional(),
  assignee: z.string().optional(),
  tags: z.array(z.string()),
  triaged_by: z.string().optional(),
  triaged_at: iso.optional(),
});

export type AlertView = z.infer<typeof AlertViewSchema>;

/** An address as analysts read it and groups key it: IPv4 dotted (also when IPv4-mapped), IPv6 in RFC 5952 form. */
export function canonicalAddr(a: string): string {
  try {
    const ip = ipaddr.parse(a);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return (ip as ipaddr.IPv6).toIPv4Address().toString();
    return ip.kind() === 'ipv6' ? (ip as ipaddr.IPv6).toRFC5952String() : ip.toString();
  } catch {
    return a;
  }
}

/**
 * The group of related alerts one belongs to: a detector about one source (node, else address, else zone, else
 * its own fingerprint). alerts/query.ts computes the same in SQL; the two must agree.
 */
export function groupIdOf(a: Pick<Alert, 'detector' | 'src_node' | 'src_addr' | 'src_zone' | 'fingerprint'>): string {
  const source = a.src_node || (a.src_addr ? canonicalAddr(a.src_addr) : '') || a.src_zone || a.fingerprint;
  return createHash('sha256').update(`${a.detector}|${source}`).digest('hex').slice(0, 16);
}

/** The view of an alert record as it comes off the alerts topic: no triage yet, so open and untagged. */
export function viewOfRecord(a: Alert): AlertView {
  const iso = (ms: number) => new Date(ms).toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) if (v !== undefined && v !== '') out[k] = k.endsWith('_addr') ? canonicalAddr(String(v)) : v;
  return {
    ...(out as Omit<Alert, 'evidence'>),
    time: iso(a.time), first_seen: iso(a.first_seen), last_seen: iso(a.last_seen), raised_at: iso(a.raised_at), updated_at: iso(a.updated_at),
    evidence: a.evidence ? (JSON.parse(a.evidence) as Record<string, unknown>) : {}, group_id: groupIdOf(a), status: 'open', tags: [],
  } as AlertView;
}
