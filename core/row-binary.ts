/**
 * Records as ClickHouse's RowBinaryWithDefaults, encoded straight from the record by writers compiled from the
 * schema's column types: no JSON text for chDB to parse again. Each column is preceded by a flag byte, 1 where
 * the record lacks an optional field (the column's DEFAULT applies, as with JSONEachRow), 0 before a value.
 * Writers check what the bytes need (types, integer ranges, addresses, a required field present) and throw a
 * RowBinaryError otherwise: a malformed row must never reach chDB, where it would fail the whole insert. The
 * meaning of values (lengths, enums, ranges of times) is the edge's to check, where records are made.
 * Written by hand: no npm package encodes RowBinary (the ClickHouse clients read it at most).
 */
import * as net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Column } from './columns';

class Out {
  // Small to start: an insert range of a few alerts or allocations takes one; a flows batch grows it by doubling.
  buf = Buffer.allocUnsafe(1 << 16);
  pos = 0;

  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  varint(v: number): void {
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.room(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

type Write = (o: Out, v: unknown) => void;

/** A value the column's type cannot hold. */
export class RowBinaryError extends Error {}

const refuse = (what: string, v: unknown): never => {
  throw new RowBinaryError(`not ${what}: ${typeof v === 'string' ? JSON.stringify(v.slice(0, 64)) : String(v).slice(0, 64)}`);
};

/** An unsigned integer of at most `max`. */
const uint = (v: unknown, max: number): number =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : refuse(`an integer in 0..${max}`, v));

const fixed = (bytes: number, put: (buf: Buffer, v: number, at: number) => void): Write => {
  const max = 2 ** (bytes * 8) - 1;
  return (o, v) => {
    const n = uint(v, max);
    o.room(bytes);
    put(o.buf, n, o.pos);
    o.pos += bytes;
  };
};

/** Unsigned 64-bit: a bigint exactly, a safe integer as two 32-bit halves (no bigint made per value). */
const uint64: Write = (o, v) => {
  o.room(8);
  if (typeof v === 'bigint') {
    if (v < 0n || v >= 1n << 64n) refuse('an unsigned 64-bit integer', v);
    o.buf.writeBigUInt64LE(v, o.pos);
  } else {
    const n = uint(v, Number.MAX_SAFE_INTEGER);
    o.buf.writeUInt32LE(n % 0x1_0000_0000, o.pos);
    o.buf.writeUInt32LE(Math.floor(n / 0x1_0000_0000), o.pos + 4);
  }
  o.pos += 8;
};

/** A UUID as ClickHouse keeps it: its two 64-bit halves, each little-endian. */
const uuid: Write = (o, v) => {
  const hex = typeof v === 'string' ? v.replace(/-/g, '') : '';
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) refuse('a UUID', v);
  const b = Buffer.from(hex, 'hex');
  o.room(16);
  for (let k = 0; k < 8; k++) {
    o.buf[o.pos + k] = b[7 - k]!;
    o.buf[o.pos + 8 + k] = b[15 - k]!;
  }
  o.pos += 16;
};

/** IPv6 in network order; IPv4 as ::ffff:a.b.c.d, as ClickHouse stores it from text. */
const ipv6: Write = (o, v) => {
  if (typeof v !== 'string') return refuse('an IP address', v);
  o.room(16);
  const at = o.pos;
  if (net.isIPv4(v)) {
    o.buf.fill(0, at, at + 10);
    o.buf[at + 10] = 0xff;
    o.buf[at + 11] = 0xff;
    let octet = 0;
    let i = at + 12;
    for (let k = 0; k < v.length; k++) {
      const c = v.charCodeAt(k);
      if (c === 46) {
        o.buf[i++] = octet;
        octet = 0;
      } else octet = octet * 10 + c - 48;
    }
    o.buf[i] = octet;
  } else {
    const bytes = ipaddr.IPv6.parse(v).toByteArray();
    for (let k = 0; k < 16; k++) o.buf[at + k] = bytes[k]!;
  }
  o.pos += 16;
};

function writerOf(ch: string): Write {
  const inner = /^(Nullable|LowCardinality|Array)\((.*)\)$/.exec(ch);
  if (inner?.[1] === 'LowCardinality') return writerOf(inner[2]!);
  if (inner?.[1] === 'Nullable') {
    const w = writerOf(inner[2]!);
    return (o, v) => {
      if (v === undefined || v === null) return o.u8(1);
      o.u8(0);
      w(o, v);
    };
  }
  if (inner?.[1] === 'Array') {
    const w = writerOf(inner[2]!);
    return (o, v) => {
      if (!Array.isArray(v)) refuse('an array', v);
      const a = v as unknown[];
      o.varint(a.length);
      for (const x of a) w(o, x);
    };
  }
  const map = /^Map\((.*), *(.*)\)$/.exec(ch);
  if (map) {
    const [k, val] = [writerOf(map[1]!), writerOf(map[2]!)];
    return (o, v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) refuse('a map', v);
      const entries = Object.entries(v as Record<string, unknown>);
      o.varint(entries.length);
      for (const [key, x] of entries) {
        k(o, key);
        val(o, x);
      }
    };
  }
  switch (ch) {
    case 'String': return (o, v) => o.string(typeof v === 'string' ? v : refuse('a string', v));
    case 'Bool': return (o, v) => o.u8(typeof v === 'boolean' ? Number(v) : refuse('a boolean', v));
    case 'UInt8': return (o, v) => o.u8(uint(v, 0xff));
    case 'UInt16': return fixed(2, (b, v, at) => b.writeUInt16LE(v, at));
    case 'UInt32': return fixed(4, (b, v, at) => b.writeUInt32LE(v, at));
    case 'UInt64': return uint64;
    // ms since the epoch, DateTime64(3)'s ticks: an Int64, never negative here.
    case 'DateTime64(3)': return uint64;
    case 'IPv6': return ipv6;
    case 'UUID': return uuid;
    default: throw new Error(`RowBinary: no writer for ClickHouse type ${ch}`);
  }
}

