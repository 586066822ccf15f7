/**
 * The flow listeners on real sockets against spoofing and connection floods (issue 10): the exporter allow-list
 * for UDP datagrams and TCP connections, the IPFIX/TCP idle timeout and session bound. Clients bind distinct
 * loopback addresses (127.0.0.0/8 is all loopback on Linux), so each plays a different exporter.
 */
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { DeadLetter } from '../../core/dead-letter';
import type { Flow } from '../../core/flow';
import type { Logger } from '../../core/log';
import { registry } from '../../core/metrics';
import { CollectorConfigSchema } from '../../ingest/config';
import { FlowListeners } from '../../ingest/listeners';
import { type FieldSpec, IE, ipfixMessage, ipv4, set, templateRecord, u64 } from '../ipfix-builder';
import { until } from '../until';
import { connectFrom as connect, type TcpClient } from '../tcp-client';

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const FIELDS: FieldSpec[] = [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.octetDeltaCount, 8]];
const template = () => ipfixMessage({}, set(2, templateRecord(256, FIELDS)));
const data = (bytes: number) => ipfixMessage({}, set(256, Buffer.concat([ipv4('10.1.0.1'), ipv4('10.1.0.2'), u64(bytes)])));
const HEADER = ipfixMessage({});

let running: FlowListeners | undefined;
const clients: net.Socket[] = [];

async function start(cfg: Record<string, unknown>) {
  const flows: Flow[] = [];
  const listeners = new FlowListeners(CollectorConfigSchema.parse({ host: '127.0.0.1', ipfixPort: 0, netflow9Port: 0, sflowPort: 0, ...cfg }), {
    sinks: { flow: (f) => void flows.push(f), counter() {} },
    deadLetter: { send: async () => false } as unknown as DeadLetter,
    log: silent,
  });
  await listeners.start();
  running = listeners;
  const port = (protocol: string) => listeners.listeners.find((l) => l.protocol === protocol)!.port;
  return { flows, port };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await running?.stop();
  running = undefined;
  registry.resetMetrics();
});

async function sendFrom(address: string, port: number, packets: Buffer[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind({ address, port: 0 }, () => resolve()));
  for (const p of packets) await new Promise<void>((resolve, reject) => sock.send(p, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve) => sock.close(() => resolve()));
}

async function connectFrom(localAddress: string, port: number): Promise<TcpClient> {
  const client = await connect(localAddress, port);
  clients.push(client.sock);
  return client;
}

async function value(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}
const notAllowed = () => value('eastwatch_records_failed_total', { stage: 'collector', source: 'other', reason: 'exporter-not-allowed' });
const closed = (reason: string) => value('eastwatch_collector_tcp_sessions_closed_total', { reason });

describe('flow listeners against spoofing and floods', () => {
  it('drops UDP datagrams and TCP connections from outside EASTWATCH_EXPORTER_CIDRS, counted, before any decoder', async () => {
    const { flows, port } = await start({ enabled: ['ipfix', 'ipfix-tcp'], exporterCidrs: ['127.0.0.2/32'] });
    await sendFrom('127.0.0.3', port('ipfix'), [template(), data(1)]);
    await sendFrom('127.0.0.2', port('ipfix'), [template(), data(2)]);
    await until(async () => flows.length === 1 && (await notAllowed()) === 2);

    const outsider = await connectFrom('127.0.0.3', port('ipfix-tcp'));
    await outsider.write(Buffer.concat([template(), data(3)]));
    await until(() => outsider.state.closed);
    await until(async () => (await notAllowed()) === 3);

    const insider = await connectFrom('127.0.0.2', port('ipfix-tcp'));
    await insider.write(Buffer.concat([template(), data(4)]));
    await until(() => flows.length === 2);
    expect(flows.map((f) => [f.exporter_address, f.bytes])).toEqual([['127.0.0.2', 2], ['127.0.0.2', 4]]);
    expect(insider.state.closed).toBe(false);
    const text = await registry.metrics();
    expect(text).not.toContain('127.0.0.3');
    expect(text).toContain('eastwatch_collector_packets_total{protocol="ipfix",exporter="127.0.0.2"} 4');
  });

  it('closes an IPFIX/TCP session silent for EASTWATCH_EXPORTER_IDLE_SEC, counted, and frees its place', async () => {
    const { flows, port } = await start({ enabled: ['ipfix-tcp'], exporterIdleSec: 1, maxExporters: 1 });
    const first = await connectFrom('127.0.0.2', port('ipfix-tcp'));
    const openedAt = Date.now();
    await first.write(template());
    await until(async () => (await value('eastwatch_collector_packets_total', { exporter: '127.0.0.2' })) === 1);

    // The one place is held by a session that sent a template: a newcomer is turned away meanwhile.
    const refused = await connectFrom('127.0.0.3', port('ipfix-tcp'));
    await until(() => refused.state.closed);
    expect(await closed('session-limit')).toBe(1);
    expect(first.state.closed).toBe(false);

    await until(() => first.state.closed, 5000);
    expect(Date.now() - openedAt).toBeGreaterThanOrEqual(900);
    expect(await closed('idle')).toBe(1);

    const next = await connectFrom('127.0.0.4', port('ipfix-tcp'));
    await next.write(Buffer.concat([template(), data(5)]));
    await until(() => flows.length === 1);
    expect(flows[0]!.exporter_address).toBe('127.0.0.4');
  });

  it('does not let a flood of IPFIX/TCP connections lock a real exporter out', async () => {
    const { flows, port } = await start({ enabled: ['ipfix-tcp'], maxExporters: 4 });
    const flood = async (addresses: string[]) => {
      const socks = [];
      for (const a of addresses) {
        const s = await connectFrom(a, port('ipfix-tcp'));
        await s.write(HEADER);
        socks.push(s);
      }
      return socks;
    };
    const one = Array.from({ length: 20 }, () => '127.0.0.5');
    const many = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
    const junk = await flood([...one, ...many]);
    await until(() => junk.filter((s) => !s.state.closed).length <= 4);

    const real = await connectFrom('127.0.0.2', port('ipfix-tcp'));
    await real.write(Buffer.concat([template(), data(6)]));
    await until(() => flows.length === 1);

    // More junk only ever displaces junk.
    const more = await flood(Array.from({ length: 20 }, (_, i) => `127.0.2.${i + 1}`));
    await until(() => more.filter((s) => !s.state.closed).length <= 3);
    await real.write(data(7));
    await until(() => flows.length === 2);
    expect(real.state.closed).toBe(false);
    expect(flows.map((f) => [f.exporter_address, f.bytes])).toEqual([['127.0.0.2', 6], ['127.0.0.2', 7]]);
    expect(await closed('session-limit')).toBeGreaterThanOrEqual(40 + 20 - 4);
  });
});

