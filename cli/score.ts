/**
 * `eastwatch score`: the stored alerts against a simulation's ground truth (simulator/score.ts says how they
 * match). Without --since/--until the window is the truth's own span, grace included.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../app/config';
import { checkWindow, DEFAULT_GRACE_MS, formatScore, loadAlerts, score, truthWindow } from '../simulator/score';
import { readTruth } from '../simulator/truth-file';
import { withStore } from './store';
import { time } from './time';

const millis = (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected milliseconds, a whole number');
  return n;
};

export function registerScore(program: Command, config: () => Config): void {
  program.command('score')
    .description('compare the stored alerts with a ground-truth file: attacks detected or missed, time to detect, recall, false alerts')
    .requiredOption('--truth <file>', 'ground truth, JSON lines of labels (the simulator writes it)')
    .option('--since <time>', 'window start: ms since the epoch or ISO 8601 (default: the first label\'s start)', time)
    .option('--until <time>', 'window end, included (default: the last label\'s end plus the grace)', time)
    .option('--grace-ms <ms>', 'how long after an attack\'s last flow an alert still detects it', millis, DEFAULT_GRACE_MS)
    .option('--json', 'print the score as JSON')
    .action(async (o: { truth: string; since?: number; until?: number; graceMs: number; json?: boolean }) => {
      const truth = readTruth(o.truth);
      const span = o.since === undefined || o.until === undefined ? truthWindow(truth, o.graceMs) : undefined;
      const window = checkWindow({ since: o.since ?? span!.since, until: o.until ?? span!.until });
      const result = await withStore(config(), async (store) => score(truth, await loadAlerts(store, window), window, { graceMs: o.graceMs }));
      console.log(o.json ? JSON.stringify(result) : formatScore(result));
    });
}
