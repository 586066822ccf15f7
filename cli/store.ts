/** A CLI command's ClickHouse: opened for the command, closed after it (chDB allows one process per directory). */
import type { Config } from '../app/config';
import { openStore, Store } from '../core/clickhouse';

export async function withStore<T>(cfg: Config, f: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(cfg.clickhouse, cfg.home);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}
