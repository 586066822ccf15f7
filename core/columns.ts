/**
 * Schema as code: a record is one zod object whose fields carry their ClickHouse type and a doc line.
 * TypeScript types (z.infer), validation, ClickHouse DDL, the Avro wire schema and the docs all derive
 * from that one object, so a column is never written twice.
 */
import { z } from 'zod';

export interface ColumnMeta {
  /** ClickHouse type of the column, e.g. `LowCardinality(String)`, `Nullable(UInt64)`. */
  ch: string;
  /** One line for the docs and the column COMMENT. */
  doc: string;
  /** Optional ClickHouse DEFAULT expression. */
  chDefault?: string;
}

/** Attaches column metadata to a field schema (call it on the outermost wrapper, after .optional()). */
export function column<T extends z.ZodType>(schema: T, ch: string, doc: string, chDefault?: string): T {
  return schema.meta({ ch, doc, ...(chDefault === undefined ? {} : { chDefault }) }) as T;
}

export interface Column extends ColumnMeta {
  name: string;
  /** The field may be absent in a record (zod optional): ClickHouse fills its DEFAULT. */
  optional: boolean;
}

export function columnsOf(schema: z.ZodObject): Column[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const meta = (field as z.ZodType).meta() as Partial<ColumnMeta> | undefined;
    if (!meta?.ch || !meta.doc) throw new Error(`field ${name} has no column metadata (use column())`);
    return {
      name,
      ch: meta.ch,
      doc: meta.doc,
      chDefault: meta.chDefault,
      optional: (field as z.ZodType).def.type === 'optional',
    };
  });
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The column list of a CREATE TABLE / ALTER ADD COLUMN, with comments. */
export function columnDdl(c: Column): string {
  const def = c.chDefault ? ` DEFAULT ${c.chDefault}` : '';
  return `\`${c.name}\` ${c.ch}${def} COMMENT ${quote(c.doc)}`;
}

type AvroType = string | string[] | Record<string, unknown> | (string | Record<string, unknown>)[];

/** Maps a ClickHouse type to the Avro type that carries it on the wire. */
export function avroTypeOf(ch: string): AvroType {
  const nullable = /^Nullable\((.*)\)$/.exec(ch);
  if (nullable) return ['null', avroTypeOf(nullable[1]!) as string];
  const lowCard = /^LowCardinality\((.*)\)$/.exec(ch);
  if (lowCard) return avroTypeOf(lowCard[1]!);
  const array = /^Array\((.*)\)$/.exec(ch);
  if (array) return { type: 'array', items: avroTypeOf(array[1]!) };
  if (/^Map\((LowCardinality\()?String\)?, *String\)$/.test(ch)) return { type: 'map', values: 'string' };
  if (/^DateTime64/.test(ch) || /^U?Int(32|64)$/.test(ch)) return 'long';
  if (/^U?Int(8|16)$/.test(ch)) return 'int';
  if (/^Float(32|64)$/.test(ch)) return 'double';
  if (ch === 'Bool') return 'boolean';
  if (ch === 'String' || ch === 'IPv6' || ch === 'IPv4' || ch === 'UUID') return 'string';
  throw new Error(`no Avro mapping for ClickHouse type ${ch}`);
}

/** Avro record schema of a zod object: optional fields become ['null', T] unions defaulting to null. */
export function avroSchemaOf(name: string, schema: z.ZodObject): Record<string, unknown> {
  return {
    type: 'record',
    name,
    fields: columnsOf(schema).map((c) => {
      const t = avroTypeOf(c.ch);
      const alreadyNullable = Array.isArray(t) && t[0] === 'null';
      return c.optional && !alreadyNullable
        ? { name: c.name, type: ['null', t], default: null }
        : { name: c.name, type: t, ...(alreadyNullable ? { default: null } : {}) };
    }),
  };
}

/** A markdown table of a record's columns, for the docs. */
export function columnsMarkdown(schema: z.ZodObject): string {
  const rows = columnsOf(schema).map((c) => `| \`${c.name}\` | \`${c.ch}\` | ${c.doc} |`);
  return ['| column | ClickHouse type | meaning |', '|---|---|---|', ...rows].join('\n');
}
