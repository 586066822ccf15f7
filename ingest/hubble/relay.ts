/**
 * Follows Hubble Relay (observer.Observer/GetFlows with follow) and hands each flow on as the line
 * `hubble observe -o json` would print. A dropped stream (relay restart, network) is reopened with backoff and
 * `since` = the newest flow's time; since is inclusive, so flows of that instant come again and are recognised
 * among the recently delivered ones. Nothing is lost as long as the agents' ring buffers still hold the flows.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { Logger } from '../../core/log';
import type { Stage } from '../../core/stage';
import type { HubbleConfig } from '../config';
import { collectorLost } from '../metrics';
import { timestamp, toProtoJson } from './protojson';
import { hubbleProtos } from './protos';

export interface RelayTlsOptions {
  /** false: plaintext (insecure credentials). */
  tls: boolean;
  /** PEM CA bundle that signed the relay's certificate; the system roots when absent. */
  caFile?: string;
  /** Client certificate and key (PEM) for mutual TLS; both or neither. */
  certFile?: string;
  keyFile?: string;
  /** Name to verify the relay's certificate against instead of the address's host (hubble's --tls-server-name). */
  serverName?: string;
}

export interface RelayOptions extends RelayTlsOptions {
  /** host:port of Hubble Relay (or of one agent's Hubble server). */
  address: string;
  /** Reconnect delays: exponential from initialMs up to maxMs, jittered; back to initialMs once a stream delivered flows. */
  backoff: { initialMs: number; maxMs: number };
  /** Milliseconds since the epoch to start from; otherwise flows from now on. */
  since?: number;
  /** How many recently delivered flow keys to remember against repeats (default 100 000). */
  dedupeWindow?: number;
  /**
   * Resume this long before the newest flow (default 0). Relay merges the nodes' streams in a sort buffer, so a
   * slow node's flow can arrive after a newer one; an overlap of Relay's drain timeout (1 s) takes those too,
   * and the repeats are dropped by key.
   */
  resumeOverlapMs?: number;
}

export interface RelayFollower {
  /** Flows handed to the sink. */
  readonly delivered: number;
  /** GetFlows calls after the first (including failed attempts while the relay is down). */
  readonly reconnects: number;
  /** Flows dropped as already delivered (resumed streams repeat the flows of the resume instant). */
  readonly duplicatesDropped: number;
  /** Events the relay or agents reported lost (lost_events responses). */
  readonly eventsLost: number;
  /** Cancels the stream and closes the connection; no reconnect afterwards. */
  stop(): Promise<void>;
}

type Obj = Record<string, unknown>;
type Timestamp = { seconds?: string | number; nanos?: number };

export function followRelay(opts: RelayOptions, sink: (flowJson: unknown) => void, log: Logger): RelayFollower {
  if (!opts.certFile !== !opts.keyFile) throw new Error('hubble relay: mutual TLS needs both certFile and keyFile');
  const { root, definition } = hubbleProtos();
  const responseType = root.lookupType('observer.GetFlowsResponse');
  const getFlows = (definition['observer.Observer'] as Record<string, MethodDefinition<Obj, Obj>>).GetFlows!;
  const recent = new RecentKeys(opts.dedupeWindow ?? 100_000);
  const startedAt = Date.now();
  const stats = { delivered: 0, reconnects: 0, duplicatesDropped: 0, eventsLost: 0 };
  let newest: { ts: Timestamp; ns: bigint } | undefined;
  let attempt = 0; // backoff exponent: streams in a row that delivered nothing
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: { call: grpc.ClientReadableStream<Obj>; closed: Promise<void> } | undefined;

  function connect(): void {
    if (stopped) return;
    // The first stream follows from now unless asked for a start. Later ones resume from the newest flow, else
    // from the asked start, else from when following began, so a drop before the first flow loses nothing.
    const resume = newest && (opts.resumeOverlapMs ? timestampOfNanos(newest.ns - BigInt(opts.resumeOverlapMs) * 1_000_000n) : newest.ts);
    const since = stats.reconnects === 0 && opts.since === undefined ? undefined : resume ?? timestampOfMillis(opts.since ?? startedAt);
    let client: grpc.Client;
    try {
      client = new grpc.Client(opts.address, credentials(opts), channelOptions(opts));
    } catch (e) {
      return retry(false, e as Error); // unreadable certificate files, maybe mid-rotation
    }
    const call = client.makeServerStreamRequest(getFlows.path, getFlows.requestSerialize, getFlows.responseDeserialize, {
      follow: true,
      ...(since && { since }),
    });
    log[stats.reconnects === 0 ? 'info' : 'debug']({ address: opts.address, since: since && timestamp(since.seconds, since.nanos) }, 'following hubble relay');
    let delivered = false;
    let onClosed!: () => void;
    current = { call, closed: new Promise<void>((r) => (onClosed = r)) };
    call.on('data', (res: Obj) => {
      if (onResponse(res)) delivered = true;
    });
    call.on('error', () => {}); // reported with the status below
    call.on('status', (status: grpc.StatusObject) => {
      client.close();
      current = undefined;
      onClosed();
      // With follow, any end is a drop: the relay restarted or went away. 'data' events still buffered in the
      // stream are emitted before the retry timer fires, so the resume point includes them.
      if (!stopped) retry(delivered, Object.assign(new Error(status.details), { code: status.code }));
    });
  }

  function retry(delivered: boolean, err: Error & { code?: number }): void {
    if (delivered) attempt = 0;
    const delayMs = backoffDelay(opts.backoff, attempt++);
    log.warn({ address: opts.address, code: err.code, err: err.message, delayMs }, 'hubble relay stream ended; reconnecting');
    timer = setTimeout(() => {
      timer = undefined;
      stats.reconnects++;
      connect();
    }, delayMs);
  }

  /** true when the response was a flow handed to the sink. */
  function onResponse(res: Obj): boolean {
    const flow = res.flow as Obj | undefined;
    if (!flow) {
      const lost = res.lost_events as Obj | undefined;
      if (lost) {
        const n = Number(lost.num_events_lost ?? 0);
        stats.eventsLost += n;
        collectorLost.inc({ protocol: 'hubble', exporter: opts.address }, n);
        log.warn({ address: opts.address, lost: toProtoJson(responseType, res).lost_events }, 'hubble reported lost events');
      } else {
        log.debug({ address: opts.address, event: toProtoJson(responseType, res) }, 'hubble event');
      }
      return false;
    }
    let json: Obj;
    try {
      json = toProtoJson(responseType, res);
    } catch (e) {
      log.warn({ address: opts.address, err: (e as Error).message }, 'hubble flow not convertible to JSON; skipped');
      return false;
    }
    const key = typeof flow.uuid === 'string' && flow.uuid !== '' ? flow.uuid : digest(json.flow);
    if (!recent.add(key)) {
      stats.duplicatesDropped++;
      return false;
    }
    const ts = (flow.time ?? res.time) as Timestamp | undefined;
    if (ts) {
      const ns = nanosOf(ts);
      if (!newest || ns > newest.ns) newest = { ts, ns };
    }
    stats.delivered++;
    try {
      sink(json);
    } catch (e) {
      log.error({ err: e }, 'hubble flow sink failed');
    }
    return true;
  }

  connect();
  return {
    get delivered() { return stats.delivered; },
    get reconnects() { return stats.reconnects; },
    get duplicatesDropped() { return stats.duplicatesDropped; },
    get eventsLost() { return stats.eventsLost; },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const c = current;
      if (c) {
        c.call.cancel();
        await c.closed;
      }
    },
  };
}