export interface RowBinaryEncoder {
  /** The rows as one RowBinaryWithDefaults payload, columns in `columns` order; throws RowBinaryError on a bad row. */
  encode(rows: readonly Record<string, unknown>[]): Buffer;
  /** An empty payload that takes rows one at a time. */
  batch(): RowBinaryBatch;
}

export interface RowBinaryBatch {
  /** Appends one row; a row that throws (RowBinaryError) leaves the payload as it was. */
  add(row: Record<string, unknown>): void;
  /** Rows appended. */
  readonly rows: number;
  bytes(): Buffer;
}

/**
 * The row is generated per schema, one statement per column reading its field by name: each property read and
 * writer call is then its own inline cache, where a loop over the columns shared one megamorphic site for
 * them all (2x slower on the writer's rows: 5.2 µs a flow against 2.6). The names come from the schema and are
 * checked as identifiers.
 */
export function rowBinaryEncoder(columns: readonly Column[]): RowBinaryEncoder {
  const writers = columns.map((c) => writerOf(c.ch));
  const body = columns.map((c, i) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name)) throw new Error(`RowBinary: column name ${JSON.stringify(c.name)} is not an identifier`);
    const absent = c.optional ? 'o.u8(1)' : 'missing()';
    return `c = ${i}; v = r.${c.name}; if (v === undefined) ${absent}; else { o.u8(0); w[${i}](o, v); }`;
  }).join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the schema's checked column names only
  const compiled = new Function('w', 'missing', 'fail', `return function rowInto(o, r) { let v, c = 0; try {\n${body}\n} catch (e) { fail(c, e); } }`) as
    (w: Write[], missing: () => never, fail: (column: number, e: unknown) => never) => (o: Out, r: Record<string, unknown>) => void;
  const rowInto = compiled(writers, () => {
    throw new RowBinaryError('required, absent');
  }, (column, e) => {
    throw new RowBinaryError(`${columns[column]!.name}: ${(e as Error).message}`);
  });
  const add = (o: Out, row: Record<string, unknown>) => {
    const at = o.pos;
    try {
      rowInto(o, row);
    } catch (e) {
      o.pos = at;
      throw e;
    }
  };
  return {
    encode(rows) {
      const b = this.batch();
      for (const r of rows) b.add(r);
      return b.bytes();
    },
    batch() {
      const o = new Out();
      let rows = 0;
      return {
        add(row) {
          add(o, row);
          rows++;
        },
        get rows() {
          return rows;
        },
        bytes: () => o.buf.subarray(0, o.pos),
      };
    },
  };
}
