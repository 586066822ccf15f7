/**
 * Findings to alerts: one alert per episode, updates within it, a new alert after a quiet period, ids derived
 * so a replay or another process arrives at the same alert, firing episodes going on after a restart.
 */
import { AlertLifecycle, alertIdOf, fingerprintOf } from '../../alerts/lifecycle';
import { AlertSchema } from '../../core/records';
import type { Finding } from '../../detectors/finding';
import { MIN, SEC, T0 } from '../detector-fixtures';

const finding = (t: number, o: Partial<Finding> = {}): Finding => ({
  detector: 'outside-allocation', severity: 'warning', key: ['88213', 'gpu007'], time: t, first: t - SEC, last: t, flows: 1, bytes: 1000,
  counts: 'increment', summary: 'gpu007 (job 88213) opened SSH (tcp/22) to gpu020, outside its allocation',
  entities: { src_node: 'gpu007', dst_node: 'gpu020', src_addr: '10.30.1.7', dst_port: 22, protocol: 6 },
  flow: { time_start: t - SEC, time_end: t, exporter: '127.0.0.1', src_addr: '10.30.1.7', src_port: 40000, dst_addr: '10.30.1.20', dst_port: 22, protocol: 6, bytes: 1000 },
  where: "src_node = 'gpu007'", ...o,
});

