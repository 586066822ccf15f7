/**
 * A statement's ClickHouse settings are that statement's only. Embedded chDB keeps one session per process; its
 * connection turned `clickhouse_settings` into session-wide SETs, so the writer's deduplication token stayed set
 * and a later insert of other rows into a deduplicating table was silently dropped as a "duplicate".
 */
import { useEmbeddedStore } from '../embedded-store';
import { sampleFlows } from '../../simulator/sample';

describe('ClickHouse settings per statement (embedded chDB)', () => {
  const db = useEmbeddedStore();
  const count = () => db.count('flows');

  it('does not carry one insert\'s deduplication token into the next statements', async () => {
    const store = db.store();
    const [a, b, c] = [sampleFlows(10, { seed: 1 }), sampleFlows(20, { seed: 2 }), sampleFlows(30, { seed: 3 })];
    const token = { insert_deduplicate: 1, insert_deduplication_token: 'writer:flows:0:1-10' } as const;
    await store.client.insert({ table: store.tbl('flows'), values: a, format: 'JSONEachRow', clickhouse_settings: token });
    // The same token again is the writer's replay after a crash: dropped, as it must be.
    await store.client.insert({ table: store.tbl('flows'), values: a, format: 'JSONEachRow', clickhouse_settings: token });
    expect(await count()).toBe(10);
    // Other rows without a token are new rows, whatever the statements before them set.
    await store.client.insert({ table: store.tbl('flows'), values: b, format: 'JSONEachRow' });
    expect(await count()).toBe(30);
    await store.client.insert({ table: store.tbl('flows'), values: c, format: 'JSONEachRow', clickhouse_settings: { ...token, insert_deduplication_token: 'writer:flows:0:11-40' } });
    expect(await count()).toBe(60);
  });

  it('applies a query\'s settings to that query and not to the next', async () => {
    const store = db.store();
    const readonly = await store.client.query({ query: "SELECT getSetting('readonly') AS r", format: 'JSONEachRow', clickhouse_settings: { readonly: '1' } });
    expect(await readonly.json()).toEqual([{ r: 1 }]);
    const after = await store.rows<{ r: number }>("SELECT getSetting('readonly') AS r");
    expect(after).toEqual([{ r: 0 }]);
    // Read-only no more: this statement may write.
    await store.client.command({ query: `CREATE TABLE IF NOT EXISTS ${store.tbl('settings_probe')} (x UInt8) ENGINE = Memory` });
    // A string value arrives as given, quotes and backslashes included.
    const comment = "it's a \\' test";
    const echoed = await store.client.query({ query: "SELECT getSetting('log_comment') AS c", format: 'JSONEachRow', clickhouse_settings: { log_comment: comment } });
    expect(await echoed.json()).toEqual([{ c: comment }]);
  });
});
