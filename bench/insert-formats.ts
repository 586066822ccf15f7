/**
 * chDB's own insert ceiling into the flows table (with its rollup views), from Node, per path: JSONEachRow through
 * the client (chDB parses JSON text), and RowBinaryWithDefaults encoded from the records and read from a file
 * (the writer's path on embedded chDB), with the encoding's share shown apart. BENCH_ROWS per insert (50,000,
 * the writer's batch), BENCH_INSERTS inserts (20) of simulated flows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { insertRowBinary, openStore } from '../core/clickhouse';
import { columnsOf } from '../core/columns';
import { ClickHouseConfigSchema } from '../core/config';
import { FlowSchema } from '../core/flow';
import { migrate } from '../core/migrations';
import { rowBinaryEncoder } from '../core/row-binary';
import { sampleFlows } from '../simulator/sample';
import { mib } from './setup';

const ROWS = Number(process.env.BENCH_ROWS ?? 50_000);
const INSERTS = Number(process.env.BENCH_INSERTS ?? 20);

async function main(): Promise<void> {
  const home = mkdtempSync(path.join(tmpdir(), 'eastwatch-bench-insert-'));
  const cfg = ClickHouseConfigSchema.parse({});
  const store = openStore(cfg, home);
  await migrate(store, cfg);
  const columns = columnsOf(FlowSchema);
  const encoder = rowBinaryEncoder(columns);
  // Received now (within the table's retention), and parsed by the schema as the writer's rows are.
  const batch = sampleFlows(ROWS, { seed: 5 }).map((f) => FlowSchema.parse({ ...f, time_received: Date.now() }));
  const rate = (ms: number) => `${Math.round((ROWS * INSERTS) / (ms / 1000)).toLocaleString('en')} rows/s`;
  const time = async (run: () => Promise<void>) => {
    await run(); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < INSERTS; i++) await run();
    return performance.now() - t0;
  };

  const json = await time(() => store.client.insert({ table: store.tbl('flows'), values: batch, format: 'JSONEachRow' }).then(() => undefined));
  const t0 = performance.now();
  for (let i = 0; i < INSERTS; i++) encoder.encode(batch);
  const encodeMs = performance.now() - t0;
  const payload = encoder.encode(batch);
  const binaryOnly = await time(() => insertRowBinary(store, 'flows', columns, payload));
  const binary = await time(() => insertRowBinary(store, 'flows', columns, encoder.encode(batch)));
  console.log(`chDB insert ceiling, flows table with its rollups, ${INSERTS} inserts of ${ROWS.toLocaleString('en')} simulated flows`);
  console.log(`  JSONEachRow through the client       ${rate(json)}`);
  console.log(`  RowBinaryWithDefaults, encode only   ${rate(encodeMs)} (${((encodeMs * 1000) / (ROWS * INSERTS)).toFixed(2)} µs a row)`);
  console.log(`  RowBinaryWithDefaults, insert only   ${rate(binaryOnly)} (${(payload.length / ROWS).toFixed(0)} bytes a row)`);
  console.log(`  RowBinaryWithDefaults, encode+insert ${rate(binary)}`);
  console.log(`  RSS ${mib(process.memoryUsage().rss)}`);
  await store.close();
  rmSync(home, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
