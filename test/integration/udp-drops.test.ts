/**
 * Loss at the socket is never silent: a collector that cannot read (stopped here with SIGSTOP, as a busy event
 * loop would be) while a burst arrives loses datagrams in the kernel once its receive buffer is full, and
 * reports them from the kernel's own count: sent = received + dropped, exactly, and the sFlow sequence gaps agree.
 */
import * as dgram from 'node:dgram';
import { killChildren, metricTotal, spawnCli, testEnv, TestEnv, udpPort, waitFor } from '../helpers';
import { counterSample, datagram, ifCounters } from '../sflow-builder';

const BURST = 3000;

describe('UDP receive-buffer drops', () => {
  let t: TestEnv;
  beforeAll(() => {
    t = testEnv();
  });
  afterAll(() => killChildren());

  it('counts every datagram the kernel dropped while the collector could not read', async () => {
    const app = spawnCli(t, ['start', '--roles', 'collectors,http'], {
      EASTWATCH_COLLECTOR_HOST: '127.0.0.1', EASTWATCH_IPFIX_PORT: '0', EASTWATCH_NETFLOW9_PORT: '0', EASTWATCH_SFLOW_PORT: '0',
      EASTWATCH_UDP_RCVBUF: '65536',
    });
    const [port, httpPort] = await Promise.all([udpPort(app, 'sflow'), app.httpPort()]);
    const client = dgram.createSocket('udp4');
    const send = (seq: number) => new Promise<void>((resolve, reject) =>
      client.send(datagram([counterSample(12, [ifCounters({ index: 12 })])], { agent: '10.0.255.1', seq }), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    const seen = async () => ({
      received: await metricTotal(httpPort, 'eastwatch_collector_packets_total'),
      dropped: await metricTotal(httpPort, 'eastwatch_collector_receive_drops_total'),
      lost: await metricTotal(httpPort, 'eastwatch_collector_lost_total'),
    });

    await send(1);
    await waitFor(async () => ((await seen()).received === 1 ? true : undefined), 30_000, () => app.output().slice(-2000));
    app.proc.kill('SIGSTOP');
    try {
      for (let seq = 2; seq < 2 + BURST; seq++) await send(seq);
    } finally {
      app.proc.kill('SIGCONT');
    }
    const accounted = (sent: number) => waitFor(async () => {
      const s = await seen();
      return s.received + s.dropped === sent ? s : undefined;
    }, 30_000, () => `sent ${sent}, not accounted for yet`);
    await accounted(BURST + 1);
    // One more once the buffer is read, so the burst's tail, dropped whole, shows as a sequence gap too.
    await send(2 + BURST);
    const final = await accounted(BURST + 2);
    client.close();
    expect(final.dropped).toBeGreaterThan(0);
    expect(final.received).toBeGreaterThan(1);
    expect(final.lost).toBe(final.dropped);
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });
  });
});
