/**
 * The flow listeners stage: sockets for UDP IPFIX, NetFlow v9 and sFlow, and TCP IPFIX (RFC 7011 §10.4, which
 * some DPUs use). Each datagram or framed TCP message goes to the Collector; nothing here parses flows.
 */
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CollectorConfig } from './config';
import type { DeadLetter } from '../core/dead-letter';
import type { Logger } from '../core/log';
import type { Stage } from '../core/stage';
import { plainAddress } from './address';
import { Collector, CollectorProtocol, Sinks } from './collector';
import { DEFAULT_LIMITS, ExporterStates, ExporterTable } from './ipfix/state';
import { collectorReceiveDrops, tcpSessionsClosed, watchStates, watchUdpSocket } from './metrics';

export interface Listener {
  protocol: string;
  port: number;
  close(): Promise<void>;
}

/** What a UDP reader thread may have handed over and the main thread not yet handled. */
const READER_BACKLOG_BYTES = 64 << 20;
const READER_BATCH_DATAGRAMS = 256;
const READER_FLUSH_MS = 5;
const READER_SCRIPT = path.join(__dirname, 'udp-reader.cjs');

type ReaderMessage =
  | { type: 'bound'; port: number; rcvbuf: number }
  | { type: 'error'; message: string; code?: string }
  | { type: 'datagrams'; datagrams: [string, Uint8Array][]; bytes: number; dropped: number }
  | { type: 'closed' };

/** A UDP listener whose socket a worker thread reads (ingest/udp-reader.cjs); datagrams are decoded here. */
async function udpListener(protocol: CollectorProtocol, port: number, cfg: CollectorConfig, collector: Collector, log: Logger): Promise<Listener> {
  const host = cfg.host;
  const reader = new Worker(READER_SCRIPT, {
    workerData: { host, port, receiveBufferBytes: cfg.receiveBufferBytes, maxBytes: READER_BACKLOG_BYTES, batchDatagrams: READER_BATCH_DATAGRAMS, flushMs: READER_FLUSH_MS },
  });
  let closed: (() => void) | undefined;
  reader.once('exit', (code) => {
    if (!closed) log.error({ protocol, code }, 'UDP reader thread ended: this listener receives nothing until eastwatch restarts');
  });
  const bound = await new Promise<{ port: number; rcvbuf: number }>((resolve, reject) => {
    reader.once('error', reject);
    reader.on('message', (m: ReaderMessage) => {
      switch (m.type) {
        case 'bound':
          reader.off('error', reject);
          reader.on('error', (e) => log.error({ err: e, protocol }, 'UDP reader thread failed'));
          return resolve(m);
        case 'error': {
          const e = Object.assign(new Error(m.message), { code: m.code });
          log.error({ err: e, protocol }, 'UDP socket error');
          return reject(e);
        }
        case 'datagrams':
          for (const [address, bytes] of m.datagrams) {
            try {
              collector.handle(protocol, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), plainAddress(address));
            } catch (e) {
              // Decoders do not throw on bad input; this is a bug, and one packet must not take the listener down.
              log.error({ err: e, protocol, exporter: address }, 'collector failed on a packet');
            }
          }
          if (m.dropped > 0) collectorReceiveDrops.inc({ protocol, where: 'reader' }, m.dropped);
          reader.postMessage({ type: 'handled', bytes: m.bytes });
          return undefined;
        case 'closed':
          return closed?.();
      }
    });
  }).catch(async (e: unknown) => {
    closed = () => undefined; // ending it is ours, not news
    await reader.terminate();
    throw e;
  });
  if (bound.rcvbuf < cfg.receiveBufferBytes) {
    log.warn({ protocol, asked: cfg.receiveBufferBytes, got: bound.rcvbuf }, 'UDP receive buffer capped by the kernel: raise net.core.rmem_max');
  }
  log.info({ protocol, transport: 'udp', host, port: bound.port, rcvbuf: bound.rcvbuf }, 'collector listening');
  const unwatch = watchUdpSocket(protocol, host, bound.port);
  return {
    protocol,
    port: bound.port,
    // The socket closes in the reader, whose last batch is handled before it ends.
    close: async () => {
      await new Promise<void>((resolve) => {
        closed = resolve;
        reader.postMessage({ type: 'close' });
      });
      unwatch();
      await reader.terminate();
    },
  };
}

/**
 * Sessions one exporter address may hold at once; a new one closes its oldest. An exporter that rebooted must
 * not be locked out by its own half-open sessions, and a flood from one address only churns that address's.
 */
const SESSIONS_PER_ADDRESS = 8;

interface Session {
  sock: net.Socket;
  exporter: string;
  key: string;
  open: boolean;
}

/**
 * IPFIX over TCP: messages framed by their own length field; templates live as long as the session. Sessions
 * are bounded like the exporter table (EASTWATCH_MAX_EXPORTERS, those that never sent a valid template make way
 * first; when all have, a newcomer is turned away), closed when silent for EASTWATCH_EXPORTER_IDLE_SEC, and
 * connections from outside EASTWATCH_EXPORTER_CIDRS are closed unread.
 */
