/**
 * Wire encoding of records on Kafka: Avro binary (avsc), derived from the record's zod schema, behind a
 * 2-byte header.
 *
 *   byte 0   magic 0xEA
 *   byte 1   wire schema version (core/wire/NAME.vN.json, frozen once released)
 *   rest     Avro array of records (one message carries up to `kafka.flowsPerMessage` records of one partition)
 *
 * Why Avro: field names are not repeated per record (a flow is ~180 bytes against ~550 in JSON), avsc
 * compiles encoders and decoders, and a resolver reads every older version into the current shape, so
 * producers and the writer can be upgraded one at a time.
 */
import * as avro from 'avsc';
import type { z } from 'zod';
import { avroSchemaOf, columnsOf } from './columns';

export const MAGIC = 0xea;

export class WireError extends Error {}

export class WireCodec<T> {
  readonly version: number;
  private readonly current: avro.Type;
  private readonly readers: Map<number, (buf: Buffer) => unknown[]>;
  /** Builds a plain record with every key in schema order (see decode). */
  private readonly toRecord: (rec: Record<string, unknown>) => Record<string, unknown>;

  /** `schemas`: every released wire schema by version; the newest must equal derivedSchema(). */
  constructor(readonly name: string, readonly schema: z.ZodObject, readonly schemas: Record<number, unknown>) {
    this.version = Math.max(...Object.keys(schemas).map(Number));
    const arrayOf = (record: unknown) => avro.Type.forSchema({ type: 'array', items: record as avro.Schema });
    const current = arrayOf(schemas[this.version]);
    this.current = current;
    this.readers = new Map(Object.entries(schemas).map(([v, s]) => {
      const guard = claimGuard({ type: 'array', items: s }, `${name} array`);
      if (Number(v) === this.version) return [Number(v), (buf: Buffer) => (guard(buf), current.fromBuffer(buf) as unknown[])];
      const resolver = current.createResolver(arrayOf(s));
      return [Number(v), (buf: Buffer) => (guard(buf), current.fromBuffer(buf, resolver) as unknown[])];
    }));
    // Optional fields come back from Avro as null; the record types have them undefined. Every decoded record
    // gets every key in schema order, so all share one hidden class: property access, validation and
    // JSON.stringify stay monomorphic (records with differing key sets made the writer several times slower).
    const fields = columnsOf(schema).map((c) => [JSON.stringify(c.name), c.optional] as const);
    this.toRecord = new Function('rec', `return {${fields.map(([k, opt]) => `${k}: ${opt ? `rec[${k}] === null ? undefined : ` : ''}rec[${k}]`).join(',\n')}};`) as
      (rec: Record<string, unknown>) => Record<string, unknown>;
  }

  derivedSchema(): Record<string, unknown> {
    return avroSchemaOf(this.name, this.schema);
  }

  encode(records: T[]): Buffer {
    const body = this.current.toBuffer(records);
    const out = Buffer.allocUnsafe(body.length + 2);
    out[0] = MAGIC;
    out[1] = this.version;
    body.copy(out, 2);
    return out;
  }

  /**
   * Decodes a message into plain records, not validated: the caller checks each one (the writer as it encodes the
   * row, or with the schema) so that one bad record is dead-lettered alone. Throws WireError when the message itself is bad.
   */
  decode(buf: Buffer): Record<string, unknown>[] {
    if (buf.length < 2) throw new WireError(`message of ${buf.length} bytes is shorter than the header`);
    if (buf[0] !== MAGIC) throw new WireError(`bad magic 0x${buf[0]!.toString(16)}: not an eastwatch ${this.name} message`);
    const read = this.readers.get(buf[1]!);
    if (!read) throw new WireError(`unknown wire schema version ${buf[1]}`);
    let raw: unknown[];
    try {
      raw = read(buf.subarray(2));
    } catch (e) {
      throw new WireError(`undecodable Avro body: ${(e as Error).message}`);
    }
    return raw.map((r) => this.toRecord(r as Record<string, unknown>));
  }
}

