import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { configVars, loadConfig, redacted } from '../../app/config';
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
    expect(topicNames(cfg.kafka.topicPrefix)).toEqual({ flows: 'eastwatch.flows', counters: 'eastwatch.counters', deadLetter: 'eastwatch.dead-letter', alerts: 'eastwatch.alerts', allocations: 'eastwatch.allocations' });
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

  it('never shows secrets', () => {
    const cfg = loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'ew', KAFKA_SASL_PASSWORD: 's3cret', CLICKHOUSE_PASSWORD: 'hunter2', EASTWATCH_SLURMRESTD_TOKEN: 'eyJhbGciOi.jwt' });
    const shown = JSON.stringify(redacted(cfg));
    expect(shown).not.toMatch(/s3cret|hunter2|eyJhbGciOi/);
    expect(cfg.kafka.saslPassword).toBe('s3cret');
    expect(configVars().filter((v) => v.secret).map((v) => v.env).sort()).toEqual(['CLICKHOUSE_PASSWORD', 'EASTWATCH_SLURMRESTD_TOKEN', 'KAFKA_SASL_PASSWORD']);
  });
});
