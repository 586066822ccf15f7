/**
 * `eastwatch score` on alerts stored in embedded ClickHouse: its JSON is exactly the pure function's score of
 * the same alerts (each in its latest version), so the stored path loses nothing: times, NULL addresses, empty
 * node names, IPv4 stored IPv4-mapped.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../app/config';
import { openStore } from '../../core/clickhouse';
import { migrate } from '../../core/migrations';
import type { Alert } from '../../core/records';
import type { TruthLabel } from '../../simulator/events';
import { score, truthWindow } from '../../simulator/score';
import { CLI, cli, testEnv, TestEnv } from '../helpers';

const T0 = Date.UTC(2025, 0, 1);
const MIN = 60_000;

const TRUTH: TruthLabel[] = [
  { id: 'lateral', class: 'attack', kind: 'lateral-ssh', nodes: ['gpu001'], addresses: ['10.0.0.1'], start: T0 + 10 * MIN, end: T0 + 20 * MIN, detectors: ['lateral-movement'], description: 'ssh from gpu001 to another job' },
  { id: 'bmc', class: 'attack', kind: 'bmc-access', nodes: ['gpu004'], addresses: ['10.0.1.4', 'fd00::4'], start: T0 + 60 * MIN, end: T0 + 61 * MIN, job: 'job-4', detectors: ['zone-crossing'], description: 'tenant node to a BMC' },
  { id: 'exfil', class: 'attack', kind: 'exfil-proxy-slow', nodes: ['gpu003'], addresses: ['10.0.0.3'], start: T0 + 120 * MIN, end: T0 + 180 * MIN, detectors: ['egress-baseline'], description: 'slow exfiltration through the proxy' },
  { id: 'checkpoint', class: 'benign', kind: 'checkpoint-burst', nodes: ['stor01'], addresses: ['10.0.2.1'], start: T0 + 5 * MIN, end: T0 + 40 * MIN, description: 'checkpoint to storage' },
];

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const row = (n: number, time: number, detector: string, names: Partial<Alert>, updated_at = time): Alert => ({
  alert_id: uuid(n), fingerprint: `fp${n}`, detector, severity: 'warning', state: 'firing', time, first_seen: time, last_seen: time, raised_at: time,
  summary: `${detector} alert ${n}`, bytes: 0, flows: 1, evidence: '{}', updated_at, ...names,
});

const ROWS: Alert[] = [
  row(1, T0 + 10 * MIN - 1000, 'lateral-movement', { src_node: 'gpu001' }), // a second before the attack: false
  row(2, T0 + 12 * MIN, 'lateral-movement', { src_node: 'gpu001', src_addr: '10.0.0.1', dst_addr: '10.0.0.9', src_job: 'job-1' }),
  row(3, T0 + 62 * MIN, 'zone-crossing', { dst_addr: '::ffff:10.0.1.4', src_zone: 'tenant', dst_zone: 'bmc' }),
  row(4, T0 + 63 * MIN, 'zone-crossing', { src_addr: 'fd00::4' }),
  row(5, T0 + 35 * MIN, 'egress-baseline', { src_node: 'stor01' }), // the trap: false
  row(6, T0 - 3 * 86_400_000, 'lateral-movement', { src_node: 'gpu001' }), // another run's: outside the window
  // Updated later: the newer version (a new summary) is the one scored, once.
  row(7, T0 + 90 * MIN, 'scan', { dst_node: 'gpu099' }),
  row(7, T0 + 90 * MIN, 'scan', { dst_node: 'gpu099', summary: 'scan alert 7, ended', state: 'ended' }, T0 + 100 * MIN),
];
const LATEST = ROWS.filter((r, i) => !ROWS.slice(i + 1).some((later) => later.alert_id === r.alert_id));

function run(t: TestEnv, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [CLI, ...args], { env: t.env, timeout: 60_000 }, (e, stdout, stderr) =>
    resolve({ code: e ? Number(e.code) : 0, stdout, stderr })));
}

describe('eastwatch score', () => {
  let t: TestEnv;
  let truthFile: string;
  afterAll(() => t?.cleanup());

  beforeAll(async () => {
    t = testEnv();
    truthFile = path.join(t.home, 'truth.jsonl');
    writeFileSync(truthFile, `${TRUTH.map((l) => JSON.stringify(l)).join('\n')}\n`);
    // Stored as a detector would; closed before the CLI opens the same chDB directory.
    const cfg = loadConfig(t.env);
    const store = openStore(cfg.clickhouse, cfg.home);
    try {
      await migrate(store, cfg.clickhouse);
      for (const r of ROWS) await store.client.insert({ table: store.tbl('alerts'), values: [r], format: 'JSONEachRow' });
    } finally {
      await store.close();
    }
  });

  it('prints as JSON the score of the stored alerts, the truth giving the window', async () => {
    const expected = score(TRUTH, LATEST, truthWindow(TRUTH));
    const out = JSON.parse(await cli(t, ['score', '--truth', truthFile, '--json']));
    expect(out).toEqual(JSON.parse(JSON.stringify(expected)));
    // What the score must say, lest both sides be wrong the same way.
    expect(expected).toMatchObject({ detected: 2, missed: 1, alerts: 6, trueAlerts: 3 });
    expect(expected.attacks.map((a) => [a.id, a.detector, a.timeToDetectMs])).toEqual([
      ['lateral', 'lateral-movement', 2 * MIN], ['bmc', 'zone-crossing', 2 * MIN], ['exfil', null, null],
    ]);
    expect(expected.falseAlerts.map((f) => [f.alert_id, f.summary, f.traps])).toEqual([
      [uuid(1), 'lateral-movement alert 1', []], [uuid(5), 'egress-baseline alert 5', ['checkpoint']], [uuid(7), 'scan alert 7, ended', []],
    ]);
  });

  it('takes the window as ISO times or ms, and prints a report without --json', async () => {
    const window = { since: T0 - 4 * 86_400_000, until: T0 + 86_400_000 };
    const expected = score(TRUTH, LATEST, window);
    expect(expected.alerts).toBe(7);
    const out = JSON.parse(await cli(t, ['score', '--truth', truthFile, '--since', new Date(window.since).toISOString(), '--until', String(window.until), '--json']));
    expect(out).toEqual(JSON.parse(JSON.stringify(expected)));
    const report = await cli(t, ['score', '--truth', truthFile]);
    expect(report).toContain('Recall: 2/3 = 66.7 %');
    expect(report).toMatch(/^ {2}exfil +exfil-proxy-slow +\S+ +MISSED/m);
  });

  it('names a bad truth line in one line, exit 2', async () => {
    const bad = path.join(t.home, 'bad.jsonl');
    writeFileSync(bad, `${JSON.stringify(TRUTH[0])}\n{"id":"x"}\n`);
    const r = await run(t, ['score', '--truth', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^eastwatch: .*bad\.jsonl:2: /)]);
    const empty = await run(t, ['score', '--truth', bad, '--since', String(T0), '--until', String(T0)]);
    expect(empty.stderr).toMatch(/^eastwatch: .*bad\.jsonl:2: /); // the truth is read first
    writeFileSync(bad, '\n');
    const noWindow = await run(t, ['score', '--truth', bad, '--since', String(T0), '--until', String(T0)]);
    expect(noWindow.code).toBe(2);
    expect(noWindow.stderr).toMatch(/^eastwatch: the window must end after it starts/);
  });
});
