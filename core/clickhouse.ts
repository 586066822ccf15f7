/**
 * ClickHouse through @clickhouse/client in every mode: embedded chDB (chdb/connection, one engine per
 * process and data directory) by default, a server when CLICKHOUSE_URL is set. Same SQL either way.
 * Tables are always written database-qualified (tbl()), because the chDB connection ignores the client's
 * `database` option.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ClickHouseClient, createClient } from '@clickhouse/client';
import { statementScopedSettings } from './chdb-settings';
import type { ClickHouseConfig } from './config';

type ChConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export interface Store {
  client: ClickHouseClient;
  db: string;
  embedded: boolean;
  /** `db`.`name`, the only way SQL here names a table. */
  tbl(name: string): string;
  /** Runs a SELECT with bound parameters ({name:Type}) and returns the rows. */
  rows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  close(): Promise<void>;
}

export const chdbPath = (ch: ClickHouseConfig, home: string): string => ch.chdbPath ?? path.join(home, 'chdb');

export function openStore(ch: ClickHouseConfig, home: string): Store {
  let client: ClickHouseClient;
  if (ch.url) {
    client = createClient({
      url: ch.url,
      username: ch.username,
      password: ch.password,
      database: ch.database,
      request_timeout: 120_000,
      ...(ch.caFile ? { tls: { ca_cert: readFileSync(ch.caFile) } } : {}),
    });
  } else {
    // Loaded lazily: a server deployment never needs the native engine.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createChdbConnection } = require('chdb/connection') as typeof import('chdb/connection');
    // chdb declares the Connection interface from @clickhouse/client-common, which the client now bundles
    // under its own name: the same shape, so the cast only bridges the two declarations.
    const connection = createChdbConnection({ path: chdbPath(ch, home) }) as unknown as ChConnection;
    client = createClient({ connection: statementScopedSettings(connection) });
  }
  const db = ch.database;
  return {
    client,
    db,
    embedded: !ch.url,
    tbl: (name) => `\`${db}\`.\`${name}\``,
    async rows<T>(query: string, params?: Record<string, unknown>) {
      const rs = await client.query({ query, format: 'JSONEachRow', ...(params ? { query_params: params } : {}) });
      return rs.json<T>();
    },
    close: () => client.close(),
  };
}

/**
 * A SELECT list of every column with the DateTime64 ones read as ms, under `<name>_ms`: an alias named like its
 * column would stand for it in WHERE and compare ms with times.
 */
export const columnsWithMs = (times: readonly string[]): string => `* EXCEPT (${times.join(', ')}), ${times.map((t) => `toUnixTimestamp64Milli(${t}) AS ${t}_ms`).join(', ')}`;

/** A row read with columnsWithMs() as a record: times back under their names as numbers, NULL and empty fields left out. */
export function recordOfRow(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === null || v === '') continue;
    if (k.endsWith('_ms')) out[k.slice(0, -3)] = Number(v);
    else out[k] = v;
  }
  return out;
}
