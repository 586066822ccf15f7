/**
 * A Kafka outage longer than the client's retries, on a real broker: IPFIX streams into `eastwatch start`
 * while the broker is stopped for 30 s and started again. The collector keeps receiving, holds a bounded
 * backlog, counts what it cannot hold, reports not ready, and resumes by itself; afterwards every flow sent is
 * either stored exactly once or counted as dropped.
 */
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { dataMessages, templateMessage } from '../../bench/dpu-export';
import { killChildren, metricValue, query, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';
import { kafkaScript } from '../setup/broker';

const PORT = 19392;
const PER_MESSAGE = 22;
const RATE = 1100; // records/s: 50 datagrams of 22 records
const BACKLOG = 5000;

describe('Kafka outage', () => {
  let t: TestEnv;
  let brokerHome: string;
  let stopStreaming = () => {};
  afterAll(() => {
    stopStreaming();
    killChildren();
    if (brokerHome) kafkaScript('stop', brokerHome, PORT);
    t?.cleanup();
  });

  it('keeps the collector receiving, bounded and not ready while the broker is down, and resumes without a restart: sent = stored + dropped', async () => {
    t = testEnv({
      KAFKA_BROKERS: `127.0.0.1:${PORT}`, EASTWATCH_COLLECTORS: 'ipfix', EASTWATCH_COLLECTOR_BACKLOG: String(BACKLOG),
    });
    brokerHome = path.join(t.home, 'broker');
    kafkaScript('start', brokerHome, PORT);
    const app = spawnCli(t, ['start']);
    const http = await app.httpPort();
    const ipfixPort = await waitFor(() => Number(/"protocol":"ipfix","transport":"udp","host":"127.0.0.1","port":(\d+)/.exec(app.output())?.[1]) || undefined,
      30_000, () => app.output().slice(-2000));
    const health = async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${http}/healthz`);
        return { code: res.status, ...(await res.json()) as { stages: Record<string, string> } };
      } catch (e) {
        // A probe may meet a connection closing under load (the next one opens a new one); a process that
        // died is the failure this test looks for, shown with its output.
        if (app.proc.exitCode !== null || app.proc.signalCode !== null) {
          throw new Error(`eastwatch exited (${app.proc.exitCode ?? app.proc.signalCode}):\n${app.output().slice(-4000)}`, { cause: e });
        }
        return { code: 0, stages: {} as Record<string, string> };
      }
    };
    expect((await health()).code).toBe(200);

    const socket = dgram.createSocket('udp4');
    let streaming = true;
    stopStreaming = () => {
      if (!streaming) return;
      streaming = false;
      socket.close();
    };
    const send = (b: Buffer) => new Promise<void>((r) => socket.send(b, ipfixPort, '127.0.0.1', () => r()));
    const messages = dataMessages(2000, PER_MESSAGE);
    let sent = 0;
    let m = 0;
    const stream = (async () => {
      await send(templateMessage());
      const t0 = Date.now();
      while (streaming) {
        const due = Math.floor(((Date.now() - t0) / 1000) * RATE);
        while (streaming && sent + PER_MESSAGE <= due) {
          await send(messages[m++ % messages.length]!);
          sent += PER_MESSAGE;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const stored = () => metricValue(http, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}');
    const dropped = () => metricValue(http, 'eastwatch_records_dropped_total{stage="collector",reason="kafka-backlog-full"}');
    await waitFor(async () => ((await stored()) > 5000 ? true : undefined), 60_000, () => `nothing stored:\n${app.output().slice(-2000)}`);

    kafkaScript('stop', brokerHome, PORT);
    const down = Date.now();
    const unready = await waitFor(async () => {
      const h = await health();
      return h.code === 503 && /producing to .*\.flows fails/.test(h.stages['kafka-producers'] ?? '') ? h : undefined;
    }, 20_000, () => `health stayed ready:\n${app.output().slice(-2000)}`);
    expect(unready.stages['flow-listeners']).toBe('ok');
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - down))));
    // The collector kept receiving through the outage and held no more than its backlog.
    const receivedDuring = await metricValue(http, 'eastwatch_records_in_total{stage="collector",source="ipfix"}');
    expect(receivedDuring).toBeGreaterThan(sent - 2 * RATE);
    expect(await dropped()).toBeGreaterThan(RATE * 30 - 2 * BACKLOG);
    expect(app.proc.exitCode).toBeNull();

    kafkaScript('start', brokerHome, PORT);
    await waitFor(async () => ((await health()).code === 200 ? true : undefined), 120_000, () => `not ready again:\n${app.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 5000));
    stopStreaming();
    await stream;

    const received = await waitFor(async () => {
      const r = await metricValue(http, 'eastwatch_records_in_total{stage="collector",source="ipfix"}');
      return r === sent ? r : undefined;
    }, 10_000, () => `received fewer than sent (${sent}): UDP loss makes the check meaningless`);
    // Everything received ends up stored or counted as dropped. The writer's row counter also counts rows it
    // re-inserted after the outage (ClickHouse drops those blocks), so the exact count comes from ClickHouse.
    await waitFor(async () => ((await stored()) + (await dropped()) >= received ? true : undefined), 120_000,
      () => `stored + dropped short of ${received}:\n${app.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 3000));
    const finalDropped = await dropped();
    expect(app.output()).toMatch(/"msg":"Kafka takes records again"/);
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
    // The outage is in the log, not once per packet or per connection attempt.
    expect(app.output().split('\n').filter((l) => l.includes('ECONNREFUSED')).length).toBeLessThan(50);
    expect(app.output().match(/producing to Kafka fails/g)).toHaveLength(1);
    const [row] = await query<{ n: string; distinct: string }>(t,
      'SELECT count() AS n, uniqExact(src_addr, dst_addr, src_port, time_start, bytes) AS distinct FROM eastwatch.flows');
    expect(Number(row!.n) + finalDropped).toBe(sent);
  }, 300_000);
});
