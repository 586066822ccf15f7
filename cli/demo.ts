/**
 * `eastwatch demo` (what `npm start` runs): the whole pipeline on one machine with the embedded defaults.
 * A synthetic 64-node cluster's flows go through the bundled Kafka broker and the writer into chDB; then the
 * findings are read back from ClickHouse: traffic per zone pair, and the flows that cross a line.
 */
import { Config, topics } from '../core/config';
import { waitCaughtUp } from '../core/kafka';
import { RecordProducer } from '../core/record-producer';
import { FLOWS } from '../core/streams';
import type { Logger } from '../core/log';
import { startPipeline } from '../core/pipeline';
import { SyntheticCluster } from '../ingest/synthetic';

/** The findings the demo reports, each a parameterized query over this run's flows. */
const FINDINGS: { title: string; sql: (flows: string) => string }[] = [
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
    title: 'Forbidden zone crossings (to BMC, serving to training, internet without the proxy)',
    sql: (t) => `SELECT src_zone, dst_zone, replaceOne(IPv6NumToString(src_addr), '::ffff:', '') AS src, replaceOne(IPv6NumToString(dst_addr), '::ffff:', '') AS dst, dst_port,
        count() AS flows, formatReadableSize(sum(ifNull(bytes, 0) * sampling_rate)) AS volume
      FROM ${t} WHERE time_received >= {since:DateTime64(3)}
        AND (dst_zone = 'bmc' OR (src_zone = 'inference' AND dst_zone = 'training') OR dst_zone = 'internet')
      GROUP BY ALL ORDER BY flows DESC LIMIT 10`,
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
  console.log(`eastwatch demo: ${flows} flows from a synthetic 64-node cluster -> Kafka -> writer -> ClickHouse (${cfg.clickhouse.url ?? 'embedded chDB'})`);
  const pipeline = await startPipeline(cfg, log, ['writer', 'http']);
  try {
    const { kafka } = pipeline;
    const store = pipeline.store!;
    const flowsTable = store.tbl('flows');
    const since = Date.now() - 1;
    const producer = new RecordProducer(kafka, cfg, log, FLOWS);
    await producer.connect(kafka);
    const gen = new SyntheticCluster({ seed: 7 });
    const t0 = Date.now();
    for (let i = 0; i < flows; i++) {
      producer.push(gen.next());
      if (producer.buffered > 100_000) await producer.flush();
    }
    await producer.close();
    await waitCaughtUp(kafka, topics(cfg).flows, cfg.writer.groupId, 300_000);
    const secs = (Date.now() - t0) / 1000;
    console.log(`\n${flows} flows stored in ${secs.toFixed(1)} s (${Math.round(flows / secs)} flows/s end to end); metrics on http://${cfg.http.host}:${pipeline.httpPort}/metrics while running`);
    for (const f of FINDINGS) printTable(f.title, await store.rows(f.sql(flowsTable), { since: since / 1000 }));
  } finally {
    await pipeline.stop();
  }
}
