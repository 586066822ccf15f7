/**
 * Configuration plumbing: each module declares its own section as a zod schema whose leaves name their
 * environment variable and a doc line (`leaf`); the composition root (app/config.ts) assembles the sections,
 * and loading, validation, `eastwatch config --env` and the README's table all come from that one schema.
 * Precedence: defaults < YAML file (--config or EASTWATCH_CONFIG) < environment.
 *
 * Core owns the sections of what core provides: the working directory, logging, Kafka and ClickHouse.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UserError } from './error-text';
import { redactUrls } from './redact';

interface LeafMeta {
  env: string;
  doc: string;
  secret?: boolean;
}

/** A config value with its environment variable and doc line; `secret` values are never logged or shown. */
export const leaf = <T extends z.ZodType>(schema: T, env: string, doc: string, secret = false): T =>
  schema.meta({ env, doc, ...(secret ? { secret } : {}) }) as T;

/** A module's section, defaulted as a whole so an absent section takes every leaf's default. */
export const section = <T extends z.ZodObject>(schema: T) => schema.default(schema.parse({}) as never);

export const port = () => z.number().int().min(1).max(65535);
/** A listening port where 0 lets the kernel pick one. */
export const port0 = () => z.number().int().min(0).max(65535);
export const hostPort = () => z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');
export const topicName = () => z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'not a valid Kafka topic name');

