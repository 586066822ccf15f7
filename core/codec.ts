/**
 * Wire encoding of Flows on Kafka: Avro binary (avsc), derived from FlowSchema, behind a 2-byte header.
 *
 *   byte 0   magic 0xEA
 *   byte 1   wire schema version (core/wire/flow.vN.json, frozen once released)
 *   rest     Avro array of Flow records (one message carries up to `kafka.flowsPerMessage` flows of one partition)
 *
 * Why Avro: field names are not repeated per record (a flow is ~60-90 bytes against ~600 in JSON), avsc
 * compiles encoders and decoders (well over 1M records/s a core), and a resolver reads every older
 * version into the current shape, so producers and the writer can be upgraded one at a time.
 */
import * as avro from 'avsc';
import { avroSchemaOf, columnsOf } from './columns';
import { Flow, FlowSchema } from './flow';
import v1 from './wire/flow.v1.json';

export const MAGIC = 0xea;
/** Every released wire schema, by version. The newest must equal the schema derived from FlowSchema. */
export const WIRE_SCHEMAS: Record<number, unknown> = { 1: v1 };
export const WIRE_VERSION = 1;

export const derivedWireSchema = (): Record<string, unknown> => avroSchemaOf('Flow', FlowSchema);

const arrayOf = (record: unknown) => avro.Type.forSchema({ type: 'array', items: record as avro.Schema });
const current = arrayOf(WIRE_SCHEMAS[WIRE_VERSION]);
const readers = new Map<number, (buf: Buffer) => unknown[]>(
  Object.entries(WIRE_SCHEMAS).map(([v, schema]) => {
    const version = Number(v);
    if (version === WIRE_VERSION) return [version, (buf: Buffer) => current.fromBuffer(buf) as unknown[]];
    const resolver = current.createResolver(arrayOf(schema));
    return [version, (buf: Buffer) => current.fromBuffer(buf, resolver) as unknown[]];
  }),
);

/**
 * Optional fields come back from Avro as null; the Flow type has them undefined. Every decoded record gets
 * every key, in schema order, so all records share one hidden class: property access, validation and
 * JSON.stringify stay monomorphic (records with differing key sets made the writer several times slower).
 */
const fields = columnsOf(FlowSchema).map((c) => ({ name: c.name, optional: c.optional }));
const toFlowObject = new Function(
  'rec',
  `return {${fields.map((f) => `${JSON.stringify(f.name)}: ${f.optional ? `rec[${JSON.stringify(f.name)}] === null ? undefined : ` : ''}rec[${JSON.stringify(f.name)}]`).join(',\n')}};`,
) as (rec: Record<string, unknown>) => Record<string, unknown>;

export class WireError extends Error {}

export function encodeFlows(flows: Flow[]): Buffer {
  const body = current.toBuffer(flows);
  const out = Buffer.allocUnsafe(body.length + 2);
  out[0] = MAGIC;
  out[1] = WIRE_VERSION;
  body.copy(out, 2);
  return out;
}

/**
 * Decodes a message into plain records. The records are not validated here: the caller runs FlowSchema on
 * each one so that one bad record is dead-lettered alone. Throws WireError when the message itself is bad.
 */
export function decodeFlows(buf: Buffer): Record<string, unknown>[] {
  if (buf.length < 2) throw new WireError(`message of ${buf.length} bytes is shorter than the header`);
  if (buf[0] !== MAGIC) throw new WireError(`bad magic 0x${buf[0]!.toString(16)}: not an eastwatch flow message`);
  const read = readers.get(buf[1]!);
  if (!read) throw new WireError(`unknown wire schema version ${buf[1]}`);
  let raw: unknown[];
  try {
    raw = read(buf.subarray(2));
  } catch (e) {
    throw new WireError(`undecodable Avro body: ${(e as Error).message}`);
  }
  return raw.map((r) => toFlowObject(r as Record<string, unknown>));
}
