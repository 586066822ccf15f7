/**
 * `eastwatch demo` (what `npm start` runs): the whole pipeline on one machine with the embedded defaults.
 * The synthetic cluster of the inventory (the example 64-node one unless EASTWATCH_INVENTORY is set) announces
 * its jobs on the allocations topic as a scheduler hook would; its raw flows go through the enrichment stage,
 * the bundled Kafka broker and the writer into chDB; then the findings are read back from ClickHouse: traffic
 * per zone pair, cross-job talk, zone crossings the inventory does not allow, and policy-denied drops.
 */
import { startApp } from '../app/app';
import type { Config } from '../app/config';
import { waitCaughtUp } from '../core/kafka';
import { RecordProducer } from '../core/record-producer';
import { FLOWS } from '../core/streams';
import type { Logger } from '../core/log';
import { AllocationPublisher } from '../allocations/publish';
import { EnrichmentStage } from '../enrich/stage';
import { SyntheticCluster, syntheticAllocations } from '../ingest/synthetic';
import { EXAMPLE_INVENTORY } from '../inventory/example';
import { loadInventory } from '../inventory/holder';
import type { Inventory } from '../inventory/inventory';

/** The findings the demo reports, each a parameterized query over this run's flows. */
const FINDINGS: { title: string; sql: (flows: string) => string; keep?: (row: Record<string, unknown>, inv: Inventory) => boolean }[] = [
  {
    title: 'Traffic by zone pair',
    sql: (t) => `SELECT src_zone, dst_zone, count() AS flows, formatReadableSize(sum(ifNull(bytes, 0) * sampling_rate)) AS volume
      FROM ${t} WHERE time_received >= {since:DateTime64(3)} GROUP BY src_zone, dst_zone ORDER BY flows DESC`,
  },
  {
    title: 'Nodes talking to a node of another job',
    sql: (t) => `SELECT src_node, src_job, dst_node, dst_job, dst_port, count() AS flows
      FROM ${t} WHERE time_received >= {since:DateTime64(3)} AND src_job != '' AND dst_job != '' AND src_job != dst_job
      GROUP BY ALL ORDER BY flows DESC LIMIT 10`,
  },
  {
    title: 'Zone crossings the inventory does not allow (BMC from tenants, serving to training, egress bypassing the proxy)',
    sql: (t) => `SELECT src_zone, dst_zone, replaceOne(IPv6NumToString(src_addr), '::ffff:', '') AS src, src_node,
        replaceOne(IPv6NumToString(dst_addr), '::ffff:', '') AS dst, protocol, dst_port,
        count() AS flows, formatReadableSize(sum(ifNull(bytes, 0) * sampling_rate)) AS volume
      FROM ${t} WHERE time_received >= {since:DateTime64(3)} AND src_zone != dst_zone
      GROUP BY ALL ORDER BY flows DESC`,
    keep: (r, inv) => !inv.allows(String(r.src_zone), String(r.dst_zone), Number(r.protocol), Number(r.dst_port)),
  },
  {
    title: 'Policy-denied drops',
    sql: (t) => `SELECT src_namespace, src_pod, dst_namespace, dst_pod, dst_port, drop_reason, count() AS flows
      FROM ${t} WHERE time_received >= {since:DateTime64(3)} AND verdict IN ('DROPPED', 'DENIED')
      GROUP BY ALL ORDER BY flows DESC LIMIT 10`,
  },
];

function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n== ${title}`);
  if (rows.length === 0) return void console.log('   (none)');
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]) => '   ' + vals.map((v, i) => v.padEnd(width[i]!)).join('  ');
  console.log(line(cols));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}

export async function runDemo(cfg: Config, log: Logger, flows: number): Promise<void> {
  const demoCfg: Config = { ...cfg, inventory: { ...cfg.inventory, file: cfg.inventory.file ?? EXAMPLE_INVENTORY } };
  // Read before anything starts: a bad inventory stops the demo at once, naming its problems.
  const inventory = loadInventory(demoCfg.inventory.file!);
  console.log(`eastwatch demo: ${flows} flows from a synthetic cluster of ${inventory.nodes.size} nodes (${demoCfg.inventory.file}) -> enrichment -> Kafka -> writer -> ClickHouse (${cfg.clickhouse.url ?? 'embedded chDB'})`);
  const app = await startApp(demoCfg, log, ['writer', 'http'], () => process.exit(1));
  try {
    const { kafka, runner } = app;
    const store = app.store!;
    const flowsTable = store.tbl('flows');
    const since = Date.now() - 1;
    // The jobs, announced as a scheduler hook would, then the enrichment stage that follows them.
    const publisher = new AllocationPublisher(kafka);
    await publisher.connect();
    await publisher.publish(syntheticAllocations(inventory, since - 6 * 3600e3));
    await publisher.disconnect();
    const enrichment = await runner.start(new EnrichmentStage(demoCfg.inventory, kafka, log));
    const producer = new RecordProducer(kafka, FLOWS, log, { stage: 'collector' });
    await producer.connect();
    const gen = new SyntheticCluster(inventory, { seed: 7 });
    const t0 = Date.now();
    for (let i = 0; i < flows; i++) {
      producer.push(enrichment.enricher.enrich(gen.next()));
      if (producer.buffered > 100_000) await producer.flush();
    }
    await producer.close();
    await waitCaughtUp(kafka.client, kafka.topics.flows, cfg.writer.groupId, 300_000);
    const secs = (Date.now() - t0) / 1000;
    console.log(`\n${flows} flows enriched and stored in ${secs.toFixed(1)} s (${Math.round(flows / secs)} flows/s end to end)`);
    for (const f of FINDINGS) {
      const rows = await store.rows<Record<string, unknown>>(f.sql(flowsTable), { since: since / 1000 });
      printTable(f.title, f.keep ? rows.filter((r) => f.keep!(r, inventory)).slice(0, 10) : rows);
    }
  } finally {
    await app.stop();
  }
}
