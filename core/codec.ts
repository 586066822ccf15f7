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
      if (Number(v) === this.version) return [Number(v), (buf: Buffer) => current.fromBuffer(buf) as unknown[]];
      const resolver = current.createResolver(arrayOf(s));
      return [Number(v), (buf: Buffer) => current.fromBuffer(buf, resolver) as unknown[]];
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
   * Decodes a message into plain records, not validated: the caller validates each one so that one bad record
   * is dead-lettered alone. Throws WireError when the message itself is bad.
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
