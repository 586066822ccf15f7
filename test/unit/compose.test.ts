/**
 * docker-compose.yml cannot run here; this keeps it consistent with the config schema and the services it wires:
 * every file it mounts exists, Prometheus scrapes eastwatch and loads the rules, Alertmanager calls eastwatch's
 * webhook with the token eastwatch expects, Grafana finds the data sources and dashboards where they are mounted.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { configVars, loadConfig } from '../../app/config';

const ROOT = path.resolve(__dirname, '../..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { environment?: Record<string, string>; ports?: string[]; image?: string; build?: string; volumes?: string[] }>;
};
const yamlFile = (p: string) => parse(readFileSync(path.join(ROOT, p), 'utf8'));
/** Host path (repository-relative) -> container path, of a service's bind mounts. */
const mounts = (service: string) => new Map((compose.services[service]!.volumes ?? []).filter((v) => v.startsWith('./'))
  .map((v) => v.split(':')).map(([host, container]) => [host!.slice(2), container!] as const));

describe('docker-compose.yml', () => {
  const env = compose.services.eastwatch!.environment!;

  it('has Kafka (KRaft), ClickHouse, eastwatch, Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['alertmanager', 'clickhouse', 'eastwatch', 'grafana', 'kafka', 'prometheus']);
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

  it('mounts files that exist', () => {
    for (const service of Object.keys(compose.services)) for (const host of mounts(service).keys()) expect([service, host, existsSync(path.join(ROOT, host))]).toEqual([service, host, true]);
  });

  it('has Prometheus scrape eastwatch, load the generated rules and alert through Alertmanager', () => {
    const cfg = loadConfig(env);
    const prom = mounts('prometheus');
    const promCfg = yamlFile([...prom].find(([, c]) => c === '/etc/prometheus/prometheus.yml')![0]);
    expect(promCfg.scrape_configs).toContainEqual({ job_name: 'eastwatch', static_configs: [{ targets: [`eastwatch:${cfg.http.port}`] }] });
    expect(prom.get('alerts/rules/eastwatch.rules.yml')).toMatch(new RegExp(`^${promCfg.rule_files[0].replace('*.yml', '[^/]+\\.yml')}$`));
    expect(promCfg.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    expect(compose.services.alertmanager!.ports).toContain('9093:9093');
  });

  it("has Alertmanager call eastwatch's webhook with the token eastwatch expects", () => {
    const cfg = loadConfig(env);
    const am = mounts('alertmanager');
    const amCfg = yamlFile([...am].find(([, c]) => c === '/etc/alertmanager/alertmanager.yml')![0]);
    const hook = amCfg.receivers.find((r: { name: string }) => r.name === 'eastwatch').webhook_configs[0];
    expect(hook.url).toBe(`http://eastwatch:${cfg.http.port}/api/v1/alertmanager`);
    const tokenFile = [...am].find(([, c]) => c === hook.http_config.authorization.credentials_file)![0];
    expect(readFileSync(path.join(ROOT, tokenFile), 'utf8').trim()).toBe(cfg.http.alertmanagerToken);
  });

  it('has Grafana provisioned with the ClickHouse plugin, both data sources and the dashboards where the provider reads them', () => {
    const g = compose.services.grafana!;
    expect(g.environment!.GF_INSTALL_PLUGINS).toContain('grafana-clickhouse-datasource');
    const m = mounts('grafana');
    const sources = yamlFile('dashboards/provisioning/datasources/eastwatch.yaml').datasources;
    const ch = sources.find((d: { type: string }) => d.type === 'grafana-clickhouse-datasource');
    expect(`http://${ch.jsonData.host}:${ch.jsonData.port}`).toBe(loadConfig(env).clickhouse.url);
    expect(ch.jsonData.username).toBe(compose.services.clickhouse!.environment!.CLICKHOUSE_USER);
    expect(g.environment!.CLICKHOUSE_PASSWORD).toBe(compose.services.clickhouse!.environment!.CLICKHOUSE_PASSWORD);
    expect(sources.find((d: { type: string }) => d.type === 'prometheus').url).toBe('http://prometheus:9090');
    const provider = yamlFile('dashboards/provisioning/dashboards/eastwatch.yaml').providers[0];
    expect(m.get('dashboards/json')).toBe(provider.options.path);
    expect(m.get('dashboards/provisioning/datasources')).toBe('/etc/grafana/provisioning/datasources');
    expect(m.get('dashboards/provisioning/dashboards')).toBe('/etc/grafana/provisioning/dashboards');
  });
});
