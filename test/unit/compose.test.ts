/** docker-compose.yml cannot run here; this keeps it consistent with the config schema and the services it wires. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { configVars, loadConfig } from '../../app/config';

const ROOT = path.resolve(__dirname, '../..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { environment?: Record<string, string>; ports?: string[]; image?: string; build?: string }>;
};

describe('docker-compose.yml', () => {
  const env = compose.services.eastwatch!.environment!;

  it('has Kafka (KRaft), ClickHouse and eastwatch', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['clickhouse', 'eastwatch', 'kafka']);
    expect(compose.services.kafka!.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(compose.services.eastwatch!.build).toBe('.');
  });

  it('sets only eastwatch variables, each valid for the config schema', () => {
    const known = new Set(configVars().map((v) => v.env));
    for (const k of Object.keys(env)) expect(known).toContain(k);
    const cfg = loadConfig(env);
    expect(cfg.kafka.brokers).toEqual(['kafka:9092']);
    expect(cfg.clickhouse.url).toBe('http://clickhouse:8123');
    expect(cfg.clickhouse.username).toBe(compose.services.clickhouse!.environment!.CLICKHOUSE_USER);
    expect(cfg.clickhouse.password).toBe(compose.services.clickhouse!.environment!.CLICKHOUSE_PASSWORD);
    expect(compose.services.kafka!.environment!.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://${cfg.kafka.brokers[0]}`);
    expect(compose.services.eastwatch!.ports).toContain(`${cfg.http.port}:${cfg.http.port}`);
  });
});
