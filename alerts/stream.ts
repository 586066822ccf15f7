/**
 * The alerts topic: one alert row version per message, as JSON (what any Kafka client, a SOAR or a SIEM
 * forwarder reads), keyed by fingerprint so an alert's versions stay in order. The writer stores it into the
 * alerts table like any other stream.
 */
import { jsonRecordCodec } from '../core/json-record';
import { AlertSchema } from '../core/records';
import type { StoredStream } from '../core/streams';

const codec = jsonRecordCodec('alert', AlertSchema);
export const decodeAlert = codec.decode;
export const encodeAlert = codec.encode;

export const ALERTS: StoredStream = {
  name: 'alerts',
  table: 'alerts',
  topic: 'alerts',
  codec: { schema: AlertSchema, decode: (buf) => [decodeAlert(buf)] },
};
