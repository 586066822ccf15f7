/**
 * End-to-end collector benchmark with the simulator as the load: the default scenario's DPU flows sent as IPFIX
 * over UDP (one exporter per node, each from its own loopback address) at BENCH_RATE flows/s of the model
 * (default 50000; the DPU share of them goes out) for BENCH_SECONDS (60) to an `eastwatch start --roles
 * collectors,writer,http` child process; prints records sent, received, stored, loss (UDP drops + anything
 * after), end-to-end rate and the child's RSS. Uses KAFKA_BROKERS when set, else the bundled broker on
 * 127.0.0.1:19292.
 */
import { Emitters } from '../simulator/emit/emitters';
import { ExporterAddresses } from '../simulator/emit/emitter';
import { IpfixEmitter } from '../simulator/emit/ipfix';
import { ClusterModel } from '../simulator/model/model';
import { runSimulation } from '../simulator/run';
import { DEFAULT_SCENARIO, loadScenario, scenarioInventory } from '../simulator/scenario';
import { benchSetup, memoryOf, metricSum, mib, startEastwatch } from './setup';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 50_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const bench = benchSetup({ EASTWATCH_COLLECTORS: 'ipfix', EASTWATCH_COLLECTOR_HOST: '127.0.0.1', EASTWATCH_IPFIX_PORT: '0', EASTWATCH_LOG_LEVEL: 'info' });
  const { child, httpPort, ports: { ipfix: ipfixPort } } = await startEastwatch(bench.env, 'collectors,writer,http', ['ipfix']);

  const scenario = loadScenario(DEFAULT_SCENARIO);
  const inventory = scenarioInventory(scenario);
  const model = new ClusterModel(scenario, inventory, { start: Date.now() });
  const ipfix = new IpfixEmitter({ target: { host: '127.0.0.1', port: ipfixPort! }, addresses: new ExporterAddresses(inventory.nodes.keys()) });
  const stop = new AbortController();
  console.log(`simulating ${RATE} flows/s (IPFIX from ${inventory.nodes.size} nodes' DPUs) for ${SECONDS} s to 127.0.0.1:${ipfixPort}; eastwatch pid ${child.pid}`);
  const t0 = Date.now();
  let peakRss = 0;
  let lastReport = t0;
  const timer = setTimeout(() => stop.abort(), SECONDS * 1000);
  const run = await runSimulation({
    events: (from, to) => model.events(from, to), start: model.start, duration: 365 * 86_400_000, rate: RATE, signal: stop.signal,
    emitters: new Emitters({ flows: { dpu: ipfix } }),
    onProgress: () => {
      if (Date.now() - lastReport < 5000) return;
      lastReport = Date.now();
      peakRss = Math.max(peakRss, memoryOf(child.pid!, 'VmRSS'));
      void metricSum(httpPort, 'eastwatch_records_in_total{stage="collector"').then((received) =>
        console.log(`  t=${Math.round((lastReport - t0) / 1000)}s sent=${ipfix.stats.records} received=${received}`));
    },
  });
  clearTimeout(timer);
  const sent = ipfix.stats.records;
  const sentAt = Date.now();
  let stored = 0;
  let received = 0;
  for (let still = 0; still < 20;) {
    await sleep(500);
    received = await metricSum(httpPort, 'eastwatch_records_in_total{stage="collector"');
    const now = await metricSum(httpPort, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}');
    still = now === stored && now >= received ? still + 1 : 0;
    stored = now;
  }
  const doneAt = Date.now() - 20 * 500;
  peakRss = Math.max(peakRss, memoryOf(child.pid!, 'VmHWM'));
  await ipfix.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  console.log('\neastwatch collector benchmark (IPFIX over UDP -> collector -> Kafka -> writer -> chDB, one process)');
  console.log(`  sent                ${sent} records (${Math.round(sent / ((sentAt - t0) / 1000))} records/s; ${run.flows} model flows, the DPU share sent)`);
  console.log(`  received            ${received} records; UDP loss ${sent - received} (${(((sent - received) / sent) * 100).toFixed(3)} %)`);
  console.log(`  stored              ${stored} records; loss after receipt ${received - stored}`);
  console.log(`  end to end          ${Math.round(stored / ((doneAt - t0) / 1000))} flows/s (first datagram to last insert)`);
  console.log(`  eastwatch RSS       peak ${mib(peakRss)}`);
  bench.teardown();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
