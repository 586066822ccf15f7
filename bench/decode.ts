/**
 * IPFIX decode benchmark: records/s on one core for the DPU template (5-tuple, counters, ms times, TCP flags,
 * interfaces, VLAN, VNI), through decodeIpfix with its compiled per-template decoder. Goal: 2M records/s.
 */
import { decodeIpfix } from '../ingest/ipfix/decoder';
import { ExporterStates } from '../ingest/ipfix/state';
import { dataMessages, templateMessage } from './dpu-export';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const states = new ExporterStates();
const ctx = { exporter: '192.0.2.10', now: Date.now(), states, transport: 'udp' as const };
decodeIpfix(templateMessage(), ctx);
const messages = dataMessages(2000);

let records = 0;
let i = 0;
// Warm-up, so the measured loop runs optimized code.
for (let w = 0; w < 20_000; w++) records += decodeIpfix(messages[w % messages.length]!, ctx).flows.length;
records = 0;
const t0 = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < SECONDS) {
  for (let k = 0; k < 1000; k++) {
    const out = decodeIpfix(messages[i++ % messages.length]!, ctx);
    records += out.flows.length;
  }
  elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
}
const rss = process.memoryUsage().rss;
console.log('eastwatch IPFIX decode benchmark (one core, DPU template, 22 records a message)');
console.log(`  records decoded     ${records} in ${elapsed.toFixed(1)} s`);
console.log(`  rate                ${Math.round(records / elapsed).toLocaleString('en')} records/s (${Math.round(i / elapsed).toLocaleString('en')} messages/s)`);
console.log(`  RSS                 ${(rss / 2 ** 20).toFixed(0)} MiB`);
