/**
 * The detectors' quality bar, measured: the demo (every role in one process, the simulator playing a scenario
 * through the real ingest paths) on BENCH_SCENARIO (default simulator/scenarios/day.yaml: a simulated day of the
 * 64-node cluster) at BENCH_SPEED (default 200x), its first BENCH_DURATION when set, every detector on,
 * seed-egress-volume included. Prints the
 * demo's report (recall, false alerts per simulated day, time to detect per attack, the egress detectors side by
 * side, detection latency) and a last JSON line of the figures, with the process's peak RSS.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DETECTOR_NAMES } from '../detectors/finding';
import { benchSetup, CLI, ROOT } from './setup';

const SCENARIO = process.env.BENCH_SCENARIO ?? path.join(ROOT, 'simulator/scenarios/day.yaml');
const SPEED = process.env.BENCH_SPEED ?? '200';
/** Plays only the scenario's first BENCH_DURATION (e.g. 3h), when set. */
const DURATION = process.env.BENCH_DURATION;

async function main(): Promise<void> {
  const bench = benchSetup({ EASTWATCH_DETECTORS: DETECTOR_NAMES.join(','), EASTWATCH_LOG_LEVEL: 'warn' });
  const t0 = Date.now();
  const child = spawn(process.execPath, [CLI, 'demo', '--scenario', SCENARIO, '--speed', SPEED, ...(DURATION ? ['--duration', DURATION] : [])], { env: bench.env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    process.stdout.write(b);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  bench.teardown();
  if (code !== 0) throw new Error(`the demo exited with ${code}`);
  const grab = (re: RegExp) => re.exec(out)?.slice(1);
  const [flows, seconds] = grab(/^(\d+) flows simulated in ([\d.]+) s/m) ?? [];
  const [detected, attacks] = grab(/^Recall: (\d+)\/(\d+)/m) ?? [];
  const [alerts, falseAlerts, perDay] = grab(/^Alerts: (\d+) in the window, \d+ on attacks, (\d+) false \(([\d.]+) per simulated day\)/m) ?? [];
  const [p50, p99] = grab(/p50 (\d+) ms, p99 (\d+) ms/) ?? [];
  const [rss] = grab(/^Peak RSS of this process: (\d+) MiB/m) ?? [];
  console.log(JSON.stringify({
    scenario: path.relative(ROOT, SCENARIO), speed: Number(SPEED), ...(DURATION ? { duration: DURATION } : {}), flows: Number(flows), flowsPerSecond: Math.round(Number(flows) / Number(seconds)),
    attacks: Number(attacks), detected: Number(detected), alerts: Number(alerts), falseAlerts: Number(falseAlerts), falsePerDay: Number(perDay),
    latencyP50Ms: Number(p50), latencyP99Ms: Number(p99), peakRssMiB: Number(rss), wallSeconds: Math.round((Date.now() - t0) / 1000),
  }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
