/** Migrations on embedded ClickHouse: applied once, idempotent, and the schema follows the code. */
import { columnsOf } from '../../core/columns';
import { FlowSchema } from '../../core/flow';
import { AlertSchema } from '../../core/records';
import { MIGRATIONS } from '../../core/migrations';
import { cli, query, testEnv, TestEnv } from '../helpers';

describe('migrations', () => {
  let t: TestEnv;
  afterAll(() => t?.cleanup());

  it('apply every version once; a second run changes nothing', async () => {
    t = testEnv();
    const first = JSON.parse(await cli(t, ['migrate']));
    expect(first).toEqual({ applied: MIGRATIONS.map((m) => m.version), columnsAdded: [], ttlChanged: false });
    const second = JSON.parse(await cli(t, ['migrate']));
    expect(second).toEqual({ applied: [], columnsAdded: [], ttlChanged: false });

    const tables = (await query<{ name: string; engine: string }>(t, "SELECT name, engine FROM system.tables WHERE database = 'eastwatch' ORDER BY name"));
    expect(tables).toEqual([
      { name: 'alert_triage', engine: 'ReplacingMergeTree' },
      { name: 'alerts', engine: 'ReplacingMergeTree' },
      { name: 'allocations', engine: 'ReplacingMergeTree' },
      { name: 'audit_log', engine: 'MergeTree' },
      { name: 'egress_1h', engine: 'SummingMergeTree' },
      { name: 'egress_1h_mv', engine: 'MaterializedView' },
      { name: 'egress_5m', engine: 'SummingMergeTree' },
      { name: 'egress_5m_mv', engine: 'MaterializedView' },
      { name: 'flows', engine: 'MergeTree' },
      { name: 'flows_1m', engine: 'SummingMergeTree' },
      { name: 'flows_1m_mv', engine: 'MaterializedView' },
      { name: 'interface_counters', engine: 'MergeTree' },
      { name: 'inventory_addresses', engine: 'ReplacingMergeTree' },
      { name: 'node_peers_5m', engine: 'SummingMergeTree' },
      { name: 'node_peers_5m_mv', engine: 'MaterializedView' },
      { name: 'schema_migrations', engine: 'ReplacingMergeTree' },
      { name: 'suppressions', engine: 'ReplacingMergeTree' },
      { name: 'webhook_deliveries', engine: 'ReplacingMergeTree' },
      { name: 'webhook_subscriptions', engine: 'ReplacingMergeTree' },
      { name: 'writer_intents', engine: 'MergeTree' },
    ]);
    for (const [table, schema] of [['flows', FlowSchema], ['alerts', AlertSchema]] as const) {
      const cols = await query<{ name: string; type: string }>(t, `SELECT name, type FROM system.columns WHERE database = 'eastwatch' AND table = '${table}' ORDER BY position`);
      expect(cols).toEqual(columnsOf(schema).map((c) => ({ name: c.name, type: c.ch })));
    }
    const [flows] = await query<{ partition_key: string; sorting_key: string }>(t, "SELECT partition_key, sorting_key FROM system.tables WHERE database = 'eastwatch' AND name = 'flows'");
    expect(flows).toEqual({ partition_key: 'toDate(time_received)', sorting_key: 'toStartOfHour(time_received), src_zone, dst_zone, src_addr, dst_addr, time_received' });
    const indexes = await query<{ name: string; type: string; expr: string }>(t, "SELECT name, type, expr FROM system.data_skipping_indices WHERE database = 'eastwatch' AND table = 'flows'");
    expect(indexes).toEqual([{ name: 'time_end_minmax', type: 'minmax', expr: 'time_end' }]);
  });

  it('follow the configured retention', async () => {
    const changed = JSON.parse(await cli({ ...t, env: { ...t.env, EASTWATCH_FLOWS_TTL_DAYS: '7' } }, ['migrate']));
    expect(changed.ttlChanged).toBe(true);
    const [row] = await query<{ engine_full: string }>(t, "SELECT engine_full FROM system.tables WHERE database = 'eastwatch' AND name = 'flows'");
    expect(row!.engine_full).toContain('toIntervalDay(7)');
  });
});
