/** A suite's own embedded chDB: a fresh temporary home, migrated before the tests, closed and removed after. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openStore, type Store } from '../core/clickhouse';
import { ClickHouseConfigSchema } from '../core/config';
import { migrate } from '../core/migrations';

export function useEmbeddedStore(): { store: () => Store; count: (table: string) => Promise<number> } {
  const home = mkdtempSync(path.join(tmpdir(), 'eastwatch-store-'));
  const cfg = ClickHouseConfigSchema.parse({});
  let store: Store | undefined;
  beforeAll(async () => {
    store = openStore(cfg, home);
    await migrate(store, cfg);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(home, { recursive: true, force: true });
  });
  const get = () => store!;
  return {
    store: get,
    count: async (table) => Number((await get().rows<{ n: string }>(`SELECT count() AS n FROM ${get().tbl(table)}`))[0]!.n),
  };
}
