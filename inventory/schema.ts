/**
 * The inventory file the operator keeps (YAML): zones with their CIDRs and the zone-to-zone allow list, nodes
 * with their addresses per fabric, the egress proxies and the shared services. One zod schema validates it;
 * inventory/inventory.ts builds the lookup structures from the parsed value.
 *
 * Nodes come in groups written once: `hosts` is a Slurm hostlist and each address is the first host's, the
 * next hosts counting up by `step` (gpu[001-064] with frontend 10.0.1.1 gives gpu001 10.0.1.1 ... gpu064
 * 10.0.1.64). A single node is a group of one.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export const ROLES = ['gpu', 'storage', 'proxy', 'control-plane', 'switch', 'dpu', 'service'] as const;
export const FABRICS = ['frontend', 'backend', 'oob'] as const;
export type Fabric = (typeof FABRICS)[number];
export const PROTOCOLS = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 } as const;

const name = () => z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" and "-", at most 64');
const address = () => z.string().refine((s) => isIP(s) !== 0, 'not an IPv4 or IPv6 address');
/** Checked for form here; inventory.ts rejects host bits set (a typo far more often than an intent). */
const cidr = () => z.string().regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, 'expected a CIDR such as 10.250.0.0/16 or fd00::/8');
/** An approved egress destination: a host name, "*." and a domain, or an address or CIDR. */
const destination = () => z.string().max(253).refine(
  (s) => /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(s) || /^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(s),
  'expected a host name, "*." and a domain, or a CIDR',
);
const portRange = z.union([
  z.number().int().min(0).max(65535),
  z.string().regex(/^\d{1,5}-\d{1,5}$/, 'expected a port or a range "from-to"'),
]);

export const ZoneSchema = z.strictObject({
  name: name(),
  cidrs: z.array(cidr()).min(1),
  description: z.string().max(512).optional(),
});

/** Traffic allowed from one zone to another; anything between different zones not listed is denied. */
export const AllowRuleSchema = z.strictObject({
  from: name(),
  to: name(),
  /** Destination ports; all when omitted. */
  ports: z.array(portRange).min(1).optional(),
  protocols: z.array(z.enum(Object.keys(PROTOCOLS) as [keyof typeof PROTOCOLS])).min(1).optional(),
  description: z.string().max(512).optional(),
});

export const NodeGroupSchema = z.strictObject({
  hosts: z.string().min(1).max(4096),
  role: z.enum(ROLES),
  /** Front-end (north-south) address of the first host. */
  frontend: address().optional(),
  /** Back-end addresses of the first host, one per rail: index = rail number. */
  backend: z.array(address()).max(64).optional(),
  /** Out-of-band / BMC address of the first host. */
  oob: address().optional(),
  /** Address distance between consecutive hosts of the group. */
  step: z.number().int().min(1).max(1 << 24).default(1),
});

export const InventorySchema = z.strictObject({
  cluster: z.string().max(128).optional(),
  zones: z.array(ZoneSchema).min(1),
  /** Zone of every address no zone CIDR covers. */
  defaultZone: name().default('internet'),
  allow: z.array(AllowRuleSchema).default([]),
  nodes: z.array(NodeGroupSchema).default([]),
  /** Egress proxies: the only sources allowed to reach the default (internet) zone directly. */
  proxies: z.array(address()).default([]),
  /**
   * Shared services: addresses (or CIDRs) every job may talk to. The outside-allocation and scan detectors do
   * not hold traffic with them against a job's allocation.
   */
  services: z.strictObject({
    dns: z.array(address()).default([]),
    storage: z.array(cidr()).default([]),
    monitoring: z.array(cidr()).default([]),
    controlPlane: z.array(cidr()).default([]),
  }).default({ dns: [], storage: [], monitoring: [], controlPlane: [] }),
  /** Zones whose every new destination is an alert (new-destination), e.g. the weights enclave. */
  sensitiveZones: z.array(name()).default([]),
  /** Egress destinations the owners approved, per source zone: traffic to them is not an egress anomaly. */
  egress: z.strictObject({
    approved: z.array(z.strictObject({
      zones: z.array(name()).min(1),
      /** Host names ("pypi.org"), domains with a wildcard ("*.huggingface.co": its subdomains), CIDRs. */
      destinations: z.array(destination()).min(1),
      description: z.string().max(512).optional(),
    })).default([]),
  }).default({ approved: [] }),
});

export type InventoryFile = z.input<typeof InventorySchema>;
export type InventorySpec = z.output<typeof InventorySchema>;
export type AllowRule = z.output<typeof AllowRuleSchema>;
export type Role = (typeof ROLES)[number];