async function ipfixTcpListener(port: number, cfg: CollectorConfig, collector: Collector, log: Logger): Promise<Listener> {
  const idleMs = cfg.exporterIdleSec * 1000;
  const byAddress = new Map<string, Session[]>();
  // Idle sessions are closed by their socket's timeout, so entries here never expire by themselves.
  const sessions = new ExporterTable<Session>(cfg.maxExporters, Infinity, (_key, s) => end(s, 'session-limit'));
  const end = (s: Session, reason?: string) => {
    if (!s.open) return;
    s.open = false;
    if (reason) tcpSessionsClosed.inc({ reason });
    sessions.delete(s.key);
    const mine = byAddress.get(s.exporter)!;
    mine.splice(mine.indexOf(s), 1);
    if (mine.length === 0) byAddress.delete(s.exporter);
    collector.forget(s.key);
    s.sock.destroy();
  };
  // The session's template state was evicted for a newcomer: without its templates it cannot go on.
  collector.states.onForgotten((key) => {
    const s = sessions.peek(key)?.value;
    if (s) end(s, 'evicted');
  });

  const server = net.createServer((sock) => {
    const exporter = plainAddress(sock.remoteAddress ?? 'unknown');
    if (!collector.admits(exporter)) {
      sock.destroy();
      return;
    }
    // Brackets keep a session key from reading as an IPv6 address that might also export over UDP.
    const s: Session = { sock, exporter, key: `[${exporter}]:${sock.remotePort}`, open: true };
    const mine = byAddress.get(exporter) ?? [];
    if (mine.length >= SESSIONS_PER_ADDRESS) end(mine[0]!, 'session-limit');
    if (!sessions.add(s.key, s, Date.now(), false, false)) {
      tcpSessionsClosed.inc({ reason: 'session-limit' });
      sock.destroy();
      return;
    }
    mine.push(s);
    byAddress.set(exporter, mine);
    sock.setTimeout(idleMs, () => end(s, 'idle'));
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      const now = Date.now();
      const slot = sessions.get(s.key, now);
      if (!slot) return; // closed meanwhile
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && s.open) {
        const version = buf.readUInt16BE(0);
        const length = buf.readUInt16BE(2);
        if (version !== 10 || length < 16) {
          // The stream is out of step: there is no way to find the next message boundary.
          collector.handle('ipfix', buf.subarray(0, Math.min(buf.length, 64)), exporter, 'tcp', s.key, now);
          log.warn({ exporter, version, length }, 'IPFIX/TCP stream out of step; closing the session');
          end(s, 'out-of-step');
          return;
        }
        if (buf.length < length) break;
        collector.handle('ipfix', buf.subarray(0, length), exporter, 'tcp', s.key, now);
        buf = buf.subarray(length);
      }
      if (!slot.proven && collector.states.isValidated(s.key)) sessions.prove(s.key);
    });
    sock.on('error', (e) => log.warn({ err: e, exporter }, 'IPFIX/TCP session error'));
    sock.on('close', () => end(s));
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
      for (const mine of byAddress.values()) for (const s of mine) s.sock.end();
      server.close(() => resolve());
    }),
  };
}

/**
 * IPFIX over UDP and TCP on one port the kernel picks, as IANA assigns 4739 to both. TCP picks first: its
 * numbers are the busier (every outgoing connection holds one), so a UDP pick's TCP twin is often taken; a TCP
 * pick whose UDP twin is taken makes both pick again.
 */
async function ipfixOnOnePort(c: CollectorConfig, collector: Collector, log: Logger): Promise<Listener[]> {
  for (let attempt = 1; ; attempt++) {
    const tcp = await ipfixTcpListener(0, c, collector, log);
    try {
      return [await udpListener('ipfix', tcp.port, c, collector, log), tcp];
    } catch (e) {
      await tcp.close();
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 5) throw e;
    }
  }
}

export async function startListeners(c: CollectorConfig, collector: Collector, log: Logger): Promise<Listener[]> {
  const listeners: Listener[] = [];
  const onePort = c.ipfixPort === 0 && c.enabled.includes('ipfix') && c.enabled.includes('ipfix-tcp');
  try {
    for (const name of c.enabled) {
      if (name === 'ipfix') listeners.push(...(onePort ? await ipfixOnOnePort(c, collector, log) : [await udpListener('ipfix', c.ipfixPort, c, collector, log)]));
      if (name === 'netflow9') listeners.push(await udpListener('netflow9', c.netflow9Port, c, collector, log));
      if (name === 'sflow') listeners.push(await udpListener('sflow', c.sflowPort, c, collector, log));
      if (name === 'ipfix-tcp' && !onePort) listeners.push(await ipfixTcpListener(c.ipfixPort, c, collector, log));
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
  private unwatch: () => void = () => undefined;

  constructor(private readonly cfg: CollectorConfig, private readonly deps: FlowListenerDeps) {}

  /** The listeners, with the ports they are bound to. */
  get listeners(): readonly Listener[] {
    return this.bound;
  }

  async start(): Promise<void> {
    const collector = new Collector({
      states: new ExporterStates({
        ...DEFAULT_LIMITS,
        maxExporters: this.cfg.maxExporters,
        templateTimeoutMs: this.cfg.templateTimeoutSec * 1000,
        exporterIdleMs: this.cfg.exporterIdleSec * 1000,
      }),
      enterpriseNames: new Map(Object.entries(this.cfg.enterpriseNames)),
      sinks: this.deps.sinks,
      deadLetter: this.deps.deadLetter,
      log: this.deps.log,
      exporterCidrs: this.cfg.exporterCidrs,
    });
    this.unwatch = watchStates(collector.states);
    this.bound = await startListeners(this.cfg, collector, this.deps.log);
  }

  async stop(): Promise<void> {
    this.unwatch();
    await Promise.all(this.bound.map((l) => l.close()));
  }
}
