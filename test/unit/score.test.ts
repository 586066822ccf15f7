/** The score of alerts against a ground truth: the matching rule at its boundaries, and the truth file reader. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../core/error-text';
import type { TruthLabel } from '../../simulator/events';
import {
  checkWindow, DEFAULT_GRACE_MS, formatScore, score, ScoreWindowError, truthWindow, type Score, type ScoredAlert,
} from '../../simulator/score';
import { parseTruth, readTruth, TruthFileError } from '../../simulator/truth-file';

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;
const HOUR = 60 * MIN;
const GRACE = DEFAULT_GRACE_MS;
const WINDOW = { since: T0, until: T0 + 12 * HOUR };

const label = (l: Partial<TruthLabel> & Pick<TruthLabel, 'id' | 'kind' | 'start' | 'end'>): TruthLabel =>
  ({ class: 'attack', nodes: [], addresses: [], description: l.id, ...l });
const alert = (alert_id: string, time: number, detector: string, names: Partial<ScoredAlert>): ScoredAlert =>
  ({ alert_id, time, detector, summary: `${detector} on ${alert_id}`, ...names });

const A1 = label({ id: 'A1', kind: 'lateral-ssh', nodes: ['gpu001'], addresses: ['10.0.0.1'], start: T0 + 10 * MIN, end: T0 + 20 * MIN, detectors: ['lateral-movement'] });
const A2 = label({ id: 'A2', kind: 'scan', nodes: ['gpu002'], addresses: ['10.0.0.2'], start: T0 + 60 * MIN, end: T0 + 70 * MIN, detectors: ['scan'] });
const A3 = label({ id: 'A3', kind: 'exfil-proxy-slow', nodes: ['gpu003'], addresses: ['10.0.0.3'], start: T0 + 120 * MIN, end: T0 + 180 * MIN, detectors: ['egress-baseline'] });
// Its IPv4 address written IPv4-mapped, its IPv6 one canonical.
const A4 = label({ id: 'A4', kind: 'bmc-access', nodes: ['gpu004'], addresses: ['::ffff:10.0.1.4', 'fd00::4'], start: T0 + 300 * MIN, end: T0 + 300 * MIN + 30_000, detectors: ['zone-crossing'] });
// Started before the window: not scored, but its alerts in the window are not false either.
const A5 = label({ id: 'A5', kind: 'policy-denied', nodes: ['gpu005'], start: T0 - 30 * MIN, end: T0 - 2 * MIN });
// Starts a minute before the window ends; its alert comes after: missed.
const A6 = label({ id: 'A6', kind: 'rail-crossing', nodes: ['gpu007'], start: WINDOW.until - MIN, end: WINDOW.until + 10 * MIN, detectors: ['topology'] });
const B1 = label({ id: 'B1', class: 'benign', kind: 'checkpoint-burst', nodes: ['stor01', 'gpu006'], addresses: ['10.0.2.1'], start: T0 + 10 * MIN, end: T0 + 40 * MIN });
const TRUTH = [B1, A6, A5, A4, A3, A2, A1];

const ALERTS: ScoredAlert[] = [
  alert('unrelated', T0 + 200 * MIN, 'scan', { src_addr: '10.9.9.9' }),
  alert('x-before', A1.start - 1000, 'lateral-movement', { src_node: 'gpu001' }),
  alert('a1-at-start', A1.start, 'lateral-movement', { src_node: 'gpu001' }),
  alert('a1-and-trap', T0 + 15 * MIN, 'zone-crossing', { src_node: 'gpu001', dst_node: 'stor01' }),
  alert('trap-only', T0 + 30 * MIN, 'egress-baseline', { src_node: 'stor01', dst_addr: '10.0.2.1' }),
  alert('a2-mapped', A2.start + 90_000, 'scan', { src_addr: '::ffff:10.0.0.2' }),
  alert('a2-end-grace', A2.end + GRACE, 'scan', { dst_addr: '10.0.0.2' }),
  alert('a2-end-grace+1', A2.end + GRACE + 1, 'scan', { src_node: 'gpu002' }),
  alert('a4-v6', A4.start + 2 * MIN, 'zone-crossing', { dst_addr: 'FD00:0:0::4' }),
  alert('a4-tie', A4.start + 2 * MIN, 'bmc-access', { dst_addr: '10.0.1.4' }),
  alert('a5-tail', T0 + MIN, 'policy-denied', { src_node: 'gpu005' }),
  alert('out-early', T0 - 1, 'policy-denied', { src_node: 'gpu005' }),
  alert('out-late', WINDOW.until + 1, 'topology', { src_node: 'gpu007' }),
];

describe('score', () => {
  const s = score(TRUTH, ALERTS, WINDOW);
  const attack = (id: string) => s.attacks.find((a) => a.id === id)!;

  it('scores the hand-built truth exactly', () => {
    const expected: Score = {
      since: WINDOW.since, until: WINDOW.until, days: 0.5, graceMs: GRACE,
      attacks: [
        { id: 'A1', kind: 'lateral-ssh', start: A1.start, end: A1.end, detected: true, detector: 'lateral-movement', detectedAt: A1.start, timeToDetectMs: 0,
          detectors: ['lateral-movement', 'zone-crossing'], expected: ['lateral-movement'], alerts: ['a1-at-start', 'a1-and-trap'] },
        { id: 'A2', kind: 'scan', start: A2.start, end: A2.end, detected: true, detector: 'scan', detectedAt: A2.start + 90_000, timeToDetectMs: 90_000,
          detectors: ['scan'], expected: ['scan'], alerts: ['a2-mapped', 'a2-end-grace'] },
        { id: 'A3', kind: 'exfil-proxy-slow', start: A3.start, end: A3.end, detected: false, detector: null, detectedAt: null, timeToDetectMs: null,
          detectors: [], expected: ['egress-baseline'], alerts: [] },
        { id: 'A4', kind: 'bmc-access', start: A4.start, end: A4.end, detected: true, detector: 'bmc-access', detectedAt: A4.start + 2 * MIN, timeToDetectMs: 2 * MIN,
          detectors: ['bmc-access', 'zone-crossing'], expected: ['zone-crossing'], alerts: ['a4-tie', 'a4-v6'] },
        { id: 'A6', kind: 'rail-crossing', start: A6.start, end: A6.end, detected: false, detector: null, detectedAt: null, timeToDetectMs: null,
          detectors: [], expected: ['topology'], alerts: [] },
      ],
      detected: 3, missed: 2, recall: 0.6,
      alerts: 11, trueAlerts: 7,
      falseAlerts: [
        { alert_id: 'x-before', time: A1.start - 1000, detector: 'lateral-movement', summary: 'lateral-movement on x-before', traps: [] },
        { alert_id: 'trap-only', time: T0 + 30 * MIN, detector: 'egress-baseline', summary: 'egress-baseline on trap-only', traps: ['B1'] },
        { alert_id: 'a2-end-grace+1', time: A2.end + GRACE + 1, detector: 'scan', summary: 'scan on a2-end-grace+1', traps: [] },
        { alert_id: 'unrelated', time: T0 + 200 * MIN, detector: 'scan', summary: 'scan on unrelated', traps: [] },
      ],
      falsePerDay: 8,
      detectors: [
        { detector: 'bmc-access', alerts: 1, caught: ['A4'], expected: [], missed: [], falseAlerts: 0 },
        { detector: 'egress-baseline', alerts: 1, caught: [], expected: ['A3'], missed: ['A3'], falseAlerts: 1 },
        { detector: 'lateral-movement', alerts: 2, caught: ['A1'], expected: ['A1'], missed: [], falseAlerts: 1 },
        { detector: 'policy-denied', alerts: 1, caught: [], expected: [], missed: [], falseAlerts: 0 },
        { detector: 'scan', alerts: 4, caught: ['A2'], expected: ['A2'], missed: [], falseAlerts: 2 },
        { detector: 'topology', alerts: 0, caught: [], expected: ['A6'], missed: ['A6'], falseAlerts: 0 },
        { detector: 'zone-crossing', alerts: 2, caught: ['A1', 'A4'], expected: ['A4'], missed: [], falseAlerts: 0 },
      ],
    };
    expect(s).toEqual(expected);
  });

  it('does not let an alert one second before an attack starts detect it; one exactly at the start does, in 0 ms', () => {
    expect(s.falseAlerts.map((f) => f.alert_id)).toContain('x-before');
    expect(attack('A1')).toMatchObject({ detector: 'lateral-movement', detectedAt: A1.start, timeToDetectMs: 0 });
    // Without the alert at the start, the earliest left is the one that also names a trap.
    const later = score([A1, B1], ALERTS.filter((a) => a.alert_id !== 'a1-at-start'), WINDOW);
    expect(later.attacks[0]).toMatchObject({ detector: 'zone-crossing', timeToDetectMs: 5 * MIN, alerts: ['a1-and-trap'] });
    expect(later.falseAlerts.map((f) => f.alert_id)).not.toContain('a1-and-trap');
  });

  it('matches up to end + grace included, not one ms after; the grace is configurable', () => {
    expect(attack('A2').alerts).toEqual(['a2-mapped', 'a2-end-grace']);
    expect(s.falseAlerts.map((f) => f.alert_id)).toContain('a2-end-grace+1');
    const longer = score([A2], ALERTS.filter((a) => a.alert_id.startsWith('a2-')), WINDOW, { graceMs: GRACE + 1 });
    expect(longer.attacks[0]!.alerts).toEqual(['a2-mapped', 'a2-end-grace', 'a2-end-grace+1']);
    expect(longer.falseAlerts).toEqual([]);
    const none = score([A2], ALERTS.filter((a) => a.alert_id === 'a2-end-grace'), WINDOW, { graceMs: 0 });
    expect(none.attacks[0]!.detected).toBe(false);
  });

  it('compares addresses as IPs: IPv4-mapped equals IPv4, IPv6 in any spelling', () => {
    const one = (names: Partial<ScoredAlert>) => score([A2, A4], [alert('a', A4.start, 'd', names)], WINDOW).attacks.filter((x) => x.detected).map((x) => x.id);
    expect(score([A2], [alert('mapped-vs-plain', A2.start, 'd', { src_addr: '::ffff:10.0.0.2' })], WINDOW).detected).toBe(1);
    expect(one({ dst_addr: '10.0.1.4' })).toEqual(['A4']);
    expect(one({ dst_addr: '::ffff:a00:104' })).toEqual(['A4']);
    expect(one({ src_addr: 'fd00:0000:0000:0000:0000:0000:0000:0004' })).toEqual(['A4']);
    expect(one({ src_addr: 'fd00::5' })).toEqual([]);
  });

  it('counts an alert naming only a trap as false, and one naming an attack and a trap for the attack', () => {
    expect(s.falseAlerts.find((f) => f.alert_id === 'trap-only')!.traps).toEqual(['B1']);
    expect(attack('A1').alerts).toContain('a1-and-trap');
  });

  it('counts several alerts on one attack as true, and credits the earliest (ties by detector)', () => {
    expect(attack('A4')).toMatchObject({ detector: 'bmc-access', detectors: ['bmc-access', 'zone-crossing'], alerts: ['a4-tie', 'a4-v6'] });
    expect(s.trueAlerts).toBe(7);
  });

  it('ignores alerts outside [since, until] and scores only attacks starting in it', () => {
    expect(s.attacks.map((a) => a.id)).toEqual(['A1', 'A2', 'A3', 'A4', 'A6']);
    expect(attack('A6').detected).toBe(false); // its only alert is 1 ms after until
    expect(s.alerts).toBe(ALERTS.length - 2);
    // A5 began before the window: its alert inside is neither false nor credited.
    expect(s.falseAlerts.map((f) => f.alert_id)).not.toContain('a5-tail');
    const widened = score(TRUTH, ALERTS, { since: T0 - HOUR, until: WINDOW.until + HOUR });
    expect(widened.attacks.find((a) => a.id === 'A5')).toMatchObject({ detector: 'policy-denied', alerts: ['out-early', 'a5-tail'] });
    expect(widened.attacks.find((a) => a.id === 'A6')).toMatchObject({ detector: 'topology', timeToDetectMs: MIN + 1 });
  });

  it('gives false alerts per simulated day over the window length, and no recall without attacks', () => {
    const day = score([B1], [alert('f', T0 + 30 * MIN, 'd', { src_node: 'stor01' })], { since: T0, until: T0 + 2 * 86_400_000 });
    expect(day).toMatchObject({ days: 2, falsePerDay: 0.5, recall: null, detected: 0, missed: 0, trueAlerts: 0 });
  });

  it('wants a window that ends after it starts; the truth spans first start to last end + grace', () => {
    expect(() => score(TRUTH, ALERTS, { since: T0, until: T0 })).toThrow(ScoreWindowError);
    expect(() => checkWindow({ since: T0, until: Number.NaN })).toThrow(/the window must end after it starts/);
    expect(new ScoreWindowError('x')).toBeInstanceOf(UserError);
    expect(truthWindow(TRUTH)).toEqual({ since: A5.start, until: A6.end + GRACE });
    expect(() => truthWindow([])).toThrow(ScoreWindowError);
  });

  it('formats a readable report', () => {
    const text = formatScore(s);
    expect(text).toContain('Score of 2025-01-01T00:00:00.000Z .. 2025-01-01T12:00:00.000Z (0.50 simulated days; an alert counts up to 5 min after');
    expect(text).toMatch(/^ {2}A2 +scan +2025-01-01T01:00:00\.000Z +detected +scan +1 min 30 s +2 +scan$/m);
    expect(text).toMatch(/^ {2}A3 +exfil-proxy-slow +\S+ +MISSED +- +- +0 +egress-baseline$/m);
    expect(text).toContain('Recall: 3/5 = 60.0 %');
    expect(text).toContain('Alerts: 11 in the window, 7 on attacks, 4 false (8.00 per simulated day)');
    expect(text).toMatch(/^ {2}2025-01-01T00:30:00\.000Z +egress-baseline +egress-baseline on trap-only +B1$/m);
    expect(text).toMatch(/^ {2}topology +0 +0 +- +A6 +A6$/m);
    expect(formatScore(score([], [], WINDOW))).toContain('Recall: n/a (no attack starts in the window)');
  });
});

describe('readTruth', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-truth-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, lines: string[]) => {
    const p = path.join(dir, name);
    writeFileSync(p, lines.join('\n'));
    return p;
  };
  const line = (l: unknown) => JSON.stringify(l);

  it('reads JSON lines of labels, skipping blank lines', () => {
    const p = file('good.jsonl', [line(A1), '', line(B1), '  ', line({ ...A4, job: 'job-7' }), '']);
    expect(readTruth(p)).toEqual([A1, B1, { ...A4, job: 'job-7' }]);
  });

  it.each([
    ['not JSON', '{"id":', /bad\.jsonl:2: not JSON: /],
    ['a missing field', line({ ...A1, start: undefined }), /bad\.jsonl:2: start: /],
    ['a bad address', line({ ...A1, addresses: ['10.0.0.300'] }), /bad\.jsonl:2: addresses\.0: not an IPv4 or IPv6 address/],
    ['an attack of a trap kind', line({ ...A1, kind: 'checkpoint-burst' }), /bad\.jsonl:2: kind: checkpoint-burst is not an attack kind/],
    ['a trap of an attack kind', line({ ...B1, kind: 'scan' }), /bad\.jsonl:2: kind: scan is not a benign trap kind/],
    ['an unknown kind', line({ ...A1, kind: 'ddos' }), /bad\.jsonl:2: kind: /],
    ['an end before the start', line({ ...A1, end: A1.start - 1 }), /bad\.jsonl:2: end: before start/],
    ['nothing an alert could name', line({ ...A1, nodes: [], addresses: [] }), /bad\.jsonl:2: nodes: no nodes and no addresses/],
    ['an unknown key', line({ ...A1, severity: 'high' }), /bad\.jsonl:2: \(label\): .*severity/],
    ['not an object', line([A1]), /bad\.jsonl:2: \(label\): /],
    ['a repeated id', line({ ...A2, id: 'A1' }), /bad\.jsonl:2: id "A1" already used on line 1/],
  ])('names the line of %s', (_what, bad, message) => {
    const p = file('bad.jsonl', [line(A1), bad]);
    expect(() => readTruth(p)).toThrow(TruthFileError);
    expect(() => readTruth(p)).toThrow(message);
  });

  it('names a file it cannot read', () => {
    const missing = path.join(dir, 'missing.jsonl');
    expect(() => readTruth(missing)).toThrow(TruthFileError);
    expect(() => readTruth(missing)).toThrow(`${missing}: ENOENT`);
    expect(new TruthFileError('x')).toBeInstanceOf(UserError);
  });

  it('parses text too, an empty file being an empty truth', () => {
    expect(parseTruth('\n', 'empty')).toEqual([]);
  });
});
