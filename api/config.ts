/** The HTTP server's config section. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
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
  tokensFile: leaf(z.string().min(1).optional(), 'EASTWATCH_API_TOKENS_FILE', 'API tokens (hashed), as `eastwatch tokens create` writes them; default api-tokens.json in the home directory'),
  tlsCert: leaf(readableFile().optional(), 'EASTWATCH_HTTP_TLS_CERT', 'PEM certificate (chain): with EASTWATCH_HTTP_TLS_KEY the server speaks HTTPS only'),
  tlsKey: leaf(readableFile().optional(), 'EASTWATCH_HTTP_TLS_KEY', 'PEM private key of that certificate'),
  rateLimit: leaf(z.number().int().min(1).default(1200), 'EASTWATCH_API_RATE_LIMIT', 'API requests a client address may make per minute (429 past it; health and metrics are not limited)'),
  corsOrigins: leaf(z.array(z.url()).default([]), 'EASTWATCH_API_CORS_ORIGINS', 'Comma-separated origins a browser may call the API from; empty (the default): no CORS headers, same origin only'),
}).refine((h) => !(h.alertmanagerToken && h.alertmanagerTokenFile), { message: 'give EASTWATCH_ALERTMANAGER_TOKEN or EASTWATCH_ALERTMANAGER_TOKEN_FILE, not both', path: ['alertmanagerToken'] })
  .refine((h) => (h.tlsCert === undefined) === (h.tlsKey === undefined), { message: 'HTTPS takes both EASTWATCH_HTTP_TLS_CERT and EASTWATCH_HTTP_TLS_KEY', path: ['tlsCert'] });

export type HttpConfig = z.infer<typeof HttpConfigSchema>;

/** The webhook's token, from the file when one is named; undefined: no webhook. */
export function alertmanagerToken(cfg: HttpConfig): string | undefined {
  if (cfg.alertmanagerTokenFile === undefined) return cfg.alertmanagerToken;
  const token = readFileSync(cfg.alertmanagerTokenFile, 'utf8').trim();
  if (token.length < 16) throw new Error(`${cfg.alertmanagerTokenFile}: the Alertmanager token must have at least 16 characters`);
  return token;
}

/** Where the API's tokens are kept. */
export const tokensFile = (cfg: HttpConfig, home: string): string => cfg.tokensFile ?? path.join(home, 'api-tokens.json');

/** The server's TLS material, read at start; undefined: plain HTTP. */
export function tlsOf(cfg: HttpConfig): { cert: Buffer; key: Buffer } | undefined {
  if (!cfg.tlsCert || !cfg.tlsKey) return undefined;
  return { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) };
}
