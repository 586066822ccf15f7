/** The HTTP server's config section. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { leaf, port0, readableFile } from '../core/config';

export const HttpConfigSchema = z.strictObject({
  host: leaf(z.string().default('127.0.0.1'), 'EASTWATCH_HTTP_HOST', 'Address of the health, metrics and API server'),
  port: leaf(port0().default(8080), 'EASTWATCH_HTTP_PORT', 'Port of the health, metrics and API server (0 picks a free one)'),
  alertmanagerToken: leaf(
    z.string().min(16, 'at least 16 characters').optional(), 'EASTWATCH_ALERTMANAGER_TOKEN',
    "Bearer token Alertmanager's webhook must present (its http_config.authorization); without it (or the file) the webhook route does not exist", true,
  ),
  alertmanagerTokenFile: leaf(readableFile().optional(), 'EASTWATCH_ALERTMANAGER_TOKEN_FILE', 'File holding that token (read at start), instead of EASTWATCH_ALERTMANAGER_TOKEN'),
}).refine((h) => !(h.alertmanagerToken && h.alertmanagerTokenFile), { message: 'give EASTWATCH_ALERTMANAGER_TOKEN or EASTWATCH_ALERTMANAGER_TOKEN_FILE, not both', path: ['alertmanagerToken'] });

export type HttpConfig = z.infer<typeof HttpConfigSchema>;

/** The webhook's token, from the file when one is named; undefined: no webhook. */
export function alertmanagerToken(cfg: HttpConfig): string | undefined {
  if (cfg.alertmanagerTokenFile === undefined) return cfg.alertmanagerToken;
  const token = readFileSync(cfg.alertmanagerTokenFile, 'utf8').trim();
  if (token.length < 16) throw new Error(`${cfg.alertmanagerTokenFile}: the Alertmanager token must have at least 16 characters`);
  return token;
}
