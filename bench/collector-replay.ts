/**
 * A DPU's IPFIX replayed over UDP at a fixed rate, as an operator would test a collector: prebuilt export packets
 * (the DPU template, 22 records each), so the sender costs almost nothing, at BENCH_RATE records/s (100,000) for
 * BENCH_SECONDS (60) into an `eastwatch start --roles BENCH_ROLES` child (collectors,http: UDP to Kafka, the
 * writer elsewhere). Prints records sent, received, the datagrams dropped by the kernel and by the reader thread
 * (sent = received + dropped, in datagrams), the collector's RSS.
 */
import * as dgram from 'node:dgram';
import { benchSetup, memoryOf, metricSum, mib, startEastwatch } from './setup';
import { dataMessages, templateMessage } from './dpu-export';

const RATE = Number(process.env.BENCH_RATE ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const ROLES = process.env.BENCH_ROLES ?? 'collectors,http';
const PER_MESSAGE = 22;
const TICK_MS = 2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function main(): Promise<void> {
  const bench = benchSetup({ EASTWATCH_COLLECTORS: 'ipfix', EASTWATCH_COLLECTOR_HOST: '127.0.0.1', EASTWATCH_IPFIX_PORT: '0', EASTWATCH_LOG_LEVEL: 'info' });
  const { child, httpPort, ports: { ipfix: port } } = await startEastwatch(bench.env, ROLES, ['ipfix']);

  const socket = dgram.createSocket('udp4');
  const send = (b: Buffer) => new Promise<void>((resolve) => socket.send(b, port!, '127.0.0.1', () => resolve()));
  await send(templateMessage());
  const messages = dataMessages(4096, PER_MESSAGE);
  const perSecond = RATE / PER_MESSAGE;
  console.log(`replaying ${RATE.toLocaleString('en')} IPFIX records/s (${Math.round(perSecond).toLocaleString('en')} datagrams/s) for ${SECONDS} s into \`eastwatch start --roles ${ROLES}\` (pid ${child.pid})`);
  const t0 = performance.now();
  let datagrams = 0;
  let peakRss = 0;
  let lastReport = t0;
  while (performance.now() - t0 < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * perSecond);
    const batch: Promise<void>[] = [];
    for (; datagrams < due; datagrams++) batch.push(send(messages[datagrams % messages.length]!));
    await Promise.all(batch);
    if (performance.now() - lastReport >= 5000) {
      lastReport = performance.now();
      peakRss = Math.max(peakRss, memoryOf(child.pid!, 'VmRSS'));
      console.log(`  t=${Math.round((lastReport - t0) / 1000)}s sent=${datagrams * PER_MESSAGE} received=${await metricSum(httpPort, 'eastwatch_records_in_total{stage="collector"')}`);
    }
    await sleep(TICK_MS);
  }
  const seconds = (performance.now() - t0) / 1000;
  // Until every datagram is counted as received or dropped, or nothing moves for 5 s.
  let received = 0;
  let dropped = 0;
  for (let still = 0, last = -1; still < 10 && received + dropped < datagrams + 1; still = received === last ? still + 1 : 0, last = received) {
    await sleep(500);
    received = await metricSum(httpPort, 'eastwatch_collector_packets_total');
    dropped = await metricSum(httpPort, 'eastwatch_collector_receive_drops_total');
  }
  const records = await metricSum(httpPort, 'eastwatch_records_in_total{stage="collector"');
  const kernel = await metricSum(httpPort, 'eastwatch_collector_receive_drops_total', 'where="kernel"');
  peakRss = Math.max(peakRss, memoryOf(child.pid!, 'VmHWM'));
  socket.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const sent = datagrams * PER_MESSAGE;
  console.log(`\neastwatch collector replay (IPFIX over UDP -> collector -> Kafka, roles ${ROLES})`);
  console.log(`  sent                ${sent.toLocaleString('en')} records in ${seconds.toFixed(1)} s = ${Math.round(sent / seconds).toLocaleString('en')} records/s (${(datagrams + 1).toLocaleString('en')} datagrams with the template)`);
  console.log(`  received            ${records.toLocaleString('en')} records; loss ${(((sent - records) / sent) * 100).toFixed(3)} %`);
  console.log(`  datagrams           received ${received.toLocaleString('en')}, dropped ${dropped.toLocaleString('en')} (kernel ${kernel.toLocaleString('en')}, reader ${(dropped - kernel).toLocaleString('en')}): ${received + dropped === datagrams + 1 ? 'every one accounted for' : `${datagrams + 1 - received - dropped} unaccounted`}`);
  console.log(`  collector RSS       peak ${mib(peakRss)}`);
  bench.teardown();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
