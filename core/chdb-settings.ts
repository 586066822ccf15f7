/**
 * Settings per statement on embedded chDB. Its connection (chdb/connection 3.4) runs a statement's
 * `clickhouse_settings` as `SET`s on the process's one session, where they outlive the statement: the writer's
 * insert_deduplication_token stayed set, and the next insert of other rows into a deduplicating table was
 * dropped as a duplicate. Here they go into the statement's own SETTINGS clause instead, which ClickHouse
 * scopes to that statement (as the HTTP interface does with its URL parameters).
 */
import type { createClient } from '@clickhouse/client';

type Connection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;
type Settings = Record<string, unknown>;

/** What chdb/connection drops or maps to its own options: left to it (see its HTTP_ONLY_SETTINGS). */
const LEFT_TO_CHDB = new Set([
  'default_format', 'wait_end_of_query', 'send_progress_in_http_headers', 'http_response_buffer_size', 'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms', 'enable_http_compression', 'http_zlib_compression_level', 'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
]);

function literal(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  // A string literal: ClickHouse escapes a quote by doubling it, and a backslash with another.
  return `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** `query` with `settings` in its SETTINGS clause (before a trailing FORMAT), and the settings left for chDB. */
export function withStatementSettings(query: string, settings: Settings | undefined): { query: string; rest: Settings } {
  const clause: string[] = [];
  const rest: Settings = {};
  for (const [k, v] of Object.entries(settings ?? {})) {
    if (v === undefined) continue;
    if (LEFT_TO_CHDB.has(k)) rest[k] = v;
    else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not a ClickHouse setting name: ${JSON.stringify(k)}`);
    else clause.push(`${k} = ${literal(v)}`);
  }
  if (clause.length === 0) return { query, rest };
  const settingsSql = ` SETTINGS ${clause.join(', ')}`;
  const format = /\s+FORMAT\s+\w+\s*$/i.exec(query);
  return { query: format ? `${query.slice(0, format.index)}${settingsSql}${format[0]}` : `${query}${settingsSql}`, rest };
}

/** The chDB connection with every statement's settings scoped to that statement. */
export function statementScopedSettings(conn: Connection): Connection {
  const scoped = <P extends { query: string; clickhouse_settings?: Settings }>(p: P): P => {
    const { query, rest } = withStatementSettings(p.query, p.clickhouse_settings);
    return { ...p, query, clickhouse_settings: rest };
  };
  return {
    query: (p) => conn.query(scoped(p)),
    exec: (p) => conn.exec(scoped(p)),
    command: (p) => conn.command(scoped(p)),
    insert: (p) => conn.insert(scoped(p)),
    ping: (p) => conn.ping(p),
    close: () => conn.close(),
  };
}
