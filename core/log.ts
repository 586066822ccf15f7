/**
 * Structured JSON logs on stderr (pino, as fastify uses). Written synchronously: eastwatch logs little, and a
 * crash must not lose its last lines. Secrets are redacted by key name wherever they appear.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level = process.env.EASTWATCH_LOG_LEVEL ?? 'info', name = 'eastwatch'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['*.password', '*.saslPassword', '*.*.password', '*.*.saslPassword', 'password'], censor: '***' },
  }, pino.destination({ fd: 2, sync: true }));
}
