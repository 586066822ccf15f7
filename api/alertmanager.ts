/**
 * Alertmanager's webhook (payload version 4): alerts raised elsewhere join eastwatch's alert store. The route
 * exists only when a token is configured, and takes only requests bearing it (Alertmanager's
 * http_config.authorization). It answers once the alerts are on Kafka, so Alertmanager retries the rest.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { alertsFromWebhook, WebhookPayloadSchema } from '../alerts/alertmanager';
import { alertmanagerAlerts } from '../alerts/metrics';
import type { Alert } from '../core/records';

export interface AlertmanagerOptions {
  token: string;
  publish(alerts: Alert[]): Promise<void>;
}

const schema = {
  description: "Alertmanager's webhook (version 4): its alerts become eastwatch alerts, deduplicated by Alertmanager's fingerprint; resolved ones end",
  body: WebhookPayloadSchema,
  response: { 200: z.object({ stored: z.number().int(), skipped: z.number().int() }) },
};

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A hook refusing requests without the bearer token; compared in constant time. */
function bearer(token: string) {
  const want = digest(token);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!), want)) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid bearer token is required' });
    }
  };
}

export const alertmanagerRoutes: FastifyPluginAsync<AlertmanagerOptions> = async (plain, o) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  app.post('/api/v1/alertmanager', { onRequest: bearer(o.token), schema }, async (req) => {
    const { alerts, own } = alertsFromWebhook(req.body, Date.now());
    await o.publish(alerts);
    alertmanagerAlerts.inc({ result: 'own' }, own);
    for (const a of alerts) alertmanagerAlerts.inc({ result: a.state === 'ended' ? 'resolved' : 'firing' });
    return { stored: alerts.length, skipped: own };
  });
};
