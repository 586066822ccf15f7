/**
 * The streaming detectors raise the same alerts, and none twice, however they run: one process straight
 * through; one SIGKILLed right after it published a batch's alerts and before it committed the batch (the
 * batch is judged again after the restart), then restarted; two processes in one consumer group. Each run
 * reads the same 15 simulated minutes of the default scenario from topics of its own.
 */
import { KafkaMessage } from 'kafkajs';
import { waitCaughtUp } from '../../core/kafka';
import { kafkaContext } from '../../core/kafka';
import { createLogger } from '../../core/log';
import type { Alert } from '../../core/records';
import { readToEnd } from '../../core/topic-snapshot';
import { decodeAlert } from '../../alerts/stream';
import { loadConfig } from '../../app/config';
import { EXAMPLE_INVENTORY } from '../../inventory/example';
import { score } from '../../simulator/score';
import type { TruthLabel } from '../../simulator/events';
import { killChildren, spawnCli, testEnv, TestEnv, testKafka } from '../helpers';
import { produceScenario } from '../scenario-topics';

const START = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const STREAMING = new Set(['outside-allocation', 'topology-mismatch', 'zone-violation', 'policy-denied', 'scan']);

interface Run {
  t: TestEnv;
  truth: TruthLabel[];
  /** Every version on the alerts topic. */
  versions: Alert[];
}

describe('streaming detectors across restarts and scale-out', () => {
  const envs: TestEnv[] = [];
  const kafka = testKafka();
  afterAll(() => {
    killChildren();
    for (const t of envs) t.cleanup();
  });

  async function run(processes: (t: TestEnv) => Promise<void>): Promise<Run> {
    const t = testEnv({ EASTWATCH_INVENTORY: EXAMPLE_INVENTORY, EASTWATCH_DETECTORS_SETTLE_MS: '0' });
    envs.push(t);
    t.env.EASTWATCH_DETECTORS_GROUP = `${t.prefix}-detectors`;
    const { truth } = await produceScenario(t, START, 15);
    await processes(t);
    const versions: Alert[] = [];
    const ctx = kafkaContext(loadConfig(t.env).kafka, createLogger('warn'));
    await readToEnd(ctx, ctx.topics.alerts, (m: KafkaMessage) => versions.push(decodeAlert(m.value!)));
    return { t, truth, versions };
  }

  const detectors = (t: TestEnv, extra: NodeJS.ProcessEnv = {}) => spawnCli(t, ['start', '--roles', 'detectors,http'], extra);
  const caughtUp = (t: TestEnv) => waitCaughtUp(kafka, `${t.prefix}.flows`, t.env.EASTWATCH_DETECTORS_GROUP!, 120_000);
  const stop = async (c: ReturnType<typeof detectors>) => {
    c.proc.kill('SIGTERM');
    expect(await c.exited).toEqual({ code: 0, signal: null });
  };

  /** fingerprint -> its alert ids, sorted. */
  const episodes = (r: Run) => {
    const m = new Map<string, Set<string>>();
    for (const a of r.versions) m.set(a.fingerprint, (m.get(a.fingerprint) ?? new Set()).add(a.alert_id));
    return Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]).sort());
  };

  let straight: Run;

  it('one process straight through detects every attack a streaming detector should, with no false alert', async () => {
    straight = await run(async (t) => {
      const p = detectors(t);
      await p.httpPort();
      await caughtUp(t);
      await stop(p);
    });
    const latest = [...new Map(straight.versions.map((a) => [a.alert_id, a])).values()];
    const s = score(straight.truth, latest, { since: START, until: START + 20 * 60_000 });
    const streamingAttacks = s.attacks.filter((a) => a.expected.some((d) => STREAMING.has(d)));
    expect(streamingAttacks.length).toBeGreaterThanOrEqual(7);
    expect(streamingAttacks.filter((a) => !a.detected).map((a) => a.id)).toEqual([]);
    expect(s.falseAlerts).toEqual([]);
  });

  it('killed between publishing alerts and committing, then restarted: the same alerts, none twice', async () => {
    const killed = await run(async (t) => {
      const first = detectors(t, { EASTWATCH_FAILPOINT: 'detectors-before-commit:4' });
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const second = detectors(t);
      await second.httpPort();
      await caughtUp(t);
      await stop(second);
    });
    expect(episodes(killed)).toEqual(episodes(straight));
  });

  it('two processes of one consumer group: the same alerts, none twice', async () => {
    const pair = await run(async (t) => {
      const [a, b] = [detectors(t), detectors(t)];
      await Promise.all([a.httpPort(), b.httpPort()]);
      await caughtUp(t);
      await Promise.all([stop(a), stop(b)]);
    });
    expect(episodes(pair)).toEqual(episodes(straight));
  });
});
