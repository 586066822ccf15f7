/** The stage lifecycle: order, reverse stop, rollback of a failed start, health per stage, fatal failures. */
import pino from 'pino';
import { Stage, StageContext, StageRunner } from '../../core/stage';

const quiet = pino({ level: 'silent' });

function recorder() {
  const events: string[] = [];
  const stage = (name: string, opts: { failStart?: boolean; failStop?: boolean; unhealthy?: string } = {}): Stage & { ctx?: StageContext } => {
    const s: Stage & { ctx?: StageContext } = {
      name,
      async start(ctx) {
        events.push(`start ${name}`);
        s.ctx = ctx;
        if (opts.failStart) throw new Error(`${name} cannot start`);
      },
      async stop() {
        events.push(`stop ${name}`);
        if (opts.failStop) throw new Error(`${name} cannot stop`);
      },
      ...(opts.unhealthy ? { health: () => { throw new Error(opts.unhealthy); } } : {}),
    };
    return s;
  };
  return { events, stage };
}

describe('StageRunner', () => {
  it('starts stages in order and stops them in reverse, once, even when one fails to stop', async () => {
    const { events, stage } = recorder();
    const runner = new StageRunner(quiet, () => undefined);
    await runner.start(stage('a'));
    await runner.start(stage('b', { failStop: true }));
    await runner.start(stage('c'));
    await Promise.all([runner.stop(), runner.stop()]);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('rolls back a failed start: the stages already started stop in reverse, and the error reaches the caller', async () => {
    const { events, stage } = recorder();
    const runner = new StageRunner(quiet, () => undefined);
    await runner.start(stage('a'));
    await runner.start(stage('b'));
    await expect(runner.start(stage('c', { failStart: true }))).rejects.toThrow('c cannot start');
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
    await expect(runner.start(stage('d'))).rejects.toThrow(/stopping/);
  });

  it('reports every stage in the health report, failing while one is not ready', async () => {
    const { stage } = recorder();
    const runner = new StageRunner(quiet, () => undefined);
    await runner.start(stage('kafka'));
    await runner.start(stage('collectors', { unhealthy: 'producing to t.flows fails for 3 s' }));
    expect(await runner.health()).toEqual({ status: 'failing', stages: { kafka: 'ok', collectors: 'producing to t.flows fails for 3 s' } });
    const healthy = new StageRunner(quiet, () => undefined);
    await healthy.start(stage('kafka'));
    expect(await healthy.health()).toEqual({ status: 'ok', stages: { kafka: 'ok' } });
  });

  it('turns a fatal failure into one log line, a stop of every stage, then onFatal once', async () => {
    const { events, stage } = recorder();
    const lines: { level: number; msg: string; stage?: string }[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const fatal: [string, string][] = [];
    let done: () => void = () => undefined;
    const exited = new Promise<void>((r) => (done = r));
    const runner = new StageRunner(log, (name, e) => {
      fatal.push([name, e.message]);
      events.push('exit');
      done();
    });
    await runner.start(stage('a'));
    const writer = await runner.start(stage('writer'));
    writer.ctx!.fatal(new Error('consumer crashed'));
    writer.ctx!.fatal(new Error('again'));
    await exited;
    expect(fatal).toEqual([['writer', 'consumer crashed']]);
    expect(events).toEqual(['start a', 'start writer', 'stop writer', 'stop a', 'exit']);
    expect(lines.filter((l) => l.level >= 50)).toEqual([expect.objectContaining({ level: 60, stage: 'writer', msg: 'stage writer failed: consumer crashed; stopping the process' })]);
  });
});
