/**
 * How well the detectors did against a simulation's ground truth: which attacks were detected, by which
 * detector and how fast, and which alerts were false. `eastwatch score`, the demo and the tests all score here.
 *
 * The matching rule:
 * - An alert names a label when its src_node or dst_node is one of the label's nodes, or its src_addr or
 *   dst_addr is one of the label's addresses, compared as IPs (10.0.0.1 and ::ffff:10.0.0.1 are equal).
 * - An alert matches a label when it names it and its time lies in [label.start, label.end + grace], both ends
 *   included. The grace (default 5 min) is there because a windowed detector alerts when the window holding
 *   the last offending flow closes. An alert before label.start matches nothing of that label: no detector
 *   can have seen an attack before its first flow.
 * - The window [since, until] (both ends included) selects the alerts scored (the rest are ignored) and the
 *   attacks scored: those that start in it. Recall counts the scored attacks only.
 * - An attack is detected when an alert matches it. Its earliest matching alert (ties broken by detector, then
 *   alert id) gives the detector and the time to detect: alert time - label.start. Every detector with a
 *   matching alert caught it; several alerts on one attack are all true.
 * - An alert matching an attack is true, also when it matches a benign trap too, and also when the attack
 *   started before the window (then it credits no scored attack). Every other alert is false: it matches only
 *   benign traps (listed with it), or nothing.
 * - recall = detected / scored attacks (null when none); false alerts per simulated day = false alerts /
 *   ((until - since) / 1 day).
 */
import type { Store } from '../core/clickhouse';
import { UserError } from '../core/error-text';
import type { Alert } from '../core/records';
import { addressKey } from '../allocations/timeline';
import type { TruthLabel } from './events';

export const DEFAULT_GRACE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export class ScoreWindowError extends UserError {}

/** The fields of an alert the score reads: what loadAlerts() selects, and what a test writes by hand. */
export type ScoredAlert = Pick<Alert, 'alert_id' | 'time' | 'detector' | 'summary'>
  & Partial<Pick<Alert, 'src_addr' | 'dst_addr' | 'src_node' | 'dst_node'>>;

/** ms since the epoch, both ends included. */
export interface ScoreWindow {
  since: number;
  until: number;
}

export interface AttackScore {
  id: string;
  kind: TruthLabel['kind'];
  start: number;
  end: number;
  detected: boolean;
  /** The earliest matching alert's detector and time; null when missed. */
  detector: string | null;
  detectedAt: number | null;
  timeToDetectMs: number | null;
  /** Every detector with a matching alert, sorted. */
  detectors: string[];
  /** The label's expected detectors, sorted. */
  expected: string[];
  /** Ids of the matching alerts, earliest first. */
  alerts: string[];
}

export interface FalseAlert {
  alert_id: string;
  time: number;
  detector: string;
  summary: string;
  /** Ids of the benign traps it matched; empty when it matched nothing. */
  traps: string[];
}

export interface DetectorScore {
  detector: string;
  /** Its alerts in the window. */
  alerts: number;
  /** Scored attacks it has a matching alert on. */
  caught: string[];
  /** Scored attacks whose label expects it, and those of them it did not catch (whoever else did). */
  expected: string[];
  missed: string[];
  falseAlerts: number;
}

