/**
 * How emitted bytes leave the simulator: UDP datagrams from one socket per exporter address, each bound to
 * that address so the collector sees a separate exporter, and lines appended to a file eastwatch follows.
 * Both count what is in flight, so the runner can wait for it (drain) instead of piling it up in memory.
 */
import * as dgram from 'node:dgram';
import { createWriteStream, type WriteStream } from 'node:fs';
import { isIPv6 } from 'node:net';
import type { SimFlow } from '../events';
import { type FlowEmitter, newStats } from './emitter';

/** Resolves waiters once `pending` is back to 0; the first error rejects them. */
class InFlight {
  pending = 0;
  private error: Error | undefined;
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  readonly done = (err?: Error | null): void => {
    this.pending--;
    if (err && !this.error) this.error = err;
    if (this.pending === 0 || this.error) this.settle();
  };

  idle(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  fail(err: Error): void {
    this.error ??= err;
    this.settle();
  }

  private settle(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (this.error) w.reject(this.error);
      else w.resolve();
    }
  }
}

export interface UdpTarget {
  host: string;
  port: number;
}

/** Where a collector bound to `host` is reached from a loopback exporter. */
function collectorAddress(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  if (isIPv6(host)) throw new Error(`collector host ${host}: simulated exporters send from 127.x.y.z over IPv4`);
  return host;
}

interface Source {
  socket: dgram.Socket;
  /** Datagrams sent before the bind completed: an unbound socket would send from 0.0.0.0. */
  queued: Buffer[] | undefined;
}

export class UdpExporters {
  private readonly sources = new Map<string, Source>();
  private readonly inFlight = new InFlight();
  private readonly host: string;

  constructor(private readonly target: UdpTarget) {
    this.host = collectorAddress(target.host);
  }

  /** Sends one datagram from `source` (a local address), binding its socket on first use. */
  send(source: string, datagram: Buffer): void {
    let s = this.sources.get(source);
    if (!s) s = this.open(source);
    this.inFlight.pending++;
    if (s.queued) s.queued.push(datagram);
    else s.socket.send(datagram, this.target.port, this.host, this.inFlight.done);
  }

  drain(): Promise<void> {
    return this.inFlight.idle();
  }

  async close(): Promise<void> {
    await this.drain().catch(() => undefined);
    await Promise.all([...this.sources.values()].map((s) => new Promise<void>((r) => s.socket.close(() => r()))));
    this.sources.clear();
  }

  private open(address: string): Source {
    const socket = dgram.createSocket('udp4');
    const s: Source = { socket, queued: [] };
    this.sources.set(address, s);
    socket.on('error', (e) => this.inFlight.fail(new Error(`UDP exporter ${address}: ${e.message}`)));
    socket.bind({ address, port: 0 }, () => {
      const queued = s.queued!;
      s.queued = undefined;
      for (const d of queued) socket.send(d, this.target.port, this.host, this.inFlight.done);
    });
    return s;
  }
}

/**
 * Lines appended to a file, held until write() so each write is many lines at once (a follower may still see
 * a line cut at a write boundary and waits for its newline, as it would with a real writer).
 */
class LineFile {
  private readonly stream: WriteStream;
  private held: string[] = [];
  private readonly inFlight = new InFlight();

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (e) => this.inFlight.fail(e));
  }

  /** `line` without its newline. */
  add(line: string): void {
    this.held.push(line);
  }

  /** Writes the held lines. */
  write(): void {
    if (this.held.length === 0) return;
    const chunk = this.held.join('\n') + '\n';
    this.held = [];
    this.inFlight.pending++;
    this.stream.write(chunk, this.inFlight.done);
  }

  drain(): Promise<void> {
    this.write();
    return this.inFlight.idle();
  }

  async close(): Promise<void> {
    await this.drain();
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }
}

/** An emitter of one log line per flow: `line` gets the flow and how many lines came before it. */
export class LineEmitter implements FlowEmitter {
  readonly stats = newStats();
  private readonly file: LineFile;

  constructor(readonly name: string, path: string, private readonly line: (f: SimFlow, n: number) => string) {
    this.file = new LineFile(path);
  }

  flow(f: SimFlow): void {
    const line = this.line(f, this.stats.records);
    this.file.add(line);
    this.stats.records++;
    this.stats.messages++;
    this.stats.bytes += Buffer.byteLength(line) + 1;
  }

  /** Lines go out once per step of simulated time, many to a write. */
  advance(): void {
    this.file.write();
  }

  drain(): Promise<void> {
    return this.file.drain();
  }

  flush(): Promise<void> {
    return this.drain();
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
