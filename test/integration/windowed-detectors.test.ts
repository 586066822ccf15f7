/**
 * The windowed detectors on hand-built flows stored in embedded ClickHouse: the flows go into the flows table,
 * the materialized views fill the egress rollups, and each detector reads them as it does in production.
 * Traps included: an approved model upload, a destination known from the history, a node too new to judge.
 */
import { loadConfig } from '../../app/config';
import { openStore, Store } from '../../core/clickhouse';
import type { Flow } from '../../core/flow';
import { migrate } from '../../core/migrations';
import { EgressSpike } from '../../detectors/egress-spike';
import { NewDestination } from '../../detectors/new-destination';
import { updateEgressBaseline } from '../../detectors/egress-baseline';
import { egressBaseline } from '../../detectors/metrics';
import { SeedEgressVolume } from '../../detectors/seed-egress-volume';
import { loadExampleInventory } from '../../inventory/example';
import { DNS01, flow as fixtureFlow, front, MIN, PROXY, UDP, VAULT01 } from '../detector-fixtures';
import { testEnv, TestEnv } from '../helpers';

const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const MiB = 2 ** 20;
// Recent times: the flows table's TTL would drop rows received long ago on insert.
const NOW = Math.floor(Date.now() / HOUR) * HOUR - 17 * MIN;
const received = { time_received: Date.now() };
const LATE = NOW + 4 * MIN;

const flow: typeof fixtureFlow = (src, dst, port, t, o = {}) => fixtureFlow(src, dst, port, t, { ...received, ...o });

/** A request through the proxy as its access-log line records it. */
const viaProxy = (n: number, host: string, t: number, bytes: number): Flow =>
  flow(front(n), PROXY, 3128, t, { source_kind: 'proxy', observation_point: 'proxy', proxy_host: host, proxy_method: 'CONNECT', proxy_status: 200, bytes, src_node: `gpu${String(n).padStart(3, '0')}`, src_zone: 'training', dst_node: 'proxy01', dst_zone: 'dmz' });
const direct = (n: number, dst: string, t: number, bytes: number): Flow =>
  flow(front(n), dst, 443, t, { bytes, src_node: `gpu${String(n).padStart(3, '0')}`, src_zone: 'training', dst_zone: 'internet' });

