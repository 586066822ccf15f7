/**
 * Hubble Relay as an eastwatch source end to end: `eastwatch start` follows a gRPC relay (built from the
 * vendored observer.proto) whose stream drops mid-way; with the default resume overlap every flow reaches
 * ClickHouse exactly once.
 */
import { tcpFlowLine } from '../hubble-fixtures';
import { protoFromJson, TestRelay } from '../hubble-relay-server';
import { killChildren, metricValue, query, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';

const N = 300;
const T0 = Date.parse('2025-11-24T16:00:00Z');

describe('Hubble Relay into ClickHouse', () => {
  let t: TestEnv;
  const relay = new TestRelay();
  afterAll(() => {
    killChildren();
    relay.kill();
    t?.cleanup();
  });

  it('stores every flow once across a dropped stream', async () => {
    relay.dropAfter.push(150); // the first stream dies after 150 flows
    const port = await relay.start();
    t = testEnv({ EASTWATCH_COLLECTORS: 'sflow', EASTWATCH_HUBBLE_RELAY: `127.0.0.1:${port}` });
    const app = spawnCli(t, ['start', '--roles', 'collectors,writer,http']);
    const http = await app.httpPort();
    await waitFor(() => (relay.requests.length >= 1 ? true : undefined), 30_000, () => app.output().slice(-2000));
    // Flows 20 ms apart: the resumed stream's one-second overlap repeats dozens of them, which must be dropped.
    relay.publish(...Array.from({ length: N }, (_, i) => protoFromJson(tcpFlowLine({
      seq: i, time: T0 + 20 * i, src: `10.244.${i >> 8}.${i & 255}`, dst: '10.244.7.41', port: 1000 + i,
    }))));
    await waitFor(async () => ((await metricValue(http, 'eastwatch_clickhouse_inserted_rows_total{table="flows"}')) >= N ? true : undefined),
      60_000, () => app.output().slice(-2000));
    await new Promise((r) => setTimeout(r, 1500)); // a late repeat would show up now
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    expect(relay.requests.length).toBeGreaterThanOrEqual(2);
    const resumed = relay.requests[1]!.since!;
    expect(Number(resumed.seconds) * 1000 + Math.floor((resumed.nanos ?? 0) / 1e6)).toBe(T0 + 20 * 149 - 1000);
    const [stored] = await query<{ n: number; ports: number; hubble: number }>(t, `SELECT count() AS n, uniqExact(src_port) AS ports,
        countIf(source_kind = 'hubble' AND bytes IS NULL) AS hubble FROM eastwatch.flows`);
    expect(stored).toEqual({ n: N, ports: N, hubble: N });
  });
});
