/**
 * From findings to alerts: one alert per episode. An episode is a fingerprint (detector + the entities that
 * define it) with offending traffic no more than `quietMs` apart in event time; a finding within it updates
 * the alert (last_seen, counts, top flows), one after a quiet period opens a new alert, and an episode quiet
 * for `quietMs` behind the event-time watermark ends (state ended).
 *
 * Ids are derived, not drawn: alert_id = hash(fingerprint, first offending event time). A detector replaying
 * flows after a crash, or another process of its group taking over a partition, arrives at the same alert_id,
 * so the same alert is updated and never raised twice; episodes still firing are restored from the alerts
 * topic at start (restore()).
 */
import { createHash } from 'node:crypto';
import type { Alert } from '../core/records';
import type { Finding, FlowKey } from '../detectors/finding';
import { evidenceSql } from '../detectors/sql';

export interface LifecycleOptions {
  quietMs: number;
  /** A firing alert's updates go out at most this often (new and ended alerts at once). */
  updateMs: number;
  /** The flows table as SQL names it, for the evidence query. */
  flowsTable: string;
  now?: () => number;
  /** Called once per alert raised (a new episode). */
  onRaise?: (a: Alert) => void;
  /** Whether an analyst's suppression holds back an alert not raised yet (asked at every take while it is). */
  held?: (a: Alert) => boolean;
  /** Called once per episode a suppression held back. */
  onHold?: (a: Alert) => void;
}

const TOP_FLOWS = 10;
const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

interface Episode {
  alert: Alert;
  top: FlowKey[];
  details: Record<string, unknown>;
  where: string;
  summary: string;
  dirty: boolean;
  /** Wall-clock time its last version went out; undefined while it never did. */
  sentAt?: number;
  /** Wall-clock time a suppression last held it back. */
  heldAt?: number;
  /** Wall-clock time of its latest finding. */
  observedAt: number;
}

export interface Evidence {
  top_flows: FlowKey[];
  details: Record<string, unknown>;
  where: string;
  sql: string;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export function fingerprintOf(detector: string, key: readonly string[]): string {
  return sha([detector, ...key].join('\0')).slice(0, 32);
}

/** A UUID (RFC 9562 version 8, for ids of one's own making) from the fingerprint and the episode's start. */
export function alertIdOf(fingerprint: string, firstSeen: number): string {
  const h = sha(`${fingerprint}\0${firstSeen}`);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function summaryOf(base: string, flows: number, bytes: number): string {
  return `${base}; ${flows} flow${flows === 1 ? '' : 's'}${bytes > 0 ? `, ${humanBytes(bytes)}` : ''}`.slice(0, 1024);
}

/** The top flows by bytes (the first one kept whatever its size: it starts the story). */
function keepTop(top: FlowKey[], f: FlowKey): FlowKey[] {
  if (top.length < TOP_FLOWS) return [...top, f];
  const [first, ...rest] = top;
  const all = [...rest, f].sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0));
  return [first!, ...all.slice(0, TOP_FLOWS - 1)];
}

export class AlertLifecycle {
  private readonly open = new Map<string, Episode>();
  private readonly ended: Episode[] = [];
  private readonly now: () => number;
  private lastVersion = 0;
  private watermark = 0;

