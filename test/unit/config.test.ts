import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { configVars, configWarnings, loadConfig, redacted } from '../../app/config';
import { ConfigError } from '../../core/config';
import { topicNames } from '../../core/topics';

const yamlFile = (text: string) => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'ew-cfg-')), 'eastwatch.yaml');
  writeFileSync(f, text);
  return f;
};

describe('config', () => {
  it('runs everything on one machine by default', () => {
    const cfg = loadConfig({});
    expect(cfg.kafka.brokers).toEqual([]);
    expect(cfg.clickhouse.url).toBeUndefined();
    expect(cfg.http.host).toBe('127.0.0.1');
    expect(topicNames(cfg.kafka.topicPrefix)).toEqual({ flows: 'eastwatch.flows', counters: 'eastwatch.counters', deadLetter: 'eastwatch.dead-letter', alerts: 'eastwatch.alerts', allocations: 'eastwatch.allocations', suppressions: 'eastwatch.suppressions' });
    expect(path.isAbsolute(cfg.home)).toBe(true);
  });

  it('reads environment variables with their types', () => {
    const cfg = loadConfig({
      KAFKA_BROKERS: 'k1:9092, k2:9093',
      EASTWATCH_KAFKA_PARTITIONS: '12',
      KAFKA_SSL: 'true',
      CLICKHOUSE_URL: 'https://ch.example:8443',
    });
    expect(cfg.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(cfg.kafka.partitions).toBe(12);
    expect(cfg.kafka.ssl).toBe(true);
    expect(cfg.clickhouse.url).toBe('https://ch.example:8443');
  });

  it('names the bad key and the variable it came from', () => {
    expect(() => loadConfig({ EASTWATCH_KAFKA_PARTITIONS: 'many' })).toThrow(ConfigError);
    expect(() => loadConfig({ EASTWATCH_KAFKA_PARTITIONS: 'many' })).toThrow(/kafka\.partitions \(env EASTWATCH_KAFKA_PARTITIONS\)/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'no-port' })).toThrow(/kafka\.brokers\.0 .*expected host:port/);
    expect(() => loadConfig({ KAFKA_SSL: 'perhaps' })).toThrow(/kafka\.ssl \(env KAFKA_SSL\)/);
    expect(() => loadConfig({ CLICKHOUSE_URL: 'not a url' })).toThrow(/clickhouse\.url/);
  });

  it('loads a YAML file, lets the environment override it, and rejects unknown keys by name', () => {
    const file = yamlFile('kafka:\n  partitions: 24\n  topicPrefix: prod\nwriter:\n  batchRows: 5000\n');
    const cfg = loadConfig({ EASTWATCH_WRITER_BATCH_ROWS: '7000' }, file);
    expect(cfg.kafka.partitions).toBe(24);
    expect(topicNames(cfg.kafka.topicPrefix).flows).toBe('prod.flows');
    expect(cfg.writer.batchRows).toBe(7000);
    const bad = yamlFile('kafka:\n  partitons: 24\n');
    expect(() => loadConfig({}, bad)).toThrow(new RegExp(`kafka \\(file ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): Unrecognized key: "partitons"`));
    expect(() => loadConfig({}, yamlFile('- a\n- b\n'))).toThrow(/expected a mapping/);
    expect(() => loadConfig({}, '/nonexistent/eastwatch.yaml')).toThrow(/config file \/nonexistent\/eastwatch.yaml/);
  });

  it('never shows secrets, nor the user:password@ of a URL', () => {
    const cfg = loadConfig({
      KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'ew', KAFKA_SASL_PASSWORD: 's3cret',
      CLICKHOUSE_URL: 'https://ch:ch-pa55@clickhouse.example:8443', CLICKHOUSE_PASSWORD: 'hunter2',
      EASTWATCH_SLURMRESTD_URL: 'http://slurm:rest-pa55@head:6820/slurm/v0.0.41/jobs', EASTWATCH_SLURMRESTD_TOKEN: 'eyJhbGciOi.jwt',
      EASTWATCH_KUBERNETES_API: 'https://kube:kube-pa55@k8s.example', EASTWATCH_HUBBLE_TOPICS: 'hubble',
      EASTWATCH_ALERTMANAGER_TOKEN: 'am-t0ken-0123456789',
    });
    const shown = JSON.stringify(redacted(cfg));
    expect(shown).not.toMatch(/s3cret|hunter2|eyJhbGciOi|pa55|am-t0ken/);
    expect(redacted(cfg).clickhouse.url).toBe('https://***@clickhouse.example:8443');
    expect(redacted(cfg).allocations.slurmrestdUrl).toBe('http://***@head:6820/slurm/v0.0.41/jobs');
    expect(cfg.clickhouse.url).toBe('https://ch:ch-pa55@clickhouse.example:8443');
    expect(cfg.kafka.saslPassword).toBe('s3cret');
    expect(configVars().filter((v) => v.secret).map((v) => v.env).sort()).toEqual(['CLICKHOUSE_PASSWORD', 'EASTWATCH_ALERTMANAGER_TOKEN', 'EASTWATCH_SLURMRESTD_TOKEN', 'KAFKA_SASL_PASSWORD']);
  });
});

