/**
 * The main job (`npm start` runs `eastwatch demo`): the simulator plays the default scenario through the real
 * ingest paths into one eastwatch process, which reports flows per second and alerts as they come, and the
 * score against the ground truth: every attack of the scenario detected, no alert on its benign traps.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ATTACK_KINDS, TRAP_KINDS } from '../../simulator/events';
import { parseTruth } from '../../simulator/truth-file';
import { cli, testEnv, TestEnv } from '../helpers';

describe('eastwatch demo', () => {
  let t: TestEnv;
  afterAll(() => t?.cleanup());

  it('plays the default scenario into the pipeline and scores the alerts against its ground truth', async () => {
    t = testEnv({ EASTWATCH_HTTP_PORT: '0' });
    const out = await cli(t, ['demo', '--speed', '60'], 300_000);
    expect(out).toMatch(/^ {2}simulated \d\d:\d\d:\d\d {2}\d+ flows\/s in, \d+ so far, \d+ alerts$/m);
    expect(out).toMatch(/^ {2}ALERT \d\d:\d\d:\d\d critical outside-allocation: gpu007 \(job 88213\) opened SSH \(tcp\/22\) to gpu\d+ \(job \w+\), outside its allocation; \d+ flows?, /m);
    const flows = /^(\d+) flows simulated in [\d.]+ s \(\d+ flows\/s\): \{"dpu":(\d+),"switch":(\d+),"hubble":(\d+),"proxy":(\d+)\}; (\d+) allocation events$/m.exec(out);
    expect(flows).not.toBeNull();
    const [, total, ...perPath] = flows!.slice(0, 6).map(Number);
    expect(perPath.every((n) => n! > 0)).toBe(true);
    expect(perPath.reduce((a, b) => a! + b!, 0)).toBe(total);
    expect(Number(flows![6])).toBeGreaterThan(0);

    // Every attack and trap of the scenario is in the truth it wrote, and shown.
    const truth = parseTruth(readFileSync(path.join(t.home, 'demo', 'truth.jsonl'), 'utf8'), 'truth.jsonl');
    expect(new Set(truth.filter((l) => l.class === 'attack').map((l) => l.kind))).toEqual(new Set(ATTACK_KINDS));
    expect(new Set(truth.filter((l) => l.class === 'benign').map((l) => l.kind))).toEqual(new Set(TRAP_KINDS));
    for (const l of truth) expect(out).toContain(` ${l.id.padEnd(24)} `);
    // Every attack detected, by a detector its label expects; not one alert on a benign trap or on nothing.
    const attacks = truth.filter((l) => l.class === 'attack').length;
    expect(out).toContain(`Recall: ${attacks}/${attacks} = 100.0 %`);
    expect(out).toMatch(/^Alerts: \d+ in the window, \d+ on attacks, 0 false \(0\.00 per simulated day\)$/m);
    expect(out).not.toContain(' MISSED ');
    // The same score from `eastwatch score` on what the demo stored.
    const scored = JSON.parse(await cli(t, ['score', '--truth', path.join(t.home, 'demo', 'truth.jsonl'), '--json']));
    expect(scored).toMatchObject({ recall: 1, falseAlerts: [] });
    for (const a of scored.attacks as { expected: string[]; detectors: string[]; id: string }[]) {
      expect([a.id, a.detectors.some((d) => a.expected.includes(d))]).toEqual([a.id, true]);
    }
  });
});
