/**
 * Enrichment cost on the collector's hot path, one core: IPFIX decode, and the collector's whole CPU path per
 * record (decode and the Avro wire encoding produced to Kafka), each with and without enrichment of both ends
 * of every flow (zone and owner by longest-prefix match, job by node and pod timelines). Goal: enrichment
 * must not halve the collector's throughput. The inventory is the shipped 64-node example with its rails
 * renumbered to the benchmark's DPU addressing; every node has 50 past jobs and a current one.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { AllocationTimeline } from '../allocations/timeline';
import type { Allocation } from '../core/records';
import { Enricher } from '../enrich/enricher';
import { decodeIpfix } from '../ingest/ipfix/decoder';
import { ExporterStates } from '../ingest/ipfix/state';
import { EXAMPLE_INVENTORY } from '../inventory/example';
import { Inventory } from '../inventory/inventory';
import { InventorySchema } from '../inventory/schema';
import { FLOWS } from '../core/streams';
import { dataMessages, templateMessage } from './dpu-export';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const spec = InventorySchema.parse(parseYaml(readFileSync(EXAMPLE_INVENTORY, 'utf8')));
// The benchmark's DPUs number rail r of node n as 10.(100+r).0.(10+n).
spec.zones.find((z) => z.name === 'training')!.cidrs.push('10.96.0.0/11');
spec.nodes.find((g) => g.hosts === 'gpu[001-064]')!.backend = Array.from({ length: 8 }, (_, r) => `10.${100 + r}.0.10`);
const inventory = Inventory.build(spec);

const now = Date.now();
const timeline = new AllocationTimeline();
const rows: Allocation[] = [];
for (let n = 1; n <= 64; n++) {
  const node = `gpu${String(n).padStart(3, '0')}`;
  for (let j = 0; j < 50; j++) {
    const start = now - (51 - j) * 3600e3;
    rows.push({ job_id: `job-${n}-${j}`, node, start, end: start + 3600e3, pattern: 'ring', source: 'slurm', updated_at: start });
  }
  rows.push({ job_id: `current-${n >> 3}`, node, start: now - 3600e3, pattern: 'all-to-all', source: 'slurm', updated_at: now });
}
timeline.apply(rows);
const enricher = new Enricher(() => inventory, timeline);

const states = new ExporterStates();
const ctx = { exporter: '192.0.2.10', now, states, transport: 'udp' as const };
decodeIpfix(templateMessage(), ctx);
const messages = dataMessages(2000, 22, 1, now);

/** The collector's CPU path per record: decode, optionally enrich, and the Avro wire encoding Kafka gets. */
function run(enrich: boolean, encode: boolean): { rate: number; jobs: number } {
  let records = 0;
  let jobs = 0;
  let i = 0;
  for (let w = 0; w < 20_000; w++) decodeIpfix(messages[w % messages.length]!, ctx);
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < SECONDS) {
    for (let k = 0; k < 1000; k++) {
      const { flows } = decodeIpfix(messages[i++ % messages.length]!, ctx);
      records += flows.length;
      if (enrich) for (const f of flows) if (enricher.enrich(f).src_job) jobs++;
      if (encode) FLOWS.codec.encode(flows);
    }
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return { rate: records / elapsed, jobs };
}

const rate = (r: { rate: number }) => `${Math.round(r.rate).toLocaleString('en')} records/s`;
const decodeOnly = run(false, false);
const decodeEnrich = run(true, false);
const collector = run(false, true);
const collectorEnriched = run(true, true);
console.log('eastwatch enrichment benchmark (one core, DPU template, 64-node inventory, 3,264 allocations)');
console.log(`  decode                      ${rate(decodeOnly)}`);
console.log(`  decode + enrich             ${rate(decodeEnrich)} (${decodeEnrich.jobs > 0 ? 'jobs attributed' : 'NO JOBS ATTRIBUTED'})`);
console.log(`  collector path              ${rate(collector)} (decode + wire encode)`);
console.log(`  collector path + enrich     ${rate(collectorEnriched)}`);
console.log(`  collector throughput kept   ${((collectorEnriched.rate / collector.rate) * 100).toFixed(0)} % (goal: more than 50 %)`);
console.log(`  RSS                         ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
