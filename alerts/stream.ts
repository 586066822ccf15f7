/**
 * The alerts topic: one alert row version per message, as JSON (what any Kafka client, a SOAR or a SIEM
 * forwarder reads), keyed by fingerprint so an alert's versions stay in order. The writer stores it into the
 * alerts table like any other stream.
 */
import { WireError } from '../core/codec';
import { zodDetail } from '../core/error-text';
import { Alert, AlertSchema } from '../core/records';
import type { StoredStream } from '../core/streams';

export function decodeAlert(buf: Buffer): Alert {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new WireError(`alert is not JSON: ${(e as Error).message}`);
  }
  const parsed = AlertSchema.safeParse(raw);
  if (!parsed.success) throw new WireError(`invalid alert: ${zodDetail(parsed.error, '(root)', 3)}`);
  return parsed.data;
}

export const encodeAlert = (a: Alert): Buffer => Buffer.from(JSON.stringify(a));

export const ALERTS: StoredStream = {
  name: 'alerts',
  table: 'alerts',
  topic: 'alerts',
  codec: { schema: AlertSchema, decode: (buf) => [decodeAlert(buf)] },
};
