/** Incident-response feeds: webhook subscriptions (admins), their secrets, and their delivery logs. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  createSubscription, getSubscription, listDeliveries, listSubscriptions, rotateSecret, setActive, subscriptionView,
} from '../../alerts/webhooks/subscriptions';
import { auditOf } from '../../core/audit';
import { DELIVERY_STATUSES, SEVERITIES, WEBHOOK_FORMATS } from '../../core/records';
import { principalOf } from '../auth';
import type { ApiDeps } from '../server';
import { AuditViewSchema, ErrorSchema, limit, name } from '../schemas/common';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema };
const Params = z.strictObject({ id: z.uuid() });

const SubscriptionSchema = z.object({
  subscription_id: z.string(), name: z.string(), url: z.string(), detectors: z.array(z.string()), severities: z.array(z.string()), zones: z.array(z.string()),
  format: z.enum(WEBHOOK_FORMATS), active: z.boolean(), disabled_reason: z.string().optional(), created_by: z.string(), created_at: z.string(), updated_at: z.string(),
  rotating_until: z.string().optional().describe('Until when the previous secret also signs'),
});
const WithSecret = z.object({ subscription: SubscriptionSchema, secret: z.string().describe('whsec_ secret: shown this once') });
const Detail = SubscriptionSchema.extend({ audit: z.array(AuditViewSchema) });

export const webhookRoutes: FastifyPluginAsync<ApiDeps> = async (plain, { store, rotationOverlapMs }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  const detail = async (id: string) => ({ ...subscriptionView(await getSubscription(store, id)), audit: (await auditOf(store, 'webhook', [id])).get(id)! });

  app.post('/webhooks', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], summary: 'Subscribe a receiver to alerts',
      description: 'Alerts raised and ended that match every filter given are POSTed to the URL, signed as Standard Webhooks says; the secret is shown once',
      body: z.strictObject({
        name: name(128), url: z.url({ protocol: /^https?$/ }).max(2048),
        detectors: z.array(z.string().regex(/^[a-z0-9-]{1,64}$/)).max(64).default([]), severities: z.array(z.enum(SEVERITIES)).max(3).default([]),
        zones: z.array(name(64)).max(64).default([]), format: z.enum(WEBHOOK_FORMATS).default('eastwatch').describe('The alert in data: eastwatch, ocsf or ecs'),
      }),
      response: { 201: WithSecret, ...errors },
    },
  }, async (req, reply) => {
    const { subscription, secret } = await createSubscription(store, req.body, principalOf(req));
    return reply.code(201).send({ subscription: subscriptionView(subscription), secret });
  });

  app.get('/webhooks', {
    config: { role: 'admin' },
    schema: { tags: ['webhooks'], summary: 'The subscriptions (never their secrets)', response: { 200: z.object({ subscriptions: z.array(SubscriptionSchema) }), ...errors } },
  }, async () => ({ subscriptions: (await listSubscriptions(store)).map(subscriptionView) }));

  app.get('/webhooks/:id', {
    config: { role: 'admin' },
    schema: { tags: ['webhooks'], summary: 'One subscription with its audit trail', params: Params, response: { 200: Detail, ...errors } },
  }, async (req) => detail(req.params.id));

  app.get('/webhooks/:id/deliveries', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], summary: "A subscription's delivery log, newest first", params: Params,
      querystring: z.strictObject({ status: z.enum(DELIVERY_STATUSES).optional(), limit: limit(1000, 100) }),
      response: {
        200: z.object({
          deliveries: z.array(z.object({
            event_id: z.string(), event_type: z.string(), alert_id: z.string(), status: z.string(), attempts: z.number().int(), last_status: z.number().int(),
            last_error: z.string(), created_at: z.string(), updated_at: z.string(), next_attempt_at: z.string().optional(),
          })),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    await getSubscription(store, req.params.id);
    return { deliveries: await listDeliveries(store, req.params.id, req.query.status, req.query.limit) };
  });

  app.post('/webhooks/:id/rotate', {
    config: { role: 'admin' },
    schema: {
      tags: ['webhooks'], summary: 'Rotate the signing secret', description: 'Deliveries carry a signature by the new secret and, for the overlap, by the old one too',
      params: Params, response: { 200: WithSecret, ...errors },
    },
  }, async (req) => {
    const { subscription, secret } = await rotateSecret(store, req.params.id, rotationOverlapMs, principalOf(req));
    return { subscription: subscriptionView(subscription), secret };
  });

  for (const [action, active] of [['disable', false], ['enable', true]] as const) {
    app.post(`/webhooks/:id/${action}`, {
      config: { role: 'admin' },
      schema: {
        tags: ['webhooks'], summary: `${action === 'disable' ? 'Stop' : 'Resume'} deliveries`, params: Params,
        body: z.strictObject({ reason: z.string().min(1).max(1024) }), response: { 200: Detail, ...errors },
      },
    }, async (req) => {
      await setActive(store, req.params.id, active, req.body.reason, principalOf(req));
      return detail(req.params.id);
    });
  }
};
