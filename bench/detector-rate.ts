/**
 * How fast the streaming detectors judge flows: BENCH_FLOWS (default 1,000,000) flows of the default scenario are
 * produced straight into the flows topic, then `eastwatch start --roles detectors,http` (one process, every
 * streaming detector, no settle delay) reads them from the beginning. Prints flows judged per second from the
 * first to the last, alerts published, and the process's peak RSS: to set beside the pipeline's full rate
 * (bench:collector, bench:pipeline), which the detectors must keep up with.
 */
import { execFileSync, spawn } from 'node:child_process';
import { EXAMPLE_INVENTORY } from '../inventory/example';
import { benchSetup, CLI, memoryOf, mib } from './setup';

const FLOWS = Number(process.env.BENCH_FLOWS ?? 1_000_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const metric = async (port: number, series: string) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(series)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
};

async function main(): Promise<void> {
  const bench = benchSetup({ EASTWATCH_INVENTORY: EXAMPLE_INVENTORY, EASTWATCH_DETECTORS_SETTLE_MS: '0', EASTWATCH_LOG_LEVEL: 'info' });
  try {
    console.log(`producing ${FLOWS} flows of the default scenario into the flows topic`);
    execFileSync(process.execPath, [CLI, 'produce', '--flows', String(FLOWS)], { env: bench.env, stdio: ['ignore', 'ignore', 'inherit'] });
    const child = spawn(process.execPath, [CLI, 'start', '--roles', 'detectors,http'], { env: bench.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    let port = 0;
    for (let i = 0; i < 600 && !port; i++) {
      await sleep(100);
      port = Number(/"httpPort":(\d+)/.exec(log)?.[1] ?? 0);
    }
    if (!port) throw new Error(`eastwatch did not start:\n${log.slice(-2000)}`);
    let first = 0;
    let judged = 0;
    let peak = 0;
    for (;;) {
      await sleep(200);
      judged = await metric(port, 'eastwatch_records_in_total{stage="detectors"');
      if (judged > 0 && !first) first = Date.now();
      peak = Math.max(peak, memoryOf(child.pid!, 'VmRSS'));
      if (judged >= FLOWS) break;
    }
    const seconds = (Date.now() - first) / 1000;
    const alerts = await metric(port, 'eastwatch_alerts_raised_total');
    peak = Math.max(peak, memoryOf(child.pid!, 'VmHWM'));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    console.log('\neastwatch streaming detectors benchmark (flows topic -> 5 streaming detectors -> alerts topic, one process)');
    console.log(`  judged     ${judged} flows in ${seconds.toFixed(1)} s: ${Math.round(judged / seconds)} flows/s`);
    console.log(`  alerts     ${alerts} raised`);
    console.log(`  peak RSS   ${mib(peak)}`);
    console.log(JSON.stringify({ flows: judged, seconds, flowsPerSecond: Math.round(judged / seconds), alerts, peakRssMiB: Math.round(peak / 2 ** 20) }));
  } finally {
    bench.teardown();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