  constructor(private readonly o: LifecycleOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Firing alerts read back from the alerts topic: their episodes go on. */
  restore(alerts: Iterable<Alert>): void {
    for (const a of alerts) {
      const have = this.open.get(a.fingerprint);
      if (a.state !== 'firing') {
        if (have?.alert.alert_id === a.alert_id && a.updated_at >= have.alert.updated_at) this.open.delete(a.fingerprint);
        continue;
      }
      if (have && have.alert.updated_at >= a.updated_at) continue;
      const ev = JSON.parse(a.evidence) as Evidence;
      this.open.set(a.fingerprint, {
        alert: a, top: ev.top_flows, details: ev.details, where: ev.where, summary: a.summary.replace(/; \d+ flows?.*$/, ''), dirty: false, sentAt: a.updated_at, observedAt: a.updated_at,
      });
      this.lastVersion = Math.max(this.lastVersion, a.updated_at);
    }
  }

  observe(f: Finding): void {
    const fingerprint = fingerprintOf(f.detector, f.key);
    let e = this.open.get(fingerprint);
    if (e && f.first > e.alert.last_seen + this.o.quietMs) {
      this.end(fingerprint, e);
      e = undefined;
    }
    if (!e) {
      e = {
        alert: {
          alert_id: alertIdOf(fingerprint, f.first), fingerprint, detector: f.detector, severity: f.severity, state: 'firing',
          time: f.time, first_seen: f.first, last_seen: f.last, raised_at: this.now(), summary: '',
          ...f.entities, bytes: 0, flows: 0, evidence: '', updated_at: 0,
        },
        top: [], details: {}, where: f.where, summary: f.summary, dirty: true, observedAt: 0,
      };
      if (f.received !== undefined) e.details.detection_latency_ms = e.alert.raised_at - f.received;
      this.open.set(fingerprint, e);
    }
    const a = e.alert;
    if (f.counts === 'increment') {
      a.flows += f.flows;
      a.bytes += f.bytes;
    } else {
      a.flows = Math.max(a.flows, f.flows);
      a.bytes = Math.max(a.bytes, f.bytes);
    }
    a.first_seen = Math.min(a.first_seen, f.first);
    a.last_seen = Math.max(a.last_seen, f.last);
    if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[a.severity]) a.severity = f.severity;
    if (f.flow) e.top = keepTop(e.top, f.flow);
    if (f.details) e.details = { ...e.details, ...f.details };
    if (f.counts === 'total') e.summary = f.summary;
    e.dirty = true;
    e.observedAt = this.now();
  }

  /** Ends the episodes quiet for quietMs behind the event-time watermark (the highest one seen). */
  endQuiet(watermark: number): void {
    this.watermark = Math.max(this.watermark, watermark);
    for (const [fingerprint, e] of this.open) {
      if (e.alert.last_seen < this.watermark - this.o.quietMs) this.end(fingerprint, e);
    }
  }

  private end(fingerprint: string, e: Episode): void {
    this.open.delete(fingerprint);
    e.alert.state = 'ended';
    e.dirty = true;
    this.ended.push(e);
  }

  /**
   * Alerts raised, updated or ended since the last call, as their new row versions; `all` takes the updates
   * the rate limit holds back too (at shutdown).
   */
  take(all = false): Alert[] {
    const out: Alert[] = [];
    const now = this.now();
    const version = (this.lastVersion = Math.max(now, this.lastVersion + 1));
    for (const e of [...this.ended.splice(0), ...this.open.values()]) {
      if (!e.dirty) continue;
      // Held back while never raised. Once the hold ends, only new offending traffic raises it: what happened
      // during the suppression stays suppressed, and an episode that ends held is dropped.
      if (e.sentAt === undefined && e.heldAt !== undefined && e.observedAt <= e.heldAt) continue;
      if (e.sentAt === undefined && this.o.held?.(e.alert)) {
        if (e.heldAt === undefined) this.o.onHold?.(e.alert);
        e.heldAt = now;
        continue;
      }
      if (!all && e.alert.state === 'firing' && e.sentAt !== undefined && now - e.sentAt < this.o.updateMs) continue;
      if (e.sentAt === undefined) this.o.onRaise?.(e.alert);
      e.dirty = false;
      e.sentAt = now;
      const a = e.alert;
      a.summary = summaryOf(e.summary, a.flows, a.bytes);
      a.evidence = evidenceOf(e, this.o.flowsTable);
      a.updated_at = version;
      out.push({ ...a });
    }
    return out;
  }

  /** Episodes still firing. */
  get firing(): number {
    return this.open.size;
  }

  /** Firing alerts per detector and severity. */
  firingBy(): Array<{ detector: string; severity: string; count: number }> {
    const by = new Map<string, { detector: string; severity: string; count: number }>();
    for (const { alert: a } of this.open.values()) {
      const k = `${a.detector}\0${a.severity}`;
      const have = by.get(k);
      if (have) have.count++;
      else by.set(k, { detector: a.detector, severity: a.severity, count: 1 });
    }
    return [...by.values()];
  }
}

function evidenceOf(e: Episode, flowsTable: string): string {
  const ev: Evidence = { top_flows: e.top, details: e.details, where: e.where, sql: evidenceSql(flowsTable, e.where, e.alert.first_seen, e.alert.last_seen) };
  let text = JSON.stringify(ev);
  while (text.length > 65536 && ev.top_flows.length > 1) {
    ev.top_flows = ev.top_flows.slice(0, Math.ceil(ev.top_flows.length / 2));
    text = JSON.stringify(ev);
  }
  return text.length > 65536 ? JSON.stringify({ ...ev, details: { truncated: true } }) : text;
}
