/**
 * End-to-end collector benchmark: IPFIX datagrams (DPU template, 22 records each) sent over UDP at BENCH_RATE
 * records/s (default 50000) for BENCH_SECONDS (60) to an `eastwatch start --roles collectors,writer,http` child
 * process; prints records sent, received, stored, loss (UDP drops + anything after), end-to-end rate and the
 * child's RSS. Uses KAFKA_BROKERS when set, else the bundled broker on 127.0.0.1:19292.
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import { dataMessages, templateMessage } from './dpu-export';
import { benchSetup, CLI, memoryOf, mib } from './setup';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 50_000);
const PER_MESSAGE = 22;

const metric = async (port: number, series: string) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(series)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const bench = benchSetup({ EASTWATCH_COLLECTORS: 'ipfix', EASTWATCH_COLLECTOR_HOST: '127.0.0.1', EASTWATCH_IPFIX_PORT: '0', EASTWATCH_LOG_LEVEL: 'info' });
  const child = spawn(process.execPath, [CLI, 'start', '--roles', 'collectors,writer,http'], { env: bench.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  let httpPort = 0;
  let ipfixPort = 0;
  for (let i = 0; i < 600 && !(httpPort && ipfixPort); i++) {
    await sleep(100);
    httpPort = Number(/"httpPort":(\d+)/.exec(log)?.[1] ?? 0);
    ipfixPort = Number(/"protocol":"ipfix","transport":"udp","host":"127.0.0.1","port":(\d+)/.exec(log)?.[1] ?? 0);
  }
  if (!httpPort || !ipfixPort) throw new Error(`eastwatch did not start:\n${log.slice(-2000)}`);

  const socket = dgram.createSocket('udp4');
  const send = (b: Buffer) => new Promise<void>((r) => socket.send(b, ipfixPort, '127.0.0.1', () => r()));
  await send(templateMessage());
  const messages = dataMessages(5000, PER_MESSAGE);
  console.log(`sending ${RATE} records/s of IPFIX over UDP for ${SECONDS} s to 127.0.0.1:${ipfixPort}; eastwatch pid ${child.pid}`);
  const t0 = Date.now();
  let sent = 0;
  let m = 0;
  let peakRss = 0;
  let lastReport = t0;
  while (Date.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
    while (sent < due) {
      await send(messages[m++ % messages.length]!);
      sent += PER_MESSAGE;
    }
    if (m % 50 === 0) await send(templateMessage()); // templates are refreshed, as exporters do
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      peakRss = Math.max(peakRss, memoryOf(child.pid!, 'VmRSS'));
      console.log(`  t=${Math.round((lastReport - t0) / 1000)}s sent=${sent} received=${await metric(httpPort, 'eastwatch_records_in_total{stage="collector"')} stored=${await metric(httpPort, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}')}`);
    }
    await sleep(5);
  }
  const sentAt = Date.now();
  let stored = 0;
  let received = 0;
  for (let still = 0; still < 20;) {
    await sleep(500);
    received = await metric(httpPort, 'eastwatch_records_in_total{stage="collector"');
    const now = await metric(httpPort, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}');
    still = now === stored && now >= received ? still + 1 : 0;
    stored = now;
  }
  const doneAt = Date.now() - 20 * 500;
  peakRss = Math.max(peakRss, memoryOf(child.pid!, 'VmHWM'));
  socket.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  console.log('\neastwatch collector benchmark (IPFIX over UDP -> collector -> Kafka -> writer -> chDB, one process)');
  console.log(`  sent                ${sent} records (${Math.round(sent / ((sentAt - t0) / 1000))} records/s)`);
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
