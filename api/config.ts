/** The HTTP server's config section. */
import { z } from 'zod';
import { leaf, port0 } from '../core/config';

export const HttpConfigSchema = z.strictObject({
  host: leaf(z.string().default('127.0.0.1'), 'EASTWATCH_HTTP_HOST', 'Address of the health, metrics and API server'),
  port: leaf(port0().default(8080), 'EASTWATCH_HTTP_PORT', 'Port of the health, metrics and API server (0 picks a free one)'),
});

export type HttpConfig = z.infer<typeof HttpConfigSchema>;
