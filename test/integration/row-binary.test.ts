/**
 * The binary insert path: flows encoded as RowBinaryWithDefaults and read by chDB from a file equal, column by
 * column, the same flows inserted as JSONEachRow (IPv4 and IPv6, maps, arrays, nullable and absent fields,
 * DateTime64), and keep the writer's deduplication by token.
 */
import { readdirSync } from 'node:fs';
import { insertRowBinary } from '../../core/clickhouse';
import { columnsOf } from '../../core/columns';
import { type Flow, FlowSchema } from '../../core/flow';
import { rowBinaryEncoder } from '../../core/row-binary';
import { sampleFlows } from '../../simulator/sample';
import { useEmbeddedStore } from '../embedded-store';
import { fullFlow } from '../fixtures';
import { socQueue } from '../api-fixtures';
import type { z } from 'zod';
import { AlertSchema, type Allocation, AllocationSchema, type InterfaceCounter, InterfaceCounterSchema } from '../../core/records';

describe('RowBinary inserts on embedded chDB', () => {
  const db = useEmbeddedStore();
  const columns = columnsOf(FlowSchema);
  const encoder = rowBinaryEncoder(columns);
  /** `records` of `table`'s schema inserted both ways into copies of the table: what each copy holds. */
  async function bothWays(table: string, schema: z.ZodObject, records: Record<string, unknown>[]) {
    const store = db.store();
    for (const how of ['json', 'binary']) await store.client.command({ query: `CREATE TABLE ${store.tbl(`${table}_${how}`)} AS ${store.tbl(table)}` });
    await store.client.insert({ table: store.tbl(`${table}_json`), values: records, format: 'JSONEachRow' });
    const columns = columnsOf(schema);
    await insertRowBinary(store, `${table}_binary`, columns, rowBinaryEncoder(columns).encode(records));
    const [json, binary] = await Promise.all(['json', 'binary'].map((how) => store.rows(`SELECT * FROM ${store.tbl(`${table}_${how}`)} ORDER BY ALL`)));
    return { json: json!, binary: binary! };
  }

  // Within the flows table's retention: its TTL drops older rows as they are written.
  const recent = (f: Flow): Flow => {
    const shift = Date.now() - 3_600_000 - f.time_received;
    return { ...f, time_received: f.time_received + shift, time_start: f.time_start + shift, time_end: f.time_end + shift };
  };

  it('stores every column as the JSON path does', async () => {
    const minimal: Flow = {
      time_received: 1764000000001, time_start: 1764000000000, time_end: 1764000000001, source_kind: 'ipfix', exporter_address: '10.255.0.1',
      observation_domain: 0, observation_point: 'dpu', src_addr: '::ffff:10.1.0.1', dst_addr: '10.1.0.2', src_port: 0, dst_port: 0, protocol: 1,
      bytes: 2 ** 40 + 3, packets: 1, tcp_flags: 0, sampling_rate: 1, direction: 'unknown',
    };
    const { src_rail: _absent, ...withoutRail } = fullFlow;
    const flows: Flow[] = [
      fullFlow, minimal, { ...withoutRail, src_labels: { 'ünïcode': 'välue "quoted"\n', '': '' }, enterprise_fields: { '35632.110': 'x'.repeat(300) }, is_reply: true },
      ...sampleFlows(2000, { seed: 21 }),
    ].map((f, i) => FlowSchema.parse(i < 3 ? recent(f) : f));
    const { json, binary } = await bothWays('flows', FlowSchema, flows);
    expect(json).toHaveLength(flows.length);
    expect(binary).toEqual(json);
    expect(readdirSync('/dev/shm').filter((f) => f.startsWith(`eastwatch-${process.pid}-`))).toEqual([]);
  });

  it('stores interface counters, allocations and alerts (UUIDs, 64-bit counters, nullable times) as the JSON path does', async () => {
    const now = Date.now() - 60_000;
    const counters: InterfaceCounter[] = [0, 1].map((i) => ({
      time_received: now + i, exporter_address: i ? '2001:db8::1' : '10.0.255.1', source_id: i, if_index: 12 + i, if_type: 6, if_speed: 400e9, if_direction: 1,
      if_admin_up: true, if_oper_up: i === 0, in_octets: 2 ** 53 - 1, in_packets: 7, in_discards: 0, in_errors: 5, out_octets: 98_765_432_101_234, out_packets: 1, out_discards: 3, out_errors: 0,
    }));
    const allocations: Allocation[] = [
      { job_id: '88213', node: 'gpu001', start: now - 3_600_000, pattern: 'ring', source: 'slurm', updated_at: now, peers: ['gpu002', 'gpu064'] },
      { job_id: 'ai-training/llm', node: 'gpu002', pod: 'trainer-0', pod_ip: '10.244.1.7', start: now - 600_000, end: now, pattern: 'unknown', source: 'kubernetes', updated_at: now },
    ];
    for (const [table, schema, records] of [
      ['interface_counters', InterfaceCounterSchema, counters], ['allocations', AllocationSchema, allocations], ['alerts', AlertSchema, socQueue(now - 3_600_000)],
    ] as const) {
      const { json, binary } = await bothWays(table, schema, records.map((r) => schema.parse(r)));
      expect(json).toHaveLength(records.length);
      expect(binary).toEqual(json);
    }
  });

  it('keeps deduplication by token: the same batch again is dropped, another batch is not', async () => {
    const store = db.store();
    const count = () => db.count('flows');
    const batch = encoder.encode(sampleFlows(500, { seed: 22 }));
    const token = (t: string) => ({ insert_deduplicate: 1, insert_deduplication_token: t, deduplicate_blocks_in_dependent_materialized_views: 1 }) as const;
    await insertRowBinary(store, 'flows', columns, batch, token('g:flows:0:1-500'));
    await insertRowBinary(store, 'flows', columns, batch, token('g:flows:0:1-500'));
    expect(await count()).toBe(500);
    await insertRowBinary(store, 'flows', columns, encoder.encode(sampleFlows(100, { seed: 23 })), token('g:flows:0:501-600'));
    expect(await count()).toBe(600);
    // The rollup the materialized view feeds saw each block once too.
    const rolled = await store.rows<{ n: string }>(`SELECT sum(flows) AS n FROM ${store.tbl('flows_1m')}`);
    expect(Number(rolled[0]!.n)).toBe(600);
  });
});
