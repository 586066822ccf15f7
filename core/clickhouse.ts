/**
 * ClickHouse through @clickhouse/client in every mode: embedded chDB (chdb/connection, one engine per
 * process and data directory) by default, a server when CLICKHOUSE_URL is set. Same SQL either way.
 * Tables are always written database-qualified (tbl()), because the chDB connection ignores the client's
 * `database` option.
 */
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type ClickHouseSettings, ClickHouseClient, createClient } from '@clickhouse/client';
import { statementScopedSettings } from './chdb-settings';
import type { ClickHouseConfig } from './config';
import type { Column } from './columns';

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
    sweepPayloads();
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

/** Payload files for chDB go to memory where the machine has it (tmpfs), else to the temp directory. */
const PAYLOAD_DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
let payloads = 0;
const PAYLOAD_FILE = /^eastwatch-(\d+)-\d+\.rowbinary$/;

/** Removes the payload files of processes that died between writing and removing one (a SIGKILL): tmpfs is memory. */
export function sweepPayloads(dir = PAYLOAD_DIR): void {
  for (const name of readdirSync(dir)) {
    const pid = PAYLOAD_FILE.exec(name)?.[1];
    if (pid !== undefined && !alive(Number(pid))) rmSync(path.join(dir, name), { force: true });
  }
}

/** Signal 0 checks a process exists: ESRCH when it does not, EPERM when it is another user's. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A RowBinaryWithDefaults payload (core/row-binary.ts) into `table` on embedded chDB. chdb/connection turns an
 * insert's body into a UTF-8 string, which binary cannot survive, so the bytes go through a file the engine
 * reads itself (INSERT ... FROM INFILE), then the file is removed. `settings` apply to this statement only.
 */
export async function insertRowBinary(store: Store, table: string, columns: readonly Column[], payload: Buffer, settings: ClickHouseSettings = {}): Promise<void> {
  if (!store.embedded) throw new Error('RowBinary inserts through a file need embedded chDB');
  const file = path.join(PAYLOAD_DIR, `eastwatch-${process.pid}-${++payloads}.rowbinary`);
  writeFileSync(file, payload);
  try {
    await store.client.command({
      query: `INSERT INTO ${store.tbl(table)} (${columns.map((c) => `\`${c.name}\``).join(', ')}) FROM INFILE '${file}' FORMAT RowBinaryWithDefaults`,
      clickhouse_settings: settings,
    });
  } finally {
    unlinkSync(file);
  }
}
