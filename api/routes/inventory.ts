/** The inventory: read it, replace it (validated, atomic, against the version read), audited. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAudit } from '../../core/audit';
import { principalOf } from '../auth';
import { readInventoryFile, replaceInventoryFile } from '../queries/inventory-file';
import type { ApiDeps } from '../server';
import { ErrorSchema } from '../schemas/common';

/** An inventory of tens of thousands of nodes, hostlists spelled out, still fits. */
const INVENTORY_BODY_LIMIT = 8 * 1024 * 1024;

const StateSchema = z.object({
  file: z.string(), yaml: z.string().describe('The inventory file as it is'), sha256: z.string().describe('Its version: give it back to replace it'),
  nodes: z.number().int().optional().describe('Nodes it defines (absent when the file does not parse)'), zones: z.array(z.string()).optional(),
});

export const inventoryRoutes: FastifyPluginAsync<ApiDeps> = async (plain, { store, inventoryFile }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();

  app.get('/inventory', {
    config: { role: 'viewer' },
    schema: { tags: ['inventory'], summary: 'The inventory file, its version and what it defines', response: { 200: StateSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async () => readInventoryFile(inventoryFile));

  app.put('/inventory', {
    config: { role: 'admin' },
    bodyLimit: INVENTORY_BODY_LIMIT,
    schema: {
      tags: ['inventory'], summary: 'Replace the inventory',
      description: 'Validated as every process loads it (400 naming each problem), refused when the file changed since its sha256 was read (409), then swapped in atomically; processes reload it within seconds',
      body: z.strictObject({
        yaml: z.string().min(1).max(INVENTORY_BODY_LIMIT), sha256: z.string().regex(/^[0-9a-f]{64}$/).describe('The version this replaces, from GET'),
        reason: z.string().min(1).max(4096).describe('Why: kept in the audit trail'),
      }),
      response: { 200: StateSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
    },
  }, async (req) => {
    const { before, after } = replaceInventoryFile(inventoryFile, req.body.yaml, req.body.sha256);
    const changes: Record<string, { from: unknown; to: unknown }> = { sha256: { from: before.sha256, to: after.sha256 } };
    if (before.nodes !== after.nodes) changes.nodes = { from: before.nodes ?? null, to: after.nodes };
    if (JSON.stringify(before.zones) !== JSON.stringify(after.zones)) changes.zones = { from: before.zones ?? null, to: after.zones };
    await recordAudit(store, principalOf(req), [{ action: 'inventory.replace', target_kind: 'inventory', target: after.file, changes, reason: req.body.reason }]);
    return after;
  });
};
