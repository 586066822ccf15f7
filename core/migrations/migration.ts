import type { z } from 'zod';
import { columnDdl, columnsOf } from '../columns';
import type { ClickHouseConfig } from '../config';

export interface MigrationContext {
  cfg: ClickHouseConfig;
  tbl(name: string): string;
}

/** A versioned schema step. Statements are idempotent (IF NOT EXISTS) so a crash mid-way can rerun. */
export interface Migration {
  version: number;
  name: string;
  statements(ctx: MigrationContext): string[];
}

/** CREATE TABLE for a schema-as-code record; later columns are added by reconcileColumns(). */
export function createTableSql(table: string, schema: z.ZodObject, engine: string): string {
  const cols = columnsOf(schema).map((c) => `  ${columnDdl(c)}`).join(',\n');
  return `CREATE TABLE IF NOT EXISTS ${table} (\n${cols}\n) ${engine}`;
}
