/**
 * The allocation feed every collector and detector process keeps: it loads the allocations already published,
 * follows new ones as they come, and lets go of the broker promptly on stop (a shutdown waits on it).
 */
import { AllocationFeed } from '../../allocations/feed';
import { loadConfig } from '../../app/config';
import { ensureTopics, kafkaContext } from '../../core/kafka';
import { createLogger } from '../../core/log';
import { cli, testEnv, TestEnv, waitFor } from '../helpers';

describe('allocation feed', () => {
  let t: TestEnv;
  afterAll(() => t?.cleanup());

  it('loads what was published, follows what comes next, and stops within a second', async () => {
    t = testEnv();
    const log = createLogger('error');
    const kafka = kafkaContext(loadConfig(t.env).kafka, log);
    await ensureTopics(kafka, log);
    await cli(t, ['allocations', 'add', '--job', 'before', '--nodes', 'gpu[001-002]', '--start', '2025-11-24T09:00:00Z']);

    const feed = new AllocationFeed(kafka, log, 'test');
    const fatal: Error[] = [];
    await feed.start((e) => fatal.push(e));
    const at = Date.parse('2025-11-24T10:00:00Z');
    expect(feed.timeline.nodeAt('gpu002', at)?.job).toBe('before');
    expect(feed.timeline.nodeAt('gpu003', at)).toBeUndefined();

    await cli(t, ['allocations', 'add', '--job', 'after', '--nodes', 'gpu003', '--start', '2025-11-24T09:30:00Z']);
    await waitFor(() => feed.timeline.nodeAt('gpu003', at)?.job === 'after', 20_000, () => 'the second allocation never reached the feed');

    // Idle: its consumer sits in a fetch the broker holds open until data or the fetch's wait runs out.
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    await feed.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(fatal).toEqual([]);
  });
});
