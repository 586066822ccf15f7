/**
 * The flow listeners stage: sockets for UDP IPFIX, NetFlow v9 and sFlow, and TCP IPFIX (RFC 7011 §10.4, which
 * some DPUs use). Each datagram or framed TCP message goes to the Collector; nothing here parses flows.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { CollectorConfig } from './config';
import type { DeadLetter } from '../core/dead-letter';
import type { Logger } from '../core/log';
import type { Stage } from '../core/stage';
import { plainAddress } from './address';
import { Collector, CollectorProtocol, Sinks } from './collector';
import { DEFAULT_LIMITS, ExporterStates } from './ipfix/state';

export interface Listener {
  protocol: string;
  port: number;
  close(): Promise<void>;
}

async function udpListener(protocol: CollectorProtocol, port: number, cfg: CollectorConfig, collector: Collector, log: Logger): Promise<Listener> {
  const host = cfg.host;
  const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', recvBufferSize: cfg.receiveBufferBytes });
  socket.on('message', (msg, rinfo) => {
    try {
      collector.handle(protocol, msg, plainAddress(rinfo.address));
    } catch (e) {
      // Decoders do not throw on bad input; this is a bug, and one packet must not take the listener down.
      log.error({ err: e, protocol, exporter: rinfo.address }, 'collector failed on a packet');
    }
  });
  socket.on('error', (e) => log.error({ err: e, protocol }, 'UDP socket error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const bound = socket.address().port;
  const rcvbuf = socket.getRecvBufferSize();
  if (rcvbuf < cfg.receiveBufferBytes) {
    log.warn({ protocol, asked: cfg.receiveBufferBytes, got: rcvbuf }, 'UDP receive buffer capped by the kernel: raise net.core.rmem_max');
  }
  log.info({ protocol, transport: 'udp', host, port: bound, rcvbuf }, 'collector listening');
  return { protocol, port: bound, close: () => new Promise((r) => socket.close(() => r())) };
}

/** IPFIX over TCP: messages framed by their own length field; templates live as long as the session. */
async function ipfixTcpListener(port: number, cfg: CollectorConfig, collector: Collector, log: Logger): Promise<Listener> {
  const sessions = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sessions.add(sock);
    const exporter = plainAddress(sock.remoteAddress ?? 'unknown');
    const session = `${exporter}:${sock.remotePort}`;
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const version = buf.readUInt16BE(0);
        const length = buf.readUInt16BE(2);
        if (version !== 10 || length < 16) {
          // The stream is out of step: there is no way to find the next message boundary.
          collector.handle('ipfix', buf.subarray(0, Math.min(buf.length, 64)), exporter, 'tcp', session);
          log.warn({ exporter, version, length }, 'IPFIX/TCP stream out of step; closing the session');
          sock.destroy();
          return;
        }
        if (buf.length < length) break;
        collector.handle('ipfix', buf.subarray(0, length), exporter, 'tcp', session);
        buf = buf.subarray(length);
      }
    });
    sock.on('error', (e) => log.warn({ err: e, exporter }, 'IPFIX/TCP session error'));
    sock.on('close', () => {
      sessions.delete(sock);
      collector.forget(session);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, cfg.host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  log.info({ protocol: 'ipfix', transport: 'tcp', host: cfg.host, port: bound }, 'collector listening');
  return {
    protocol: 'ipfix-tcp',
    port: bound,
    close: () => new Promise((resolve) => {
      for (const s of sessions) s.end();
      server.close(() => resolve());
    }),
  };
}

export async function startListeners(c: CollectorConfig, collector: Collector, log: Logger): Promise<Listener[]> {
  const listeners: Listener[] = [];
  try {
    for (const name of c.enabled) {
      if (name === 'ipfix') listeners.push(await udpListener('ipfix', c.ipfixPort, c, collector, log));
      if (name === 'netflow9') listeners.push(await udpListener('netflow9', c.netflow9Port, c, collector, log));
      if (name === 'sflow') listeners.push(await udpListener('sflow', c.sflowPort, c, collector, log));
      // With port 0 the TCP listener takes the UDP one's port, as IANA assigns 4739 to both.
      if (name === 'ipfix-tcp') listeners.push(await ipfixTcpListener(c.ipfixPort || (listeners.find((l) => l.protocol === 'ipfix')?.port ?? 0), c, collector, log));
    }
  } catch (e) {
    await Promise.all(listeners.map((l) => l.close()));
    throw e;
  }
  return listeners;
}

export interface FlowListenerDeps {
  sinks: Sinks;
  deadLetter: DeadLetter;
  log: Logger;
}

export class FlowListeners implements Stage {
  readonly name = 'flow-listeners';
  private bound: Listener[] = [];

  constructor(private readonly cfg: CollectorConfig, private readonly deps: FlowListenerDeps) {}

  /** The listeners, with the ports they are bound to. */
  get listeners(): readonly Listener[] {
    return this.bound;
  }

  async start(): Promise<void> {
    const collector = new Collector({
      states: new ExporterStates({ ...DEFAULT_LIMITS, templateTimeoutMs: this.cfg.templateTimeoutSec * 1000 }),
      enterpriseNames: new Map(Object.entries(this.cfg.enterpriseNames)),
      sinks: this.deps.sinks,
      deadLetter: this.deps.deadLetter,
      log: this.deps.log,
    });
    this.bound = await startListeners(this.cfg, collector, this.deps.log);
  }

  async stop(): Promise<void> {
    await Promise.all(this.bound.map((l) => l.close()));
  }
}