/**
 * A check of an Avro body against `schema` (the writer's), run before avsc decodes it. avsc allocates the items
 * an array or map block claims before it notices that the buffer is short: a 21-byte message claiming 2^31 flows
 * filled a 4 GB heap, again on every redelivery. The guard walks the body as avsc reads it (the same bytes per
 * value; reads past the end give 0, as in avsc's Tap) and throws when a block claims more items than the bytes
 * left hold at the items' smallest encoding (52 bytes for a Flow: one per field), so a message never makes
 * more records than a valid message of its size. It is compiled into one function per schema, like toRecord,
 * with the common one-byte lengths and union indexes inline: 10 ms per 100k flows, against 125 ms for avsc.
 */
function claimGuard(schema: unknown, path: string): (buf: Buffer) => void {
  const string = 'if ((b = buf[pos]) < 0x80 && !(b & 1)) pos += 1 + (b >> 1); else string();';
  let depth = 0;
  const code = (type: unknown, path: string): string => {
    if (Array.isArray(type)) {
      const cases = type.map((t, i) => `case ${i}: ${code(t, path)} break;`).join(' ');
      return `switch (u = (b = buf[pos]) < 0x80 ? (pos++, (b >> 1) ^ -(b & 1)) : long()) { ${cases} default: throw new Error('invalid union index: ' + u); }`;
    }
    const t = (typeof type === 'string' ? { type } : type) as { type: string; name?: string; items?: unknown; values?: unknown; fields?: { name: string; type: unknown }[] };
    switch (t.type) {
      case 'null': return '';
      case 'boolean': return 'pos++;';
      case 'int': case 'long': return 'while (buf[pos++] & 0x80);';
      case 'double': return 'pos += 8;';
      case 'string': return string;
      case 'record': return t.fields!.map((f) => code(f.type, `${t.name}.${f.name}`)).join('\n');
      case 'array': case 'map': {
        const item = t.type === 'array' ? code(t.items, path) : `${string} ${code(t.values, path)}`;
        const min = t.type === 'array' ? minSize(t.items) : 1 + minSize(t.values);
        if (min === 0) throw new Error(`${path}: items of 0 bytes, no bound on what a block may claim`);
        const n = `n${depth++}`;
        return `for (let ${n}; (${n} = block(${JSON.stringify(path)}, ${min}));) while (${n}--) { ${item} }`;
      }
      default: throw new Error(`${path}: no claim guard for Avro type ${JSON.stringify(type)}`);
    }
  };
  return new Function(`
    let buf, pos, u, b;
    function long() { // avsc's Tap.readLong
      let n = 0, k = 0, b, h;
      do { b = buf[pos++]; h = b & 0x80; n |= (b & 0x7f) << k; k += 7; } while (h && k < 28);
      if (!h) return (n >> 1) ^ -(n & 1);
      let f = n, fk = 268435456;
      do { b = buf[pos++]; f += (b & 0x7f) * fk; fk *= 128; } while (b & 0x80);
      return (f % 2 ? -(f + 1) : f) / 2;
    }
    function string() {
      const n = long();
      if (n < 0) throw new Error('negative string length ' + n); // would walk backwards
      pos += n;
    }
    function block(path, min) { // a negative count is followed by the block's size in bytes
      let n = long();
      if (n < 0) { n = -n; while (buf[pos++] & 0x80); }
      const left = buf.length - pos;
      if (n * min > left) throw new Error(path + ' claims ' + n + ' items in ' + Math.max(left, 0) + ' bytes');
      return n;
    }
    return (input) => {
      buf = input;
      pos = 0;
      try {
        ${code(schema, path)}
      } finally {
        buf = undefined;
      }
    };`)() as (buf: Buffer) => void;
}

/** The fewest bytes a value of an Avro type takes (a union: its index plus its smallest branch). */
function minSize(type: unknown): number {
  if (Array.isArray(type)) return 1 + Math.min(...type.map(minSize));
  const t = (typeof type === 'string' ? { type } : type) as { type: string; fields?: { type: unknown }[] };
  switch (t.type) {
    case 'null': return 0;
    case 'double': return 8;
    case 'record': return t.fields!.reduce((sum, f) => sum + minSize(f.type), 0);
    default: return 1; // boolean, a varint, a string's length, an empty array's or map's end
  }
}
