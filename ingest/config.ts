/** The config sections of the ingest stage: flow listeners, followed log files, Hubble Relay and topics. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { leaf, port0, readableFile, requires, topicName } from '../core/config';
import { PrefixTrie } from '../inventory/prefix-trie';

export const COLLECTORS = ['ipfix', 'ipfix-tcp', 'netflow9', 'sflow'] as const;

/** An IPv4 or IPv6 CIDR (or bare address) as the inventory reads them; the message names what is wrong. */
const cidr = () => z.string().superRefine((c, ctx) => {
  try {
    new PrefixTrie([[c, true]]);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});

export const CollectorConfigSchema = z.strictObject({
  enabled: leaf(z.array(z.enum(COLLECTORS)).default([...COLLECTORS]), 'EASTWATCH_COLLECTORS', 'Flow listeners to run: ipfix, ipfix-tcp, netflow9, sflow'),
  host: leaf(z.string().default('0.0.0.0'), 'EASTWATCH_COLLECTOR_HOST', 'Address the flow listeners bind (:: for IPv6 and IPv4)'),
  ipfixPort: leaf(port0().default(4739), 'EASTWATCH_IPFIX_PORT', 'IPFIX over UDP and over TCP (0 picks a free port)'),
  netflow9Port: leaf(port0().default(2055), 'EASTWATCH_NETFLOW9_PORT', 'NetFlow v9 over UDP (0 picks a free port)'),
  sflowPort: leaf(port0().default(6343), 'EASTWATCH_SFLOW_PORT', 'sFlow v5 over UDP (0 picks a free port)'),
  receiveBufferBytes: leaf(z.number().int().min(65536).max(1 << 30).default(32 << 20), 'EASTWATCH_UDP_RCVBUF', 'UDP socket receive buffer (the kernel caps it at net.core.rmem_max)'),
  templateTimeoutSec: leaf(z.number().int().min(1).default(1800), 'EASTWATCH_TEMPLATE_TIMEOUT_SEC', 'UDP templates not refreshed for this long expire'),
  maxExporters: leaf(
    z.number().int().min(1).max(1_000_000).default(10_000),
    'EASTWATCH_MAX_EXPORTERS',
    'Exporters (UDP addresses and IPFIX/TCP sessions) a collector keeps state and metric series for; when full, those that never sent a valid template make way first',
  ),
  exporterIdleSec: leaf(
    // At most a week: it is also a socket timeout, and Node.js turns one beyond 2^31 ms into 1 ms.
    z.number().int().min(1).max(604_800).default(1800),
    'EASTWATCH_EXPORTER_IDLE_SEC',
    'An exporter not heard from for this long is forgotten (state, metric series); an IPFIX/TCP session silent this long is closed',
  ),
  exporterCidrs: leaf(
    z.array(cidr()).default([]),
    'EASTWATCH_EXPORTER_CIDRS',
    'Comma-separated CIDRs exporters send from; when set, datagrams and TCP connections from elsewhere are dropped and counted before any state',
  ),
  enterpriseNames: leaf(
    z.record(z.string().regex(/^\d+\.\d+$/, 'expected PEN.id'), z.string().min(1).max(64)).default({}),
    'EASTWATCH_ENTERPRISE_NAMES',
    'Names for enterprise IPFIX elements as JSON, e.g. {"47450.9":"bf_policy_id"}; unnamed ones are kept as "PEN.id"',
  ),
  maxBacklog: leaf(
    z.number().int().min(1000).max(50_000_000).default(500_000),
    'EASTWATCH_COLLECTOR_BACKLOG',
    'Records a collector process holds for Kafka while Kafka is slow or unreachable; beyond it new records are dropped and counted',
  ),
});

const files = () => z.array(z.string().min(1)).default([]);

export const LogsConfigSchema = z.strictObject({
  squid: leaf(files(), 'EASTWATCH_SQUID_LOGS', 'Squid access.log files to follow (native or JSON logformat), comma-separated'),
  envoy: leaf(files(), 'EASTWATCH_ENVOY_LOGS', 'Envoy access log files to follow (JSON or default text format), comma-separated'),
  hubble: leaf(files(), 'EASTWATCH_HUBBLE_FILES', 'Hubble flow JSON files to follow (hubble observe -o json, the Hubble exporter), comma-separated'),
  proxyAddress: leaf(z.string().refine((a) => isIP(a) !== 0, 'not an IP address').default('0.0.0.0'), 'EASTWATCH_PROXY_ADDRESS', 'Address of the egress proxy whose logs are read (exporter_address of its flows)'),
});

export const HubbleConfigSchema = z.strictObject({
  topics: leaf(z.array(topicName()).default([]), 'EASTWATCH_HUBBLE_TOPICS', 'Kafka topics carrying Hubble flow JSON (a line a message, or newline-separated lines), comma-separated'),
  group: leaf(z.string().min(1).default('eastwatch-hubble'), 'EASTWATCH_HUBBLE_GROUP', 'Consumer group reading the Hubble topics'),
  transactionalId: leaf(z.string().min(1).default('eastwatch-hubble'), 'EASTWATCH_HUBBLE_TRANSACTIONAL_ID', 'Transactional id that moves Hubble topic flows and their offsets into the flows topic atomically; unique per eastwatch instance'),
  relay: leaf(z.string().regex(/^[^\s]+:\d{1,5}$/, 'expected host:port').optional(), 'EASTWATCH_HUBBLE_RELAY', 'Hubble Relay (host:port) to follow over gRPC'),
  relayTls: leaf(z.boolean().default(false), 'EASTWATCH_HUBBLE_RELAY_TLS', 'Connect to Hubble Relay over TLS'),
  relayCaFile: leaf(readableFile().optional(), 'EASTWATCH_HUBBLE_RELAY_CA_FILE', 'PEM CA of Hubble Relay\'s certificate'),
  relayCertFile: leaf(readableFile().optional(), 'EASTWATCH_HUBBLE_RELAY_CERT_FILE', 'PEM client certificate for mutual TLS with Hubble Relay'),
  relayKeyFile: leaf(readableFile().optional(), 'EASTWATCH_HUBBLE_RELAY_KEY_FILE', 'PEM client key for mutual TLS with Hubble Relay'),
  relayOverlapMs: leaf(z.number().int().min(0).max(60_000).default(1000), 'EASTWATCH_HUBBLE_RELAY_OVERLAP_MS', 'A resumed Relay stream starts this long before the newest flow seen (repeats are dropped): covers Relay\'s sort buffer'),
  relayServerName: leaf(z.string().optional(), 'EASTWATCH_HUBBLE_RELAY_SERVER_NAME', 'TLS server name of Hubble Relay when it differs from the address (e.g. *.hubble-relay.cilium.io)'),
}).superRefine((h, ctx) => {
  for (const f of ['relayCaFile', 'relayCertFile', 'relayKeyFile', 'relayServerName'] as const) {
    requires(ctx, h, f, h.relayTls, 'is set but EASTWATCH_HUBBLE_RELAY_TLS is not true: the connection would be plaintext');
  }
  requires(ctx, h, 'relayTls', h.relay !== undefined, 'is set but EASTWATCH_HUBBLE_RELAY is not');
  requires(ctx, h, 'relayCertFile', h.relayKeyFile !== undefined, 'needs EASTWATCH_HUBBLE_RELAY_KEY_FILE too (mutual TLS)');
  requires(ctx, h, 'relayKeyFile', h.relayCertFile !== undefined, 'needs EASTWATCH_HUBBLE_RELAY_CERT_FILE too (mutual TLS)');
});

export type CollectorConfig = z.infer<typeof CollectorConfigSchema>;
export type LogsConfig = z.infer<typeof LogsConfigSchema>;
export type HubbleConfig = z.infer<typeof HubbleConfigSchema>;

/** Everything the ingest stage is configured by. */
export interface IngestConfig {
  collectors: CollectorConfig;
  logs: LogsConfig;
  hubble: HubbleConfig;
}
