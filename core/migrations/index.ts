/**
 * Versioned migrations, applied in order on start and by `eastwatch migrate`; each applied version is
 * recorded in schema_migrations. After them, tables of schema-as-code records gain any column their zod
 * schema has and the table lacks (Akvorado's way: the code is the desired schema), and the flows TTL follows
 * the config.
 */
import type { z } from 'zod';
import { columnDdl, columnsOf } from '../columns';
import type { ClickHouseConfig } from '../config';
import { FlowSchema } from '../flow';
import type { Logger } from '../log';
import { AlertSchema, AlertTriageSchema, AuditEntrySchema, SuppressionSchema, WebhookDeliverySchema, WebhookSubscriptionSchema, AllocationSchema, InterfaceCounterSchema, InventoryAddressSchema } from '../records';
import type { Store } from '../clickhouse';
import { flows } from './001_flows';
import { flowsRollup } from './002_flows_rollup';
import { inventoryAllocationsAlerts } from './003_inventory_allocations_alerts';
import { writerIntents } from './004_writer_intents';
import { interfaceCounters } from './005_interface_counters';
import { alerts } from './006_alerts';
import { egressRollups } from './007_egress_rollups';
import { auditLog } from './008_audit_log';
import { nodePeers } from './009_node_peers';
import { webhooks } from './010_webhooks';
import type { Migration } from './migration';

export const MIGRATIONS: Migration[] = [flows, flowsRollup, inventoryAllocationsAlerts, writerIntents, interfaceCounters, alerts, egressRollups, auditLog, nodePeers, webhooks];

const RECORD_TABLES: [string, z.ZodObject][] = [
  ['flows', FlowSchema],
  ['inventory_addresses', InventoryAddressSchema],
  ['allocations', AllocationSchema],
  ['alerts', AlertSchema],
  ['alert_triage', AlertTriageSchema],
  ['interface_counters', InterfaceCounterSchema],
  ['audit_log', AuditEntrySchema],
  ['suppressions', SuppressionSchema],
  ['webhook_subscriptions', WebhookSubscriptionSchema],
  ['webhook_deliveries', WebhookDeliverySchema],
];

export interface MigrationReport {
  applied: number[];
  columnsAdded: string[];
  ttlChanged: boolean;
}

export async function migrate(store: Store, cfg: ClickHouseConfig, log?: Logger): Promise<MigrationReport> {
  const { client, tbl } = store;
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS \`${store.db}\`` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${tbl('schema_migrations')} (
  version UInt32, name String, applied_at DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = new Set(
    (await store.rows<{ version: number }>(`SELECT version FROM ${tbl('schema_migrations')} FINAL`)).map((r) => Number(r.version)),
  );
  const report: MigrationReport = { applied: [], columnsAdded: [], ttlChanged: false };
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const query of m.statements({ cfg, tbl })) await client.command({ query });
    await client.insert({ table: tbl('schema_migrations'), values: [{ version: m.version, name: m.name }], format: 'JSONEachRow' });
    report.applied.push(m.version);
    log?.info({ version: m.version, name: m.name }, 'migration applied');
  }
  for (const [table, schema] of RECORD_TABLES) report.columnsAdded.push(...(await reconcileColumns(store, table, schema)));
  report.ttlChanged = await applyFlowsTtl(store, cfg.flowsTtlDays);
  return report;
}

async function reconcileColumns(store: Store, table: string, schema: z.ZodObject): Promise<string[]> {
  const existing = new Set(
    (await store.rows<{ name: string }>('SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}', {
      db: store.db,
      t: table,
    })).map((r) => r.name),
  );
  const missing = columnsOf(schema).filter((c) => !existing.has(c.name));
  for (const c of missing) {
    await store.client.command({ query: `ALTER TABLE ${store.tbl(table)} ADD COLUMN IF NOT EXISTS ${columnDdl(c)}` });
  }
  return missing.map((c) => `${table}.${c.name}`);
}

/** MODIFY TTL rewrites parts, so it runs only when the configured retention differs from the table's. */
async function applyFlowsTtl(store: Store, days: number): Promise<boolean> {
  const [row] = await store.rows<{ engine_full: string }>(
    'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {t:String}',
    { db: store.db, t: 'flows' },
  );
  if (row?.engine_full.includes(`toIntervalDay(${days})`)) return false;
  await store.client.command({
    query: `ALTER TABLE ${store.tbl('flows')} MODIFY TTL toDateTime(time_received) + toIntervalDay(${Number(days)})`,
  });
  return true;
}
