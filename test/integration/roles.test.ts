/**
 * Roles that scale out: two `eastwatch start --roles collectors` processes beside one `--roles
 * allocations,writer,http`. The allocation poller runs once, so each job is published once however many
 * collectors run, and both collectors enrich their flows with the jobs it published.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { parseSlurmJobs } from '../../allocations/slurm';
import { EXAMPLE_INVENTORY } from '../../inventory/example';
import { SQUEUE_V0041 } from '../allocation-fixtures';
import { IE, ipfixMessage, ipv4, set, templateRecord, u16, u32, u64, u8 } from '../ipfix-builder';
import { Child, killChildren, metricValue, query, spawnCli, testEnv, TestEnv, testKafka, waitFor } from '../helpers';

const TEMPLATE = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 4], [IE.flowStartMilliseconds, 8], [IE.flowEndMilliseconds, 8],
] as [number, number][];

/** `count` RoCEv2 flows on rail 0 from gpu001 to gpu002 (job 48213 of the squeue fixture), from observation domain `domain`. */
function exportPacket(domain: number, count: number): Buffer {
  const now = Date.now();
  const records = Array.from({ length: count }, (_, i) => Buffer.concat([
    ipv4('10.200.0.1'), ipv4('10.200.0.2'), u16(49152 + i), u16(4791), u8(17), u64(4096 * 100), u32(100), u64(now - 5000), u64(now - 1000),
  ]));
  return ipfixMessage({ domain, seq: 0, exportSec: Math.floor(now / 1000) }, set(2, templateRecord(256, TEMPLATE)), set(256, ...records));
}

const ipfixPortOf = (c: Child) => waitFor(() => Number(/"protocol":"ipfix","transport":"udp","host":"127.0.0.1","port":(\d+)/.exec(c.output())?.[1]) || undefined,
  60_000, () => `collector did not listen:\n${c.output().slice(-2000)}`);

describe('roles', () => {
  let t: TestEnv;
  const kafka = testKafka();
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('publishes each allocation once with two collector processes beside one allocations process, and both collectors enrich with it', async () => {
    t = testEnv({ EASTWATCH_COLLECTORS: 'ipfix', EASTWATCH_ALLOCATIONS_POLL_SEC: '1', EASTWATCH_INVENTORY: EXAMPLE_INVENTORY });
    const squeue = path.join(t.home, 'squeue.json');
    writeFileSync(squeue, JSON.stringify(SQUEUE_V0041));
    const polls = path.join(t.home, 'polls');
    t.env.EASTWATCH_SLURM_COMMAND = `echo poll >> '${polls}'; cat '${squeue}'`;
    const jobs = parseSlurmJobs(SQUEUE_V0041, Date.now()).events.length;

    const central = spawnCli(t, ['start', '--roles', 'allocations,writer,http']);
    const collectors = [spawnCli(t, ['start', '--roles', 'collectors']), spawnCli(t, ['start', '--roles', 'collectors'])];
    const http = await central.httpPort();
    const ports = await Promise.all(collectors.map(ipfixPortOf));
    for (const c of collectors) expect(c.output()).not.toMatch(/polling allocation sources/);

    // Several polls of the unchanged document: every job once on the topic.
    await waitFor(() => {
      const n = existsSync(polls) ? readFileSync(polls, 'utf8').split('\n').filter(Boolean).length : 0;
      return n >= 4 ? true : undefined;
    }, 30_000, () => central.output().slice(-2000));
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets(`${t.prefix}.allocations`);
    await admin.disconnect();
    expect(Number(offsets!.high)).toBe(jobs);

    // The collectors follow the topic: flows of gpu001 get job 48213 in either process.
    await new Promise((r) => setTimeout(r, 2000));
    const socket = dgram.createSocket('udp4');
    for (const [i, port] of ports.entries()) await new Promise<void>((r) => socket.send(exportPacket(i + 1, 20), port, '127.0.0.1', () => r()));
    socket.close();
    await waitFor(async () => ((await metricValue(http, 'eastwatch_records_out_total{stage="writer"}')) >= 40 ? true : undefined), 60_000,
      () => central.output().slice(-2000));
    for (const c of [...collectors, central]) {
      c.proc.kill('SIGTERM');
      expect(await c.exited).toEqual({ code: 0, signal: null });
    }
    const rows = await query<{ domain: number; src_job: string; dst_job: string; n: string }>(t,
      'SELECT observation_domain AS domain, src_job, dst_job, count() AS n FROM eastwatch.flows GROUP BY ALL ORDER BY domain');
    expect(rows.map((r) => [Number(r.domain), r.src_job, r.dst_job, Number(r.n)])).toEqual([[1, '48213', '48213', 20], [2, '48213', '48213', 20]]);
  });
});
