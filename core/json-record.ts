/** Records that travel as JSON on a topic (alerts, suppressions): read back through their schema, or a WireError saying why not. */
import type { z } from 'zod';
import { WireError } from './codec';
import { zodDetail } from './error-text';

export interface JsonRecordCodec<T> {
  decode(buf: Buffer): T;
  encode(record: T): Buffer;
}

export function jsonRecordCodec<S extends z.ZodType>(what: string, schema: S): JsonRecordCodec<z.output<S>> {
  return {
    decode(buf) {
      let raw: unknown;
      try {
        raw = JSON.parse(buf.toString('utf8'));
      } catch (e) {
        throw new WireError(`${what} is not JSON: ${(e as Error).message}`);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) throw new WireError(`invalid ${what}: ${zodDetail(parsed.error, '(root)', 3)}`);
      return parsed.data;
    },
    encode: (record) => Buffer.from(JSON.stringify(record)),
  };
}
