/** The incident-response feed's config section. */
import { z } from 'zod';
import { leaf } from '../../core/config';

const HOUR = 3600e3;

export const WebhooksConfigSchema = z.strictObject({
  group: leaf(z.string().min(1).max(249).default('eastwatch-webhooks'), 'EASTWATCH_WEBHOOK_GROUP', 'Consumer group the webhook dispatcher reads the alerts topic in'),
  retryDelaysMs: leaf(
    z.array(z.coerce.number().int().min(1).max(24 * HOUR)).min(1).max(20).default([5000, 5 * 60_000, 30 * 60_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]),
    'EASTWATCH_WEBHOOK_RETRY_DELAYS_MS',
    'Comma-separated waits before each retry of a failed delivery (each with up to 20% jitter); after the last one it is given up. Default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h',
  ),
  timeoutMs: leaf(z.number().int().min(100).max(60_000).default(10_000), 'EASTWATCH_WEBHOOK_TIMEOUT_MS', 'A delivery attempt without an answer within this long has failed'),
  concurrency: leaf(z.number().int().min(1).max(64).default(8), 'EASTWATCH_WEBHOOK_CONCURRENCY', 'Deliveries attempted at once'),
  rotationOverlapMs: leaf(z.number().int().min(0).max(30 * 24 * HOUR).default(24 * HOUR), 'EASTWATCH_WEBHOOK_ROTATION_OVERLAP_MS', 'After a secret rotation, how long the old secret still signs beside the new one'),
});

export type WebhooksConfig = z.infer<typeof WebhooksConfigSchema>;
