/**
 * eastwatch configuration: one zod schema. Each leaf names its environment variable and a doc line, so
 * loading, validation, `eastwatch config --env` and the README's table all come from here.
 * Precedence: defaults < YAML file (--config or EASTWATCH_CONFIG) < environment.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

interface LeafMeta {
  env: string;
  doc: string;
  secret?: boolean;
}
const leaf = <T extends z.ZodType>(schema: T, env: string, doc: string, secret = false): T =>
  schema.meta({ env, doc, ...(secret ? { secret } : {}) }) as T;

const port = () => z.number().int().min(1).max(65535);
const port0 = () => z.number().int().min(0).max(65535);
const topicName = () => z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'not a valid Kafka topic name');

const KafkaSchema = z.strictObject({
  brokers: leaf(
    z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')).default([]),
    'KAFKA_BROKERS',
    'Comma-separated host:port list of a Kafka cluster; empty starts the bundled single-node broker',
  ),
  managedPort: leaf(port().default(9092), 'EASTWATCH_KAFKA_PORT', 'Port of the bundled broker on 127.0.0.1 when KAFKA_BROKERS is empty'),
  clientId: leaf(z.string().min(1).default('eastwatch'), 'EASTWATCH_KAFKA_CLIENT_ID', 'Kafka client id'),
  ssl: leaf(z.boolean().default(false), 'KAFKA_SSL', 'Connect to Kafka over TLS'),
  sslCaFile: leaf(z.string().optional(), 'KAFKA_SSL_CA_FILE', 'PEM file of the CA that signed the brokers\' certificates'),
  sslCertFile: leaf(z.string().optional(), 'KAFKA_SSL_CERT_FILE', 'PEM client certificate for mutual TLS'),
  sslKeyFile: leaf(z.string().optional(), 'KAFKA_SSL_KEY_FILE', 'PEM client key for mutual TLS'),
  saslMechanism: leaf(
    z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    'KAFKA_SASL_MECHANISM',
    'SASL mechanism: plain, scram-sha-256 or scram-sha-512',
  ),
  saslUsername: leaf(z.string().optional(), 'KAFKA_SASL_USERNAME', 'SASL user name'),
  saslPassword: leaf(z.string().optional(), 'KAFKA_SASL_PASSWORD', 'SASL password (never logged)', true),
  topicPrefix: leaf(topicName().default('eastwatch'), 'EASTWATCH_TOPIC_PREFIX', 'Prefix of eastwatch topics: PREFIX.flows, PREFIX.counters, PREFIX.dead-letter, PREFIX.alerts'),
  partitions: leaf(z.number().int().min(1).max(10000).default(6), 'EASTWATCH_KAFKA_PARTITIONS', 'Partitions of the flows topic (the unit of writer and detector scale-out)'),
  replicationFactor: leaf(z.number().int().min(1).max(10).default(1), 'EASTWATCH_KAFKA_REPLICATION', 'Replication factor of created topics'),
  compression: leaf(z.enum(['lz4', 'gzip', 'none']).default('lz4'), 'EASTWATCH_KAFKA_COMPRESSION', 'Producer compression codec'),
  flowsPerMessage: leaf(z.number().int().min(1).max(4096).default(256), 'EASTWATCH_FLOWS_PER_MESSAGE', 'Flows packed into one Kafka message (same partition)'),
  lingerMs: leaf(z.number().int().min(0).max(10000).default(50), 'EASTWATCH_KAFKA_LINGER_MS', 'Producer waits at most this long to fill a batch'),
});

const ClickHouseSchema = z.strictObject({
  url: leaf(z.url().optional(), 'CLICKHOUSE_URL', 'ClickHouse server HTTP(S) URL; unset uses embedded chDB'),
  username: leaf(z.string().default('default'), 'CLICKHOUSE_USER', 'ClickHouse user (server only)'),
  password: leaf(z.string().default(''), 'CLICKHOUSE_PASSWORD', 'ClickHouse password (server only; never logged)', true),
  database: leaf(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/, 'not a valid database name').default('eastwatch'), 'CLICKHOUSE_DATABASE', 'Database holding eastwatch tables'),
  caFile: leaf(z.string().optional(), 'CLICKHOUSE_CA_FILE', 'PEM CA certificate for an https:// ClickHouse URL'),
  chdbPath: leaf(z.string().optional(), 'EASTWATCH_CHDB_PATH', 'Data directory of embedded chDB (default EASTWATCH_HOME/chdb)'),
  flowsTtlDays: leaf(z.number().int().min(1).max(3650).default(30), 'EASTWATCH_FLOWS_TTL_DAYS', 'Days flows are kept'),
});

const WriterSchema = z.strictObject({
  groupId: leaf(z.string().min(1).default('eastwatch-writer'), 'EASTWATCH_WRITER_GROUP', 'Kafka consumer group of the ClickHouse writer'),
  batchRows: leaf(z.number().int().min(1).max(1_000_000).default(50_000), 'EASTWATCH_WRITER_BATCH_ROWS', 'Flush an insert at this many rows'),
  batchMs: leaf(z.number().int().min(10).max(60_000).default(1000), 'EASTWATCH_WRITER_BATCH_MS', 'Flush an insert when its oldest row waited this long'),
});

export const COLLECTORS = ['ipfix', 'ipfix-tcp', 'netflow9', 'sflow'] as const;

const CollectorSchema = z.strictObject({
  enabled: leaf(z.array(z.enum(COLLECTORS)).default([...COLLECTORS]), 'EASTWATCH_COLLECTORS', 'Flow listeners to run: ipfix, ipfix-tcp, netflow9, sflow'),
  host: leaf(z.string().default('0.0.0.0'), 'EASTWATCH_COLLECTOR_HOST', 'Address the flow listeners bind (:: for IPv6 and IPv4)'),
  ipfixPort: leaf(port0().default(4739), 'EASTWATCH_IPFIX_PORT', 'IPFIX over UDP and over TCP (0 picks a free port)'),
  netflow9Port: leaf(port0().default(2055), 'EASTWATCH_NETFLOW9_PORT', 'NetFlow v9 over UDP (0 picks a free port)'),
  sflowPort: leaf(port0().default(6343), 'EASTWATCH_SFLOW_PORT', 'sFlow v5 over UDP (0 picks a free port)'),
  receiveBufferBytes: leaf(z.number().int().min(65536).max(1 << 30).default(32 << 20), 'EASTWATCH_UDP_RCVBUF', 'UDP socket receive buffer (the kernel caps it at net.core.rmem_max)'),
  templateTimeoutSec: leaf(z.number().int().min(1).default(1800), 'EASTWATCH_TEMPLATE_TIMEOUT_SEC', 'UDP templates not refreshed for this long expire'),
  enterpriseNames: leaf(
    z.record(z.string().regex(/^\d+\.\d+$/, 'expected PEN.id'), z.string().min(1).max(64)).default({}),
    'EASTWATCH_ENTERPRISE_NAMES',
    'Names for enterprise IPFIX elements as JSON, e.g. {"47450.9":"bf_policy_id"}; unnamed ones are kept as "PEN.id"',
  ),
});

const files = () => z.array(z.string().min(1)).default([]);

const LogsSchema = z.strictObject({
  squid: leaf(files(), 'EASTWATCH_SQUID_LOGS', 'Squid access.log files to follow (native or JSON logformat), comma-separated'),
  envoy: leaf(files(), 'EASTWATCH_ENVOY_LOGS', 'Envoy access log files to follow (JSON or default text format), comma-separated'),
  hubble: leaf(files(), 'EASTWATCH_HUBBLE_FILES', 'Hubble flow JSON files to follow (hubble observe -o json, the Hubble exporter), comma-separated'),
  proxyAddress: leaf(z.string().refine((a) => isIP(a) !== 0, 'not an IP address').default('0.0.0.0'), 'EASTWATCH_PROXY_ADDRESS', 'Address of the egress proxy whose logs are read (exporter_address of its flows)'),
});

const hostPort = () => z.string().regex(/^[^\s]+:\d{1,5}$/, 'expected host:port');

const HubbleSchema = z.strictObject({
  topics: leaf(z.array(topicName()).default([]), 'EASTWATCH_HUBBLE_TOPICS', 'Kafka topics carrying Hubble flow JSON (a line a message, or newline-separated lines), comma-separated'),
  group: leaf(z.string().min(1).default('eastwatch-hubble'), 'EASTWATCH_HUBBLE_GROUP', 'Consumer group reading the Hubble topics'),
  transactionalId: leaf(z.string().min(1).default('eastwatch-hubble'), 'EASTWATCH_HUBBLE_TRANSACTIONAL_ID', 'Transactional id that moves Hubble topic flows and their offsets into the flows topic atomically; unique per eastwatch instance'),
  relay: leaf(hostPort().optional(), 'EASTWATCH_HUBBLE_RELAY', 'Hubble Relay (host:port) to follow over gRPC'),
  relayTls: leaf(z.boolean().default(false), 'EASTWATCH_HUBBLE_RELAY_TLS', 'Connect to Hubble Relay over TLS'),
  relayCaFile: leaf(z.string().optional(), 'EASTWATCH_HUBBLE_RELAY_CA_FILE', 'PEM CA of Hubble Relay\'s certificate'),
  relayCertFile: leaf(z.string().optional(), 'EASTWATCH_HUBBLE_RELAY_CERT_FILE', 'PEM client certificate for mutual TLS with Hubble Relay'),
  relayKeyFile: leaf(z.string().optional(), 'EASTWATCH_HUBBLE_RELAY_KEY_FILE', 'PEM client key for mutual TLS with Hubble Relay'),
  relayOverlapMs: leaf(z.number().int().min(0).max(60_000).default(1000), 'EASTWATCH_HUBBLE_RELAY_OVERLAP_MS', 'A resumed Relay stream starts this long before the newest flow seen (repeats are dropped): covers Relay\'s sort buffer'),
  relayServerName: leaf(z.string().optional(), 'EASTWATCH_HUBBLE_RELAY_SERVER_NAME', 'TLS server name of Hubble Relay when it differs from the address (e.g. *.hubble-relay.cilium.io)'),
});

const InventoryConfigSchema = z.strictObject({
  file: leaf(z.string().optional(), 'EASTWATCH_INVENTORY', 'Inventory YAML (zones, allowed zone pairs, nodes, proxies); reloaded when it changes or on SIGHUP'),
  historyDays: leaf(z.number().int().min(1).max(3650).default(30), 'EASTWATCH_ALLOCATION_HISTORY_DAYS', 'Allocations that ended this long ago are forgotten by enrichment (flows later than that get no job)'),
});

const AllocationSourcesSchema = z.strictObject({
  slurmCommand: leaf(z.string().optional(), 'EASTWATCH_SLURM_COMMAND', 'Command printing Slurm jobs as JSON, polled (e.g. "squeue --json" or "ssh head squeue --json")'),
  slurmrestdUrl: leaf(z.url().optional(), 'EASTWATCH_SLURMRESTD_URL', 'slurmrestd jobs endpoint, polled (e.g. http://slurm:6820/slurm/v0.0.41/jobs)'),
  slurmrestdUser: leaf(z.string().optional(), 'EASTWATCH_SLURMRESTD_USER', 'X-SLURM-USER-NAME for slurmrestd'),
  slurmrestdToken: leaf(z.string().optional(), 'EASTWATCH_SLURMRESTD_TOKEN', 'X-SLURM-USER-TOKEN (JWT) for slurmrestd (never logged)', true),
  kubernetesCommand: leaf(z.string().optional(), 'EASTWATCH_KUBERNETES_COMMAND', 'Command printing pods as JSON, polled (e.g. "kubectl get pods -A -o json")'),
  kubernetesApi: leaf(z.url().optional(), 'EASTWATCH_KUBERNETES_API', 'Kubernetes API server to list and watch pods from (e.g. https://kubernetes.default.svc)'),
  kubernetesTokenFile: leaf(z.string().optional(), 'EASTWATCH_KUBERNETES_TOKEN_FILE', 'Bearer token file for the API server (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/token)'),
  kubernetesCaFile: leaf(z.string().optional(), 'EASTWATCH_KUBERNETES_CA_FILE', 'PEM CA of the API server (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)'),
  kubernetesLabelSelector: leaf(z.string().optional(), 'EASTWATCH_KUBERNETES_LABEL_SELECTOR', 'Only pods matching this label selector (e.g. training.kubeflow.org/job-name)'),
  pollSec: leaf(z.number().int().min(1).max(3600).default(15), 'EASTWATCH_ALLOCATIONS_POLL_SEC', 'Seconds between polls of the Slurm and Kubernetes sources'),
});

const HttpSchema = z.strictObject({
  host: leaf(z.string().default('127.0.0.1'), 'EASTWATCH_HTTP_HOST', 'Address of the health, metrics and API server'),
  port: leaf(z.number().int().min(0).max(65535).default(8080), 'EASTWATCH_HTTP_PORT', 'Port of the health, metrics and API server (0 picks a free one)'),
});

export const ConfigSchema = z.strictObject({
  home: leaf(z.string().default('.eastwatch'), 'EASTWATCH_HOME', 'Working directory for the bundled broker and embedded ClickHouse'),
  logLevel: leaf(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'), 'EASTWATCH_LOG_LEVEL', 'Log level'),
  kafka: KafkaSchema.default(KafkaSchema.parse({})),
  clickhouse: ClickHouseSchema.default(ClickHouseSchema.parse({})),
  writer: WriterSchema.default(WriterSchema.parse({})),
  collectors: CollectorSchema.default(CollectorSchema.parse({})),
  logs: LogsSchema.default(LogsSchema.parse({})),
  hubble: HubbleSchema.default(HubbleSchema.parse({})),
  inventory: InventoryConfigSchema.default(InventoryConfigSchema.parse({})),
  allocations: AllocationSourcesSchema.default(AllocationSourcesSchema.parse({})),
  http: HttpSchema.default(HttpSchema.parse({})),
});

export type Config = z.infer<typeof ConfigSchema>;

export interface EnvVar extends LeafMeta {
  key: string;
  kind: string;
}

const unwrap = (s: z.ZodType): z.ZodType => {
  let cur = s;
  while (cur.def.type === 'default' || cur.def.type === 'optional') cur = (cur.def as unknown as { innerType: z.ZodType }).innerType;
  return cur;
};

/** Every leaf of the config with its env var, dotted key and value kind. */
export function envVars(schema: z.ZodType = ConfigSchema, prefix = ''): EnvVar[] {
  const obj = unwrap(schema) as z.ZodObject;
  return Object.entries(obj.shape).flatMap(([k, field]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    const inner = unwrap(field as z.ZodType);
    if (inner.def.type === 'object') return envVars(inner, key);
    const meta = (field as z.ZodType).meta() as unknown as LeafMeta;
    return [{ ...meta, key, kind: inner.def.type }];
  });
}

