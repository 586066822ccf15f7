/**
 * Polls a scheduler (a command such as `squeue --json` or `kubectl get pods -A -o json`, or slurmrestd over
 * HTTP), turns its document into allocation events and publishes the ones that changed since the last poll.
 * A failed poll is logged and counted and the next one tries again; nothing else stops.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from '../core/log';
import { recordsFailed } from '../core/metrics';
import type { AllocationPublisher } from './publish';
import type { AllocationEventInput, AllocationImport } from './event';

const exec = promisify(execFile);

export type DocumentSource = () => Promise<unknown>;

/** A shell command's stdout as JSON. */
export const commandSource = (command: string, timeoutMs = 60_000): DocumentSource => async () => {
  const { stdout } = await exec('/bin/sh', ['-c', command], { timeout: timeoutMs, maxBuffer: 512 << 20 });
  return JSON.parse(stdout) as unknown;
};

/**
 * An HTTP GET returning JSON (slurmrestd), with its auth headers. A user:password@ in the URL becomes HTTP basic
 * authentication (fetch refuses URLs with credentials, and would put them in its error message).
 */
export function httpSource(url: string, headers: Record<string, string>, timeoutMs = 60_000): DocumentSource {
  const target = new URL(url);
  const auth: Record<string, string> = target.username
    ? { authorization: `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}` }
    : {};
  target.username = '';
  target.password = '';
  return async () => {
    const res = await fetch(target, { headers: { accept: 'application/json', ...auth, ...headers }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${target.href}: HTTP ${res.status}`);
    return (await res.json()) as unknown;
  };
}

export class AllocationPoller {
  private readonly last = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly source: DocumentSource,
    private readonly parse: (doc: unknown, now: number) => AllocationImport,
    private readonly publisher: AllocationPublisher,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    const loop = () => {
      this.running = this.poll().then(() => undefined, () => undefined).finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.intervalMs);
      });
    };
    loop();
  }

  /** One poll: the events that differ from what this poller published before. */
  async poll(): Promise<number> {
    try {
      const { events, skipped } = this.parse(await this.source(), Date.now());
      const changed: AllocationEventInput[] = events.filter((e) => this.last.get(e.job_id) !== JSON.stringify(e));
      await this.publisher.publish(changed);
      for (const e of changed) this.last.set(e.job_id, JSON.stringify(e));
      if (changed.length > 0 || skipped.length > 0) this.log.info({ source: this.name, published: changed.length, skipped: skipped.length }, 'allocations polled');
      return changed.length;
    } catch (e) {
      recordsFailed.inc({ stage: 'allocations', source: this.name, reason: 'poll-failed' });
      this.log.warn({ err: e, source: this.name }, 'allocation poll failed; retrying next interval');
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
