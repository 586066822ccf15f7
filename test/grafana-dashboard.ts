/**
 * The Grafana dashboard model (classic JSON, schemaVersion 42 as the foundation SDK writes it) as far as the
 * dashboards use it, strict where Grafana is: the SDK's TypeScript types check the builders at compile time;
 * this checks the JSON a user provisions.
 */
import { z } from 'zod';

const ref = z.strictObject({ type: z.string().min(1), uid: z.string().min(1) });
const gridPos = z.object({ h: z.number().int().min(1), w: z.number().int().min(1).max(24), x: z.number().int().min(0).max(23), y: z.number().int().min(0) })
  .refine((g) => g.x + g.w <= 24, 'a panel wider than the 24 columns');

export const ClickHouseTarget = z.strictObject({
  refId: z.string().regex(/^[A-Z]$/), datasource: ref, rawSql: z.string().min(1), format: z.union([z.literal(0), z.literal(1)]),
  queryType: z.enum(['timeseries', 'table']), editorType: z.literal('sql'), pluginVersion: z.string().regex(/^4\.\d+\.\d+$/),
});
export const PrometheusTarget = z.object({ refId: z.string().regex(/^[A-Z]$/), datasource: ref, expr: z.string().min(1), legendFormat: z.string() });

const panel = z.object({
  id: z.number().int().min(1),
  type: z.enum(['timeseries', 'table', 'stat', 'bargauge']),
  title: z.string().min(1),
  datasource: ref,
  gridPos,
  targets: z.array(z.union([ClickHouseTarget, PrometheusTarget])).min(1),
  options: z.record(z.string(), z.unknown()).optional(),
  fieldConfig: z.object({ defaults: z.record(z.string(), z.unknown()), overrides: z.array(z.unknown()) }).optional(),
});

const variable = z.object({
  type: z.enum(['query', 'constant', 'textbox', 'custom', 'interval', 'datasource']),
  name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
});

export const DashboardSchema = z.object({
  uid: z.string().regex(/^[a-z0-9-]{1,40}$/),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(36),
  editable: z.boolean(),
  time: z.object({ from: z.string(), to: z.string() }),
  templating: z.object({ list: z.array(variable) }),
  annotations: z.object({}).passthrough(),
  panels: z.array(panel).min(1),
  tags: z.array(z.string()),
});
export type DashboardJson = z.infer<typeof DashboardSchema>;