describe('alert lifecycle', () => {
  let wall = T0 + 10 * MIN;
  const lifecycle = () => new AlertLifecycle({ quietMs: 15 * MIN, updateMs: 5000, flowsTable: '`eastwatch`.`flows`', now: () => wall });

  it('raises one alert per episode and updates it with every finding', () => {
    const l = lifecycle();
    l.observe(finding(T0));
    l.observe(finding(T0 + 10 * SEC, { severity: 'critical', bytes: 2048 }));
    const [a, ...rest] = l.take();
    expect(rest).toEqual([]);
    expect(AlertSchema.parse(a)).toEqual(a);
    const fp = fingerprintOf('outside-allocation', ['88213', 'gpu007']);
    expect(a).toMatchObject({
      alert_id: alertIdOf(fp, T0 - SEC), fingerprint: fp, state: 'firing', severity: 'critical', time: T0, first_seen: T0 - SEC, last_seen: T0 + 10 * SEC,
      flows: 2, bytes: 3048, src_node: 'gpu007', dst_node: 'gpu020', raised_at: wall,
      summary: 'gpu007 (job 88213) opened SSH (tcp/22) to gpu020, outside its allocation; 2 flows, 3.0 KiB',
    });
    const ev = JSON.parse(a!.evidence);
    expect(ev.top_flows).toHaveLength(2);
    expect(ev.sql).toBe("SELECT * FROM `eastwatch`.`flows` WHERE src_node = 'gpu007' AND time_end >= fromUnixTimestamp64Milli("
      + `${T0 - SEC}) AND time_start <= fromUnixTimestamp64Milli(${T0 + 10 * SEC}) ORDER BY time_start`);
  });

  it('holds back updates of a firing alert for updateMs, sends ends at once, and a new episode after the quiet period', () => {
    const l = lifecycle();
    l.observe(finding(T0));
    const [first] = l.take();
    l.observe(finding(T0 + MIN));
    expect(l.take()).toEqual([]);
    wall += 5000;
    expect(l.take().map((a) => [a.alert_id, a.flows])).toEqual([[first!.alert_id, 2]]);
    l.endQuiet(T0 + 20 * MIN);
    const [ended] = l.take();
    expect(ended).toMatchObject({ alert_id: first!.alert_id, state: 'ended' });
    expect(ended!.updated_at).toBeGreaterThan(first!.updated_at);
    l.observe(finding(T0 + 30 * MIN));
    const [next] = l.take();
    expect(next!.alert_id).not.toBe(first!.alert_id);
    expect(next!.fingerprint).toBe(first!.fingerprint);
  });

  it('counts the firing alerts per detector and severity (the eastwatch_alerts_firing gauge), ended ones not', () => {
    const l = lifecycle();
    l.observe(finding(T0));
    l.observe(finding(T0, { key: ['88213', 'gpu008'] }));
    l.observe(finding(T0 + 10 * MIN, { detector: 'scan', key: ['gpu009'], severity: 'critical' }));
    expect(l.firingBy()).toEqual([
      { detector: 'outside-allocation', severity: 'warning', count: 2 },
      { detector: 'scan', severity: 'critical', count: 1 },
    ]);
    l.endQuiet(T0 + 16 * MIN);
    expect(l.firingBy()).toEqual([{ detector: 'scan', severity: 'critical', count: 1 }]);
  });

  it('keeps the largest totals of a windowed detector instead of adding them up', () => {
    const l = lifecycle();
    l.observe(finding(T0, { counts: 'total', bytes: 5e7, flows: 10 }));
    l.observe(finding(T0 + MIN, { counts: 'total', bytes: 6e7, flows: 12 }));
    l.observe(finding(T0 + 2 * MIN, { counts: 'total', bytes: 6e7, flows: 12 }));
    expect(l.take(true).map((a) => [a.bytes, a.flows])).toEqual([[6e7, 12]]);
  });

  it('goes on with an episode restored from the alerts topic instead of raising it again', () => {
    const before = lifecycle();
    before.observe(finding(T0));
    const [sent] = before.take();
    const after = lifecycle();
    after.restore([sent!]);
    after.observe(finding(T0 + MIN));
    const [update] = after.take(true);
    expect(update).toMatchObject({ alert_id: sent!.alert_id, flows: 2, time: T0, raised_at: sent!.raised_at });
    expect(update!.summary).toMatch(/outside its allocation; 2 flows, 2\.0 KiB$/);
    // A replay in another process derives the same id without the topic.
    const replay = lifecycle();
    replay.observe(finding(T0));
    expect(replay.take()[0]!.alert_id).toBe(sent!.alert_id);
  });

  it('ignores an ended alert on restore', () => {
    const l = lifecycle();
    l.observe(finding(T0));
    l.take();
    l.endQuiet(T0 + 20 * MIN);
    const [ended] = l.take();
    const after = lifecycle();
    after.restore([ended!]);
    expect(after.firing).toBe(0);
  });

  it("holds back an episode a suppression matches; after the hold only new traffic raises it, and one that ends held is dropped", () => {
    let holding = true;
    const held: string[] = [];
    const l = new AlertLifecycle({
      quietMs: 15 * MIN, updateMs: 0, flowsTable: '`eastwatch`.`flows`', now: () => wall,
      held: (a) => holding && a.src_node === 'gpu007', onHold: (a) => held.push(a.alert_id),
    });
    l.observe(finding(T0));
    l.observe(finding(T0, { key: ['88213', 'gpu008'], entities: { src_node: 'gpu008' } }));
    expect(l.take().map((a) => a.src_node)).toEqual(['gpu008']);
    wall += SEC;
    l.observe(finding(T0 + 10 * SEC));
    expect(l.take()).toEqual([]);
    expect(held).toHaveLength(1); // counted once per episode
    holding = false;
    wall += SEC;
    expect(l.take()).toEqual([]); // the hold ended, but nothing new came since
    wall += SEC;
    l.observe(finding(T0 + 20 * SEC));
    const [raised] = l.take();
    expect(raised).toMatchObject({ src_node: 'gpu007', state: 'firing', first_seen: T0 - SEC, flows: 3 });

    const quiet = new AlertLifecycle({ quietMs: 15 * MIN, updateMs: 0, flowsTable: '`eastwatch`.`flows`', now: () => wall, held: () => true });
    quiet.observe(finding(T0));
    expect(quiet.take()).toEqual([]);
    quiet.endQuiet(T0 + 20 * MIN);
    expect(quiet.take()).toEqual([]);
    expect(quiet.firing).toBe(0);
  });
});