function credentials(o: RelayTlsOptions): grpc.ChannelCredentials {
  if (!o.tls) return grpc.credentials.createInsecure();
  // Read on every connect, so renewed certificates (cert-manager, Cilium's certgen) are picked up.
  const read = (f: string | undefined) => (f ? readFileSync(f) : null);
  return grpc.credentials.createSsl(read(o.caFile), read(o.keyFile), read(o.certFile));
}

function channelOptions(o: RelayOptions): grpc.ChannelOptions {
  return {
    ...(o.tls && o.serverName && { 'grpc.ssl_target_name_override': o.serverName }),
    // A follow stream can be silent for long; pings find a dead relay connection. 5 minutes is the
    // shortest interval a grpc-go server (Hubble Relay) accepts by default without answering GOAWAY.
    'grpc.keepalive_time_ms': 300_000,
    'grpc.keepalive_timeout_ms': 20_000,
  };
}

/** min(max, initial * 2^attempt), jittered to between half and all of it so many followers do not retry in step. */
export function backoffDelay(b: { initialMs: number; maxMs: number }, attempt: number): number {
  const cap = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

/** The keys of the last `limit` delivered flows, oldest forgotten first (a Set iterates in insertion order). */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly limit: number) {}
  /** false when the key is already there. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value!);
    return true;
  }
}

/** Key of a flow without uuid (older agents): its JSON, which toObject writes in field order, so the same flow gives the same text. Not a security use. */
const digest = (flow: unknown): string => createHash('sha1').update(JSON.stringify(flow)).digest('base64');

const nanosOf = (t: Timestamp): bigint => BigInt(t.seconds ?? 0) * 1_000_000_000n + BigInt(t.nanos ?? 0);

function timestampOfNanos(ns: bigint): Timestamp {
  return { seconds: String(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) };
}

function timestampOfMillis(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: Math.min(999_999_999, Math.floor((ms - seconds * 1000) * 1_000_000)) };
}

/** Following the configured Relay, as a stage: each flow goes through `handle` like a line of a Hubble file. */
export class HubbleRelay implements Stage {
  readonly name = 'hubble-relay';
  private follower: RelayFollower | undefined;

  constructor(private readonly cfg: HubbleConfig & { relay: string }, private readonly handle: (flow: object) => void, private readonly log: Logger) {}

  async start(): Promise<void> {
    const h = this.cfg;
    this.follower = followRelay({
      address: h.relay, tls: h.relayTls, backoff: { initialMs: 500, maxMs: 30_000 }, resumeOverlapMs: h.relayOverlapMs,
      ...(h.relayCaFile ? { caFile: h.relayCaFile } : {}), ...(h.relayCertFile ? { certFile: h.relayCertFile } : {}),
      ...(h.relayKeyFile ? { keyFile: h.relayKeyFile } : {}), ...(h.relayServerName ? { serverName: h.relayServerName } : {}),
    }, (json) => this.handle(json as object), this.log);
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
  }
}