/** A file eastwatch reads (a CA, a key, a token): one that is not there or not readable is a config error. */
export const readableFile = () => z.string().min(1).superRefine((file, ctx) => {
  try {
    accessSync(file, constants.R_OK);
    if (!statSync(file).isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
});

/** A refinement naming `key` when it is set but `why` says it would be ignored or would silently weaken security. */
export function requires<T extends Record<string, unknown>>(ctx: z.RefinementCtx, cfg: T, key: keyof T & string, ok: boolean, why: string): void {
  if (cfg[key] !== undefined && cfg[key] !== '' && cfg[key] !== false && !ok) ctx.addIssue({ code: 'custom', path: [key], message: why });
}

export const KafkaConfigSchema = z.strictObject({
  brokers: leaf(
    z.array(hostPort()).default([]),
    'KAFKA_BROKERS',
    'Comma-separated host:port list of a Kafka cluster; empty starts the bundled single-node broker',
  ),
  managedPort: leaf(port().default(9092), 'EASTWATCH_KAFKA_PORT', 'Port of the bundled broker on 127.0.0.1 when KAFKA_BROKERS is empty'),
  clientId: leaf(z.string().min(1).default('eastwatch'), 'EASTWATCH_KAFKA_CLIENT_ID', 'Kafka client id'),
  ssl: leaf(z.boolean().default(false), 'KAFKA_SSL', 'Connect to Kafka over TLS'),
  sslCaFile: leaf(readableFile().optional(), 'KAFKA_SSL_CA_FILE', 'PEM file of the CA that signed the brokers\' certificates'),
  sslCertFile: leaf(readableFile().optional(), 'KAFKA_SSL_CERT_FILE', 'PEM client certificate for mutual TLS'),
  sslKeyFile: leaf(readableFile().optional(), 'KAFKA_SSL_KEY_FILE', 'PEM client key for mutual TLS'),
  saslMechanism: leaf(
    z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    'KAFKA_SASL_MECHANISM',
    'SASL mechanism: plain, scram-sha-256 or scram-sha-512',
  ),
  saslUsername: leaf(z.string().optional(), 'KAFKA_SASL_USERNAME', 'SASL user name'),
  saslPassword: leaf(z.string().optional(), 'KAFKA_SASL_PASSWORD', 'SASL password (never logged)', true),
  topicPrefix: leaf(topicName().default('eastwatch'), 'EASTWATCH_TOPIC_PREFIX', 'Prefix of eastwatch topics: PREFIX.flows, PREFIX.counters, PREFIX.dead-letter, PREFIX.alerts, PREFIX.allocations, PREFIX.suppressions'),
  partitions: leaf(z.number().int().min(1).max(10000).default(6), 'EASTWATCH_KAFKA_PARTITIONS', 'Partitions of the flows topic (the unit of writer and detector scale-out)'),
  replicationFactor: leaf(z.number().int().min(1).max(10).default(1), 'EASTWATCH_KAFKA_REPLICATION', 'Replication factor of created topics'),
  compression: leaf(z.enum(['lz4', 'gzip', 'none']).default('lz4'), 'EASTWATCH_KAFKA_COMPRESSION', 'Producer compression codec'),
  flowsPerMessage: leaf(z.number().int().min(1).max(4096).default(256), 'EASTWATCH_FLOWS_PER_MESSAGE', 'Flows packed into one Kafka message (same partition)'),
  lingerMs: leaf(z.number().int().min(0).max(10000).default(50), 'EASTWATCH_KAFKA_LINGER_MS', 'Producer waits at most this long to fill a batch'),
}).superRefine((k, ctx) => {
  // Without KAFKA_SSL the client connects in plaintext and never reads these files: say so instead.
  for (const f of ['sslCaFile', 'sslCertFile', 'sslKeyFile'] as const) requires(ctx, k, f, k.ssl, 'is set but KAFKA_SSL is not true: the connection would be plaintext');
  requires(ctx, k, 'sslCertFile', k.sslKeyFile !== undefined, 'needs KAFKA_SSL_KEY_FILE too (mutual TLS)');
  requires(ctx, k, 'sslKeyFile', k.sslCertFile !== undefined, 'needs KAFKA_SSL_CERT_FILE too (mutual TLS)');
  for (const f of ['saslUsername', 'saslPassword'] as const) requires(ctx, k, f, k.saslMechanism !== undefined, 'is set but KAFKA_SASL_MECHANISM is not: no SASL authentication would happen');
  requires(ctx, k, 'saslMechanism', k.saslUsername !== undefined && k.saslPassword !== undefined, 'needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
});

export const ClickHouseConfigSchema = z.strictObject({
  url: leaf(z.url().optional(), 'CLICKHOUSE_URL', 'ClickHouse server HTTP(S) URL; unset uses embedded chDB'),
  username: leaf(z.string().default('default'), 'CLICKHOUSE_USER', 'ClickHouse user (server only)'),
  password: leaf(z.string().default(''), 'CLICKHOUSE_PASSWORD', 'ClickHouse password (server only; never logged)', true),
  database: leaf(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/, 'not a valid database name').default('eastwatch'), 'CLICKHOUSE_DATABASE', 'Database holding eastwatch tables'),
  caFile: leaf(readableFile().optional(), 'CLICKHOUSE_CA_FILE', 'PEM CA certificate for an https:// ClickHouse URL'),
  chdbPath: leaf(z.string().optional(), 'EASTWATCH_CHDB_PATH', 'Data directory of embedded chDB (default EASTWATCH_HOME/chdb)'),
  flowsTtlDays: leaf(z.number().int().min(1).max(3650).default(30), 'EASTWATCH_FLOWS_TTL_DAYS', 'Days flows are kept'),
}).superRefine((c, ctx) => {
  requires(ctx, c, 'caFile', c.url?.startsWith('https://') === true, 'is only used with an https:// CLICKHOUSE_URL');
  requires(ctx, c, 'password', c.url !== undefined, 'is set but CLICKHOUSE_URL is not: embedded chDB has no password');
  requires(ctx, c, 'chdbPath', c.url === undefined, 'is set but CLICKHOUSE_URL points at a server: the chDB path would be ignored');
});

/** The top-level keys core owns; app/config.ts adds every module's section beside them. */
export const coreConfigShape = {
  home: leaf(z.string().default('.eastwatch'), 'EASTWATCH_HOME', 'Working directory for the bundled broker, embedded ClickHouse and saved state'),
  logLevel: leaf(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'), 'EASTWATCH_LOG_LEVEL', 'Log level'),
  kafka: section(KafkaConfigSchema),
  clickhouse: section(ClickHouseConfigSchema),
};

export type KafkaConfig = z.infer<typeof KafkaConfigSchema>;
export type ClickHouseConfig = z.infer<typeof ClickHouseConfigSchema>;

export interface EnvVar extends LeafMeta {
  key: string;
  kind: string;
}

const unwrap = (s: z.ZodType): z.ZodType => {
  let cur = s;
  while (cur.def.type === 'default' || cur.def.type === 'optional') cur = (cur.def as unknown as { innerType: z.ZodType }).innerType;
  return cur;
};

/** Every leaf of a config schema with its env var, dotted key and value kind. */
export function envVars(schema: z.ZodType, prefix = ''): EnvVar[] {
  const obj = unwrap(schema) as z.ZodObject;
  return Object.entries(obj.shape).flatMap(([k, field]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    const inner = unwrap(field as z.ZodType);
    if (inner.def.type === 'object') return envVars(inner, key);
    const meta = (field as z.ZodType).meta() as unknown as LeafMeta;
    return [{ ...meta, key, kind: inner.def.type }];
  });
}

export class ConfigError extends UserError {}

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

/** Loads and validates a config against `schema`; throws ConfigError naming each bad key and where it came from. */
export function loadConfigWith<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv, file?: string): z.infer<S> {
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (e) {
      // yaml names the line and column (duplicate keys included); its code excerpt would make the error multi-line.
      throw new ConfigError(`config file ${file}: ${(e as Error).message.split('\n')[0]!.replace(/:$/, '')}`);
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError(`config file ${file}: expected a mapping at the top level`);
    }
    raw = (parsed ?? {}) as Record<string, unknown>;
  }
  const vars = envVars(schema);
  const byKey = new Map(vars.map((v) => [v.key, v]));
  for (const v of vars) {
    const value = env[v.env];
    if (value !== undefined && value !== '') setPath(raw, v.key, fromEnv(value, v.kind));
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = i.path.join('.');
      // An array item's issue (kafka.brokers.1) belongs to the array's variable.
      const v = byKey.get(key) ?? vars.find((x) => key.startsWith(`${x.key}.`));
      const from = v && env[v.env] !== undefined && env[v.env] !== '' ? `env ${v.env}` : file ? `file ${file}` : 'defaults';
      return `  ${key || '(top level)'} (${from}): ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** A config with its secret leaves and every URL's user:password@ replaced, for logs and `eastwatch config`. */
export function redactedWith<T>(schema: z.ZodType, cfg: T): T {
  const copy = redactUrls(structuredClone(cfg)) as unknown as Record<string, unknown>;
  for (const v of envVars(schema)) {
    if (!v.secret) continue;
    const parts = v.key.split('.');
    const parent = parts.slice(0, -1).reduce<Record<string, unknown>>((o, p) => o[p] as Record<string, unknown>, copy);
    const last = parts[parts.length - 1]!;
    if (parent[last]) parent[last] = '***';
  }
  return copy as unknown as T;
}

/** Markdown table of a schema's environment variables, for the README. */
export function envMarkdownOf(schema: z.ZodType): string {
  const rows = envVars(schema).map((v) => `| \`${v.env}\` | \`${v.key}\` | ${v.doc} |`);
  return ['| variable | key in YAML | meaning |', '|---|---|---|', ...rows].join('\n');
}

/**
 * Environment variables that look like eastwatch's (EASTWATCH_ prefix) but are not: a typo is otherwise
 * ignored in silence. Each with the closest known name, when one is close.
 */
export function unknownVariables(schema: z.ZodType, env: NodeJS.ProcessEnv, others: readonly string[] = []): { variable: string; closest?: string }[] {
  const known = [...envVars(schema).map((v) => v.env), ...others];
  const ours = known.filter((k) => k.startsWith('EASTWATCH_'));
  return Object.keys(env).filter((k) => k.startsWith('EASTWATCH_') && !known.includes(k)).sort().map((variable) => {
    const near = closest(variable, ours);
    return distance(variable, near) <= Math.max(3, Math.floor(variable.length / 4)) ? { variable, closest: near } : { variable };
  });
}