describe('windowed detectors on the rollups', () => {
  let t: TestEnv;
  let store: Store;
  const inv = loadExampleInventory();
  let flows: Flow[] = [];

  beforeAll(async () => {
    t = testEnv();
    const cfg = loadConfig(t.env);
    store = openStore(cfg.clickhouse, cfg.home);
    await migrate(store, cfg.clickhouse);
    flows = [
      // Slow exfiltration: 1 MiB every 2 minutes for 40 minutes to a host never seen: 20 MiB, no minute above 1 MiB.
      ...Array.from({ length: 20 }, (_, i) => viaProxy(30, 'sync.example.net', NOW - 40 * MIN + i * 2 * MIN, MiB)),
      // An approved model upload of 100 GB.
      ...Array.from({ length: 4 }, (_, i) => viaProxy(44, 'huggingface.co', NOW - 10 * MIN + i * MIN, 25e9)),
      // A destination gpu020 has used every hour for 8 days, at 10 MiB an hour, then 600 MiB in 5 minutes.
      ...Array.from({ length: 8 * 24 }, (_, h) => direct(20, '192.0.2.50', NOW - 8 * DAY + h * HOUR + 10 * MIN, 10 * MiB)),
      direct(20, '192.0.2.50', NOW - 6 * MIN, 600 * MiB),
      // Training's everyday egress to approved hosts (what the seed's rule averages): 1 MiB every 10 minutes.
      ...Array.from({ length: 7 * 24 * 6 }, (_, i) => viaProxy(1, 'pypi.org', NOW - 7 * DAY + i * 10 * MIN, MiB)),
      // vault01: DNS for half an hour, then a new destination; vault02 is too new to judge.
      ...Array.from({ length: 30 }, (_, i) => flow(VAULT01, DNS01, 53, NOW - 32 * MIN + i * MIN, { protocol: UDP, src_zone: 'weights' })),
      flow(VAULT01, front(5), 443, NOW - MIN, { src_zone: 'weights', bytes: 5e8 }),
      flow('10.50.0.12', DNS01, 53, NOW - 3 * MIN, { protocol: UDP, src_zone: 'weights' }),
      flow('10.50.0.12', front(6), 443, NOW - MIN, { src_zone: 'weights', bytes: 5e8 }),
      // After NOW, in the next bucket: 20 MiB to a host never seen, 4 minutes past NOW (for the catch-up case).
      viaProxy(31, 'late.example.net', LATE, 20 * MiB),
    ];
    await store.client.insert({ table: store.tbl('flows'), values: flows, format: 'JSONEachRow' });
  });

  afterAll(async () => {
    await store?.close();
    t?.cleanup();
  });

  const spike = () => new EgressSpike({ lookbackMs: DAY, historyMs: 7 * DAY, newBytes: 16 * MiB, spikeBytes: 256 * MiB, mads: 8, minSamples: 3 });

  it('egress-spike: a new destination however slowly fed, and a known one above its hour-of-week baseline; never an approved host', async () => {
    const out = await spike().evaluate(store, inv, NOW);
    expect(out.map((f) => [f.key, f.entities.src_node, f.bytes])).toEqual([
      [['new', '10.30.1.30', 'sync.example.net'], 'gpu030', 20 * MiB],
      [['spike', 'zone', 'training'], 'gpu020', 600 * MiB],
      [['spike', 'node', 'gpu020'], 'gpu020', 600 * MiB],
      [['spike', 'destination', '192.0.2.50'], 'gpu020', 600 * MiB],
    ]);
    expect(out[0]!.summary).toBe('gpu030 (training) sent 20 MiB through the proxy to sync.example.net, not approved for training and never seen before');
    expect(out[2]!.details).toMatchObject({ baseline_median_bytes: (10 * MiB) / 12, samples: 3 });
    expect(out[0]!.where).toBe("src_addr = toIPv6('10.30.1.30') AND source_kind = 'proxy' AND lower(proxy_host) = 'sync.example.net'");
  });

  it('egress-spike: a pass at a 5-minute boundary leaves the bucket that starts there to a later pass (a catch-up pass sees it already filled)', async () => {
    const boundary = Math.ceil(NOW / (5 * MIN)) * 5 * MIN;
    const late = (out: Awaited<ReturnType<EgressSpike['evaluate']>>) => out.filter((f) => f.key.includes('late.example.net'));
    expect(late(await spike().evaluate(store, inv, boundary))).toEqual([]);
    const [found] = late(await spike().evaluate(store, inv, boundary + 5 * MIN));
    expect(found).toMatchObject({ time: boundary + 5 * MIN, first: boundary, bytes: 20 * MiB });
    expect(found!.time).toBeGreaterThanOrEqual(LATE);
  });

  it('egress-spike: judges nothing against a baseline it does not have yet (warm-up), and a slow trickle below the threshold', async () => {
    const young = new EgressSpike({ lookbackMs: DAY, historyMs: 7 * DAY, newBytes: 32 * MiB, spikeBytes: 256 * MiB, mads: 8, minSamples: 4 });
    expect(await young.evaluate(store, inv, NOW)).toEqual([]);
  });

  it("seed-egress-volume: the seed's rule fires on the approved upload that egress-spike rightly ignores", async () => {
    const out = await new SeedEgressVolume().evaluate(store, inv, NOW);
    expect(out.map((f) => [f.key, f.entities.src_node])).toEqual([[['training'], 'gpu044']]);
  });

  it('new-destination: a weights node sending somewhere new, once its history is long enough', async () => {
    const out = await new NewDestination({ historyMs: 7 * DAY, windowMs: 5 * MIN, warmupMs: 10 * MIN }).evaluate(store, inv, NOW);
    expect(out.map((f) => [f.key, f.entities.src_node, f.entities.dst_node])).toEqual([[['10.50.0.11', '10.30.1.5'], 'vault01', 'gpu005']]);
    expect(out[0]!.time).toBeLessThanOrEqual(NOW);
    expect(out[0]!.first).toBe(NOW - MIN); // the minute it ended in
  });

  it("egress baseline: each zone's average egress rate over the hours of the last week, as the gauge beside eastwatch_egress_bytes_total", async () => {
    egressBaseline.reset();
    await updateEgressBaseline(store, inv, NOW);
    const from = Math.floor((NOW - 7 * DAY) / HOUR) * HOUR;
    // Computed from the flows themselves: egress (proxied, or straight to the internet) of training that ended in the week's hours.
    const bytes = flows.filter((f) => f.src_zone === 'training' && (f.source_kind === 'proxy' || f.dst_zone === 'internet') && f.time_end >= from)
      .reduce((n, f) => n + (f.bytes ?? 0), 0);
    const values = (await egressBaseline.get()).values.map((v) => [v.labels.zone, v.labels.namespace, v.value]);
    expect(values).toEqual([['training', '', bytes / ((NOW - from) / 1000)]]);
  });
});