export interface Score {
  since: number;
  until: number;
  days: number;
  graceMs: number;
  /** Scored attacks, by start then id. */
  attacks: AttackScore[];
  detected: number;
  missed: number;
  recall: number | null;
  /** Alerts in the window, those matching an attack, and the false ones by time. */
  alerts: number;
  trueAlerts: number;
  falseAlerts: FalseAlert[];
  falsePerDay: number;
  /** Every detector that alerted in the window or is expected by a scored attack, by name. */
  detectors: DetectorScore[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedUnique = (xs: string[]) => [...new Set(xs)].sort(cmp);

/** The span of a truth file: its first label's start to its last label's end plus grace, so every match lies in it. */
export function truthWindow(truth: TruthLabel[], graceMs = DEFAULT_GRACE_MS): ScoreWindow {
  if (truth.length === 0) throw new ScoreWindowError('the truth has no labels, so no window: give since and until');
  return { since: Math.min(...truth.map((l) => l.start)), until: Math.max(...truth.map((l) => l.end)) + graceMs };
}

/** The window itself, when it ends after it starts (a day count of zero would make the false-alert rate meaningless). */
export function checkWindow(window: ScoreWindow): ScoreWindow {
  const { since, until } = window;
  if (!(Number.isFinite(since) && Number.isFinite(until) && until > since)) {
    throw new ScoreWindowError(`the window must end after it starts: since ${since}, until ${until}`);
  }
  return window;
}

export function score(truth: TruthLabel[], alerts: ScoredAlert[], window: ScoreWindow, { graceMs = DEFAULT_GRACE_MS } = {}): Score {
  const { since, until } = checkWindow(window);
  const labels = truth.map((label) => ({ label, nodes: new Set(label.nodes), addresses: new Set(label.addresses.map(addressKey)) }));
  const matching = (a: ScoredAlert) => labels.filter(({ label, nodes, addresses }) =>
    a.time >= label.start && a.time <= label.end + graceMs
    && ((a.src_node !== undefined && nodes.has(a.src_node)) || (a.dst_node !== undefined && nodes.has(a.dst_node))
      || (a.src_addr !== undefined && addresses.has(addressKey(a.src_addr)))
      || (a.dst_addr !== undefined && addresses.has(addressKey(a.dst_addr)))));

  // Sorted once, so the first alert appended to an attack's list is its earliest (and ties break the same way every run).
  const inWindow = alerts.filter((a) => a.time >= since && a.time <= until)
    .sort((a, b) => a.time - b.time || cmp(a.detector, b.detector) || cmp(a.alert_id, b.alert_id));
  const scored = truth.filter((l) => l.class === 'attack' && l.start >= since && l.start <= until)
    .sort((a, b) => a.start - b.start || cmp(a.id, b.id));
  const hits = new Map<string, ScoredAlert[]>(scored.map((l) => [l.id, []]));
  const falseAlerts: FalseAlert[] = [];
  for (const a of inWindow) {
    const matched = matching(a).map((m) => m.label);
    if (matched.some((l) => l.class === 'attack')) {
      for (const l of matched) hits.get(l.id)?.push(a);
    } else {
      falseAlerts.push({ alert_id: a.alert_id, time: a.time, detector: a.detector, summary: a.summary, traps: matched.map((l) => l.id).sort(cmp) });
    }
  }

  const attacks = scored.map((l): AttackScore => {
    const hit = hits.get(l.id)!;
    const first = hit[0];
    return {
      id: l.id, kind: l.kind, start: l.start, end: l.end,
      detected: first !== undefined,
      detector: first?.detector ?? null,
      detectedAt: first?.time ?? null,
      timeToDetectMs: first ? first.time - l.start : null,
      detectors: sortedUnique(hit.map((a) => a.detector)),
      expected: sortedUnique(l.detectors ?? []),
      alerts: hit.map((a) => a.alert_id),
    };
  });
  const detected = attacks.filter((a) => a.detected).length;
  const days = (until - since) / DAY_MS;
  const detectors = sortedUnique([...inWindow.map((a) => a.detector), ...attacks.flatMap((a) => a.expected)]).map((d): DetectorScore => {
    const caught = attacks.filter((a) => a.detectors.includes(d)).map((a) => a.id);
    const expected = attacks.filter((a) => a.expected.includes(d)).map((a) => a.id);
    return {
      detector: d,
      alerts: inWindow.filter((a) => a.detector === d).length,
      caught,
      expected,
      missed: expected.filter((id) => !caught.includes(id)),
      falseAlerts: falseAlerts.filter((f) => f.detector === d).length,
    };
  });
  return {
    since, until, days, graceMs,
    attacks,
    detected,
    missed: attacks.length - detected,
    recall: attacks.length === 0 ? null : detected / attacks.length,
    alerts: inWindow.length,
    trueAlerts: inWindow.length - falseAlerts.length,
    falseAlerts,
    falsePerDay: falseAlerts.length / days,
    detectors,
  };
}

const OPTIONAL_FIELDS = ['src_addr', 'dst_addr', 'src_node', 'dst_node'] as const;
type OptionalField = (typeof OPTIONAL_FIELDS)[number];

/** The alerts stored with a time in the window, each in its latest version (the table replaces by updated_at). */
export async function loadAlerts(store: Store, window: ScoreWindow): Promise<ScoredAlert[]> {
  // time_ms, not time: an alias named like a column would stand for it in WHERE too.
  const rows = await store.rows<{ alert_id: string; time_ms: string; detector: string; summary: string } & Record<OptionalField, string | null>>(
    `SELECT alert_id, toUnixTimestamp64Milli(time) AS time_ms, detector, summary, src_addr, dst_addr, src_node, dst_node
      FROM ${store.tbl('alerts')} FINAL
      WHERE time >= fromUnixTimestamp64Milli({since:Int64}) AND time <= fromUnixTimestamp64Milli({until:Int64})
      ORDER BY time, detector, alert_id`,
    { since: window.since, until: window.until },
  );
  return rows.map((r) => {
    const alert: ScoredAlert = { alert_id: r.alert_id, time: Number(r.time_ms), detector: r.detector, summary: r.summary };
    // NULL addresses and empty node names both mean the detector named none.
    for (const k of OPTIONAL_FIELDS) if (r[k]) alert[k] = r[k];
    return alert;
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const min = Math.floor(s / 60);
  const part = (n: number, unit: string) => (n ? ` ${n} ${unit}` : '');
  if (min < 60) return `${min} min${part(Math.floor(s % 60), 's')}`;
  return `${Math.floor(min / 60)} h${part(min % 60, 'min')}`;
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => `  ${r.map((v, i) => v.padEnd(width[i]!)).join('  ')}`.trimEnd());
}

/** The score as a report for a terminal. */
export function formatScore(s: Score): string {
  const list = (xs: string[]) => xs.join(',') || '-';
  return [
    `Score of ${iso(s.since)} .. ${iso(s.until)} (${s.days.toFixed(2)} simulated days; an alert counts up to ${formatDuration(s.graceMs)} after an attack's last flow)`,
    '',
    `Attacks (${s.attacks.length}):`,
    ...table(['attack', 'kind', 'start', 'result', 'detector', 'time to detect', 'alerts', 'expected'], s.attacks.map((a) => [
      a.id, a.kind, iso(a.start), a.detected ? 'detected' : 'MISSED', a.detector ?? '-',
      a.timeToDetectMs === null ? '-' : formatDuration(a.timeToDetectMs), String(a.alerts.length), list(a.expected),
    ])),
    '',
    `Recall: ${s.recall === null ? 'n/a (no attack starts in the window)' : `${s.detected}/${s.attacks.length} = ${(s.recall * 100).toFixed(1)} %`}`,
    `Alerts: ${s.alerts} in the window, ${s.trueAlerts} on attacks, ${s.falseAlerts.length} false (${s.falsePerDay.toFixed(2)} per simulated day)`,
    '',
    'False alerts:',
    ...table(['time', 'detector', 'summary', 'benign trap'], s.falseAlerts.map((f) => [iso(f.time), f.detector, f.summary, list(f.traps)])),
    '',
    'Per detector:',
    ...table(['detector', 'alerts', 'false', 'caught', 'expected', 'expected but missed'], s.detectors.map((d) => [
      d.detector, String(d.alerts), String(d.falseAlerts), list(d.caught), list(d.expected), list(d.missed),
    ])),
  ].join('\n');
}

/** Wall-clock detection latency of the streaming detectors' stored alerts: the triggering flow's arrival to the alert. */
export async function detectionLatency(store: Store): Promise<{ alerts: number; p50: number; p99: number; max: number }> {
  const [r] = await store.rows<{ n: string; p50: number; p99: number; max: number }>(
    `SELECT count() AS n, quantileExact(0.5)(l) AS p50, quantileExact(0.99)(l) AS p99, max(l) AS max FROM (
      SELECT JSONExtractFloat(evidence, 'details', 'detection_latency_ms') AS l FROM ${store.tbl('alerts')} FINAL
      WHERE JSONHas(evidence, 'details', 'detection_latency_ms'))`,
  );
  return { alerts: Number(r?.n ?? 0), p50: Math.round(r?.p50 ?? 0), p99: Math.round(r?.p99 ?? 0), max: Math.round(r?.max ?? 0) };
}
