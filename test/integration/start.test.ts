/**
 * `eastwatch start` as an operator runs it: it starts its own Kafka broker (no KAFKA_BROKERS), serves
 * /healthz and /metrics, stores flows, and drains and exits 0 within 10 s of SIGTERM, taking the broker down.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { sampleFlows } from '../../simulator/sample';
import { portOpen } from '../../core/managed-kafka';
import { killChildren, metricValue, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';
import { produceFlows } from './produce';

const MANAGED_PORT = 19192;

describe('eastwatch start', () => {
  let t: TestEnv;
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('comes up with its own broker, reports health and moving metrics, and drains on SIGTERM', async () => {
    t = testEnv({ KAFKA_BROKERS: '', EASTWATCH_KAFKA_PORT: String(MANAGED_PORT) });
    const app = spawnCli(t, ['start']);
    const port = await app.httpPort();
    expect(await portOpen(MANAGED_PORT)).toBe(true);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const stages = {
      'kafka-broker': 'ok', kafka: 'ok', clickhouse: 'ok', writer: 'ok', 'allocation-sources': 'ok', 'alert-publisher': 'ok', inventory: 'ok',
      'streaming-detectors': 'ok', 'windowed-detectors': 'ok', enrichment: 'ok', 'kafka-producers': 'ok', 'flow-listeners': 'ok', 'kafka-publisher': 'ok', webhooks: 'ok', http: 'ok',
    };
    expect(await health.json()).toEqual({ status: 'ok', stages });

    const written = 'eastwatch_records_out_total{stage="writer"}';
    expect(await metricValue(port, written)).toBe(0);
    const producerEnv = { ...t, env: { ...t.env, KAFKA_BROKERS: `127.0.0.1:${MANAGED_PORT}` } };
    await produceFlows(producerEnv, sampleFlows(20_000, { seed: 21 }));
    await waitFor(async () => ((await metricValue(port, written)) === 20_000 ? true : undefined), 60_000,
      () => `writer counter stuck:\n${app.output().slice(-2000)}`);
    expect(await metricValue(port, 'eastwatch_records_in_total{stage="writer",source="kafka"}')).toBe(20_000);
    expect(await metricValue(port, 'eastwatch_clickhouse_insert_seconds_count{table="flows"}')).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^eastwatch_kafka_consumer_lag\{group="[^"]+",topic="[^"]+\.flows",partition="\d+"\} 0$/m);
    expect(metrics).toMatch(/^eastwatch_process_resident_memory_bytes \d+/m);

    const t0 = Date.now();
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await portOpen(MANAGED_PORT)).toBe(false);
    expect(app.output()).toMatch(/"msg":"stopped"/);
    // Each stage says how long its drain took, so a slow shutdown names the stage that held it.
    const drained = app.output().split('\n').filter((l) => l.includes('"msg":"stage stopped"')).map((l) => JSON.parse(l) as { stage: string; ms: number });
    expect(drained.map((d) => d.stage).sort()).toEqual(Object.keys(stages).sort());
  });
});

describe('eastwatch start, when a stage fails fatally', () => {
  let t: TestEnv;
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('says so in one log line, stops every stage and exits non-zero (the bundled broker killed under it)', async () => {
    t = testEnv({ KAFKA_BROKERS: '', EASTWATCH_KAFKA_PORT: String(MANAGED_PORT) });
    const app = spawnCli(t, ['start']);
    await app.httpPort();
    const broker = Number(readFileSync(path.join(t.home, 'kafka', `broker-${MANAGED_PORT}.pid`), 'utf8'));
    process.kill(broker, 'SIGKILL');
    const exit = await app.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const fatal = app.output().split('\n').filter((l) => /"level":60/.test(l));
    expect(fatal).toHaveLength(1);
    expect(JSON.parse(fatal[0]!)).toMatchObject({ stage: 'kafka-broker', msg: expect.stringMatching(/^stage kafka-broker failed: the bundled Kafka broker exited \(code null, signal SIGKILL\)/) });
    expect(await portOpen(MANAGED_PORT)).toBe(false);
  });
});
