/**
 * The main job (`npm start` runs `eastwatch demo`): the simulator plays the default scenario through the real
 * ingest paths into one eastwatch process, which reports flows per second and alerts as they come, and the
 * score against the ground truth. Until detectors exist it shows the whole ground truth and no detection.
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
    expect(out).toMatch(/^ {2}simulated \d\d:\d\d:\d\d {2}\d+ flows\/s in, \d+ so far, 0 alerts$/m);
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
    // No detector yet: every attack missed, no alert, said plainly.
    expect(out).toContain(`Recall: 0/${truth.filter((l) => l.class === 'attack').length} = 0.0 %`);
    expect(out).toContain('Alerts: 0 in the window, 0 on attacks, 0 false');
    expect(out.match(/ MISSED /g)?.length).toBe(truth.filter((l) => l.class === 'attack').length);
  });
});