describe('config combinations that would pass silently', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ew-pem-'));
  const pem = path.join(dir, 'ca.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');
  const fails = (env: NodeJS.ProcessEnv, ...patterns: RegExp[]) => {
    let message = '';
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    for (const p of patterns) expect(message).toMatch(p);
  };

  it('refuses Kafka TLS files without KAFKA_SSL, half of mutual TLS, and SASL without its mechanism or credentials', () => {
    fails({ KAFKA_SSL_CA_FILE: pem }, /kafka\.sslCaFile \(env KAFKA_SSL_CA_FILE\): is set but KAFKA_SSL is not true: the connection would be plaintext/);
    fails({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: pem }, /kafka\.sslCertFile \(env KAFKA_SSL_CERT_FILE\): needs KAFKA_SSL_KEY_FILE too/);
    fails({ KAFKA_SASL_USERNAME: 'ew', KAFKA_SASL_PASSWORD: 'x' }, /kafka\.saslUsername \(env KAFKA_SASL_USERNAME\): is set but KAFKA_SASL_MECHANISM is not/);
    fails({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'ew' }, /kafka\.saslMechanism \(env KAFKA_SASL_MECHANISM\): needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
    expect(loadConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: pem }).kafka.sslCaFile).toBe(pem);
  });

  it('refuses a ClickHouse CA with an http:// URL or with embedded chDB, and a password embedded chDB would ignore', () => {
    fails({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CA_FILE: pem }, /clickhouse\.caFile \(env CLICKHOUSE_CA_FILE\): is only used with an https:\/\/ CLICKHOUSE_URL/);
    fails({ CLICKHOUSE_CA_FILE: pem }, /clickhouse\.caFile/);
    fails({ CLICKHOUSE_PASSWORD: 'x' }, /clickhouse\.password \(env CLICKHOUSE_PASSWORD\): is set but CLICKHOUSE_URL is not/);
    expect(loadConfig({ CLICKHOUSE_URL: 'https://ch:8443', CLICKHOUSE_CA_FILE: pem }).clickhouse.caFile).toBe(pem);
  });

  it('says in one line per file that a CA, certificate, key or token file cannot be read', () => {
    fails({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' }, /^ {2}kafka\.sslCaFile \(env KAFKA_SSL_CA_FILE\): cannot read \/nonexistent\/ca\.pem \(ENOENT\)$/m);
    fails({ EASTWATCH_KUBERNETES_API: 'https://k8s', EASTWATCH_KUBERNETES_TOKEN_FILE: '/nonexistent/token' }, /allocations\.kubernetesTokenFile .*cannot read \/nonexistent\/token/);
    fails({ EASTWATCH_HUBBLE_RELAY: 'relay:4245', EASTWATCH_HUBBLE_RELAY_TLS: 'true', EASTWATCH_HUBBLE_RELAY_CA_FILE: dir }, /hubble\.relayCaFile/);
  });

  it('refuses TLS files of the Relay without TLS, and scheduler credentials without their source', () => {
    fails({ EASTWATCH_HUBBLE_RELAY: 'relay:4245', EASTWATCH_HUBBLE_RELAY_CA_FILE: pem }, /hubble\.relayCaFile .*EASTWATCH_HUBBLE_RELAY_TLS is not true/);
    fails({ EASTWATCH_SLURMRESTD_TOKEN: 'jwt' }, /allocations\.slurmrestdToken .*EASTWATCH_SLURMRESTD_URL is not/);
  });

  it('names the variable of a bad item in a list', () => {
    fails({ KAFKA_BROKERS: 'k1:9092,no-port' }, /kafka\.brokers\.1 \(env KAFKA_BROKERS\): expected host:port/);
  });

  it('warns about EASTWATCH_ variables it does not know, with the closest known one', () => {
    expect(configWarnings({ EASTWATCH_KAFKA_PARTITION: '12', EASTWATCH_HOME: '/x', EASTWATCH_CONFIG: 'f', PATH: '/bin', EASTWATCH_ZZZZZZZZZZZZZZZZZZ: '1' })).toEqual([
      'EASTWATCH_KAFKA_PARTITION is not an eastwatch variable and is ignored; did you mean EASTWATCH_KAFKA_PARTITIONS?',
      'EASTWATCH_ZZZZZZZZZZZZZZZZZZ is not an eastwatch variable and is ignored',
    ]);
  });

  it('turns a malformed YAML file or a duplicate key into one line naming the file and the line', () => {
    const broken = yamlFile('kafka:\n  partitions: [12\n');
    expect(() => loadConfig({}, broken)).toThrow(ConfigError);
    expect(() => loadConfig({}, broken)).toThrow(new RegExp(`^config file ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*line \\d+[^\\n]*$`));
    const twice = yamlFile('kafka:\n  partitions: 12\n  partitions: 24\n');
    expect(() => loadConfig({}, twice)).toThrow(/^config file .*: Map keys must be unique at line 3, column 3$/);
  });
});
