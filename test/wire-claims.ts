/**
 * Hostile flows messages for the codec and writer tests: Avro array and map blocks that claim far more items
 * than the message has bytes (issue 10: one such message of 21 bytes used to exhaust the writer's heap).
 */
import * as avro from 'avsc';
import { MAGIC } from '../core/codec';
import { FLOWS } from '../core/streams';
import { fullFlow } from './fixtures';

const wire = FLOWS.codec.schemas[FLOWS.codec.version] as { fields: { name: string; type: unknown }[] };
const long = (n: number) => avro.Type.forSchema('long').toBuffer(n);
const header = (version = FLOWS.codec.version) => Buffer.from([MAGIC, version]);

/** A 21-byte message whose Flow array claims `count` items (a negative count is a block with a byte size). */
export function arrayClaim(count: number, version?: number): Buffer {
  const body = count < 0 ? Buffer.concat([long(count), long(4)]) : long(count);
  return Buffer.concat([header(version), body, Buffer.alloc(19 - body.length)]);
}

/** One fullFlow whose map or array field `name` claims `count` items, every other byte of it valid. */
export function nestedClaim(name: string, count: number): Buffer {
  const i = wire.fields.findIndex((f) => f.name === name);
  const part = (fields: unknown[]) => avro.Type.forSchema({ type: 'record', name: 'Part', fields } as avro.Schema).toBuffer(fullFlow);
  return Buffer.concat([header(), long(1), part(wire.fields.slice(0, i)), long(1), long(count), part(wire.fields.slice(i + 1)), long(0)]);
}

/** `count` items of `n` zero bytes: a zero byte is the shortest value of every Flow field, so 52 make a flow. */
export function zeroClaim(count: number, n: number): Buffer {
  return Buffer.concat([header(), long(count), Buffer.alloc(n)]);
}
