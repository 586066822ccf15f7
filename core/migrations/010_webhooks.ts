import { WebhookDeliverySchema, WebhookSubscriptionSchema } from '../records';
import { Migration, createTableSql } from './migration';

/** Incident-response feeds: subscriptions, and their deliveries (the delivery log, the retry queue). */
export const webhooks: Migration = {
  version: 10,
  name: 'webhook subscriptions and deliveries',
  statements: ({ tbl }) => [
    createTableSql(tbl('webhook_subscriptions'), WebhookSubscriptionSchema, 'ENGINE = ReplacingMergeTree(updated_at) ORDER BY subscription_id'),
    createTableSql(tbl('webhook_deliveries'), WebhookDeliverySchema, 'ENGINE = ReplacingMergeTree(updated_at) PARTITION BY toYYYYMM(created_at) ORDER BY (subscription_id, event_id) TTL toDateTime(created_at) + toIntervalDay(90)'),
  ],
};
