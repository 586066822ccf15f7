/**
 * Structured JSON logs on stderr (pino, as fastify uses). Written synchronously: eastwatch logs little, and a
 * crash must not lose its last lines. Secrets are redacted by key name wherever they appear, and the
 * user:password@ of any URL in a logged value, message or error.
 */
import pino from 'pino';
import { redactUrl, redactUrls } from './redact';

export type Logger = pino.Logger;

/** pino's error serializer, with URLs in the message and stack redacted; `err` is not always an Error. */
function errorSerializer(e: unknown): unknown {
  if (!(e instanceof Error)) return redactUrls(e);
  const out = pino.stdSerializers.err(e);
  if (typeof out.message === 'string') out.message = redactUrl(out.message);
  if (typeof out.stack === 'string') out.stack = redactUrl(out.stack);
  return out;
}

export function createLogger(level = process.env.EASTWATCH_LOG_LEVEL ?? 'info', name = 'eastwatch'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['*.password', '*.saslPassword', '*.*.password', '*.*.saslPassword', 'password'], censor: '***' },
    serializers: { err: errorSerializer },
    formatters: { log: (o) => redactUrls(o) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<typeof method>);
      },
    },
  }, pino.destination({ fd: 2, sync: true }));
}