export class ConfigError extends Error {}

function fromEnv(value: string, kind: string): unknown {
  if (kind === 'number') return value.trim() === '' ? value : Number(value);
  if (kind === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    return value;
  }
  if (kind === 'array') return value.split(',').map((s) => s.trim()).filter(Boolean);
  if (kind === 'record') {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value; // the schema then names the key and says it expected an object
    }
  }
  return value;
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== 'object' || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = value;
}

/** Loads and validates the config; throws ConfigError naming each bad key and where it came from. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file = env.EASTWATCH_CONFIG): Config {
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    const parsed: unknown = parseYaml(text);
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError(`config file ${file}: expected a mapping at the top level`);
    }
    raw = (parsed ?? {}) as Record<string, unknown>;
  }
  const vars = envVars();
  const byKey = new Map(vars.map((v) => [v.key, v]));
  for (const v of vars) {
    const value = env[v.env];
    if (value !== undefined && value !== '') setPath(raw, v.key, fromEnv(value, v.kind));
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = i.path.join('.');
      const v = byKey.get(key);
      const from = v && env[v.env] !== undefined && env[v.env] !== '' ? `env ${v.env}` : file ? `file ${file}` : 'defaults';
      return `  ${key || '(top level)'} (${from}): ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = result.data;
  cfg.home = path.resolve(cfg.home);
  return cfg;
}

export const chdbPath = (cfg: Config): string => cfg.clickhouse.chdbPath ?? path.join(cfg.home, 'chdb');

export const topics = (cfg: Config) => ({
  flows: `${cfg.kafka.topicPrefix}.flows`,
  deadLetter: `${cfg.kafka.topicPrefix}.dead-letter`,
  alerts: `${cfg.kafka.topicPrefix}.alerts`,
  counters: `${cfg.kafka.topicPrefix}.counters`,
  allocations: `${cfg.kafka.topicPrefix}.allocations`,
});

/** The config with secrets replaced, for logs and `eastwatch config`. */
export function redacted(cfg: Config): Config {
  const copy = structuredClone(cfg) as unknown as Record<string, unknown>;
  for (const v of envVars()) {
    if (!v.secret) continue;
    const parts = v.key.split('.');
    const parent = parts.slice(0, -1).reduce<Record<string, unknown>>((o, p) => o[p] as Record<string, unknown>, copy);
    const last = parts[parts.length - 1]!;
    if (parent[last]) parent[last] = '***';
  }
  return copy as unknown as Config;
}

/** Markdown table of the environment variables, for the README. */
export function envMarkdown(): string {
  const rows = envVars().map((v) => `| \`${v.env}\` | \`${v.key}\` | ${v.doc} |`);
  return ['| variable | key in YAML | meaning |', '|---|---|---|', ...rows].join('\n');
}
