/**
 * What an eastwatch process can be: `eastwatch start --roles` picks any of these, all by default.
 * - collectors: flow listeners, followed logs, Hubble Relay and topics, with enrichment (scale out: run many)
 * - allocations: the Slurm and Kubernetes pollers and the pod watch (run once per cluster)
 * - writer: Kafka to ClickHouse (scale out by consumer group, up to the flows topic's partitions)
 * - detectors: the detectors (issue 12 fills this role)
 * - http: /healthz, /metrics and the API
 */
import { UserError } from '../core/error-text';

export const ROLES = ['collectors', 'allocations', 'writer', 'detectors', 'http'] as const;

export type Role = (typeof ROLES)[number];

export class RoleError extends UserError {}

export function parseRoles(list: string): Role[] {
  const roles = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (roles.length === 0) throw new RoleError(`no role given; roles: ${ROLES.join(', ')}`);
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new RoleError(`unknown role ${r}; roles: ${ROLES.join(', ')}`);
  return [...new Set(roles)] as Role[];
}