describe('flow listeners with a busy main thread', () => {
  it('lose no datagram while the main thread is blocked: a reader thread drains the socket', async () => {
    const BURST = 3000;
    // 64 KiB of kernel buffer holds a few hundred of these datagrams: the rest must be read while the main thread is blocked.
    const { flows, port } = await start({ enabled: ['ipfix'], receiveBufferBytes: 65536 });
    await sendFrom('127.0.0.1', port('ipfix'), [template()]);
    // Another process sends the burst while this thread spins, as a long GC, insert or encode would hold it.
    const sender = spawn(process.execPath, ['-e', `
      const s = require('node:dgram').createSocket('udp4');
      const msg = Buffer.from('${data(7).toString('hex')}', 'hex');
      let left = ${BURST};
      // 10 datagrams every 5 ms: a steady 2,000 a second, which a reader that is free to read takes whole.
      const tick = () => {
        for (let i = 0; i < 10 && left > 0; i++, left--) s.send(msg, ${port('ipfix')}, '127.0.0.1');
        if (left > 0) setTimeout(tick, 5); else setTimeout(() => s.close(), 50);
      };
      tick();
    `], { stdio: 'ignore' });
    const exited = new Promise((resolve) => sender.once('exit', resolve));
    const spinUntil = Date.now() + 2500;
    while (Date.now() < spinUntil) { /* blocked */ }
    expect(await exited).toBe(0);
    await until(async () => flows.length === BURST, 10_000).catch(async (e: Error) => {
      throw new Error(`${e.message}: ${flows.length} flows, drops ${JSON.stringify((await registry.getMetricsAsJSON()).find((m) => m.name === 'eastwatch_collector_receive_drops_total')?.values)}`);
    });
    expect(await value('eastwatch_collector_receive_drops_total', { protocol: 'ipfix', where: 'kernel' })).toBe(0);
  });
});

describe('IPFIX over UDP and TCP on the port the kernel picks', () => {
  it('share one port even while outgoing connections hold a fifth of the ephemeral TCP ports', async () => {
    // Connections to a local server: each client end holds an ephemeral TCP port, as Kafka and ClickHouse
    // clients do in a running eastwatch. A UDP pick whose TCP twin is one of them cannot serve IPFIX/TCP.
    const server = net.createServer((s) => clients.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port: serverPort } = server.address() as net.AddressInfo;
    for (let i = 0; i < 6000; i += 500) {
      await Promise.all(Array.from({ length: 500 }, () => new Promise<void>((resolve, reject) => {
        const c = net.connect(serverPort, '127.0.0.1', () => resolve());
        c.once('error', reject);
        clients.push(c);
      })));
    }
    try {
      for (let i = 0; i < 30; i++) {
        const { port } = await start({ enabled: ['ipfix', 'ipfix-tcp'] });
        expect(port('ipfix-tcp')).toBe(port('ipfix'));
        await running!.stop();
        running = undefined;
      }
    } finally {
      for (const c of clients.splice(0)) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);
});
