/**
 * The evidence query of an alert: a WHERE clause over the flows table an analyst pastes into clickhouse-client.
 * It is text for a person, not a query eastwatch runs, so values are inlined; every value passes through these
 * quoting functions (addresses are also validated), never raw.
 */
import { isIP } from 'node:net';

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export const sqlString = quote;

export function sqlAddr(addr: string): string {
  if (isIP(addr) === 0) throw new Error(`not an address: ${addr}`);
  return `toIPv6(${quote(addr)})`;
}

/** `column = value` for each defined value, joined with AND. */
export function whereOf(parts: Record<string, string | number | undefined>): string {
  return Object.entries(parts).filter(([, v]) => v !== undefined).map(([k, v]) => {
    if (typeof v === 'number') return `${k} = ${Number(v)}`;
    return k.endsWith('_addr') ? `${k} = ${sqlAddr(v!)}` : `${k} = ${quote(v!)}`;
  }).join(' AND ');
}

/** The full evidence query: the episode's flows between its first and last event time. */
export function evidenceSql(table: string, where: string, first: number, last: number): string {
  return `SELECT * FROM ${table} WHERE ${where} AND time_end >= fromUnixTimestamp64Milli(${Math.floor(first)}) AND time_start <= fromUnixTimestamp64Milli(${Math.ceil(last)}) ORDER BY time_start`;
}
