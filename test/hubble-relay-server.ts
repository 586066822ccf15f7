/**
 * A Hubble Relay for tests: observer.Observer/GetFlows over real gRPC on 127.0.0.1 (plaintext or TLS), built from the
 * vendored observer.proto loaded the way any grpc-js user loads it (proto-loader, includeDirs). It holds
 * GetFlowsResponse messages in proto object form, honours `since` (inclusive, as Hubble does) and `follow`,
 * greets each call with a node_status event as Relay does, can drop a stream after k flows, and records the
 * requests it received.
 */
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_DIR } from '../ingest/hubble/protos';

const definition = loadSync('observer/observer.proto', { keepCase: true, longs: String, enums: String, defaults: false, includeDirs: [PROTO_DIR] });
const Observer = (grpc.loadPackageDefinition(definition).observer as grpc.GrpcObject).Observer as grpc.ServiceClientConstructor;

export interface ProtoTimestamp { seconds?: string | number; nanos?: number }
/** A GetFlowsResponse in proto object form (proto field names, Timestamp as {seconds, nanos}, wrappers as {value}). */
export type ProtoResponse = Record<string, unknown> & { time?: ProtoTimestamp };
export interface GetFlowsRequest { follow?: boolean; since?: ProtoTimestamp; number?: string }

const nanosOf = (t: ProtoTimestamp): bigint => BigInt(t.seconds ?? 0) * 1_000_000_000n + BigInt(t.nanos ?? 0);

/** RFC 3339 ("…T16:00:01.413129784Z") to a Timestamp. */
export function protoTimestamp(rfc3339: string): ProtoTimestamp {
  const m = /^(.{19})(?:\.(\d{1,9}))?Z$/.exec(rfc3339);
  if (!m) throw new Error(`not a UTC RFC 3339 time: ${rfc3339}`);
  return { seconds: String(Date.parse(`${m[1]}Z`) / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

/**
 * A `hubble observe -o json` line to the response Relay sent for it. Only the well-known-type fields that the
 * fixtures of test/hubble-fixtures.ts carry are mapped back (times, is_reply); other fields are alike in both forms.
 */
export function protoFromJson(line: string | Record<string, unknown>): ProtoResponse {
  const o = (typeof line === 'string' ? JSON.parse(line) : structuredClone(line)) as { flow: Record<string, unknown>; time?: string };
  const res: ProtoResponse = { ...o, time: o.time ? protoTimestamp(o.time) : undefined, flow: { ...o.flow } };
  const flow = res.flow as Record<string, unknown>;
  if (typeof flow.time === 'string') flow.time = protoTimestamp(flow.time);
  if (typeof flow.is_reply === 'boolean') flow.is_reply = { value: flow.is_reply };
  return res;
}

interface Stream {
  call: grpc.ServerWritableStream<GetFlowsRequest, ProtoResponse>;
  since?: bigint;
  /** Flows left to send before the stream is dropped (Infinity: never). */
  left: number;
}

export class TestRelay {
  readonly requests: GetFlowsRequest[] = [];
  /** For the n-th GetFlows call: how many flows to send before dropping the stream with UNAVAILABLE. */
  readonly dropAfter: Array<number | undefined> = [];
  private readonly following = new Set<Stream>();
  private server?: grpc.Server;

  constructor(readonly responses: ProtoResponse[] = []) {}

  /** Binds 127.0.0.1:port (0: any), plaintext unless given credentials; resolves to the port. */
  async start(port = 0, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    const server = new grpc.Server();
    server.addService(Observer.service, { GetFlows: (call: Stream['call']) => this.getFlows(call) });
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, credentials, (e, p) => (e ? reject(e) : resolve(p))));
    this.server = server;
    return bound;
  }

  /** New responses: kept for later `since` requests, and sent to the calls following now. */
  publish(...responses: ProtoResponse[]): void {
    this.responses.push(...responses);
    for (const s of this.following) this.send(s, responses);
  }

  /** Stops as a killed relay pod does: every connection cut, nothing flushed. */
  kill(): void {
    this.server?.forceShutdown();
    this.following.clear();
  }

  private getFlows(call: Stream['call']): void {
    const req = call.request;
    this.requests.push(req);
    const s: Stream = { call, since: req.since ? nanosOf(req.since) : undefined, left: this.dropAfter[this.requests.length - 1] ?? Infinity };
    call.write({ node_status: { state_change: 'NODE_CONNECTED', node_names: ['gpu-017', 'cpu-004', 'db-002'] }, time: { seconds: String(Math.floor(Date.now() / 1000)) } });
    if (req.follow) {
      this.following.add(s);
      call.on('cancelled', () => this.following.delete(s));
    }
    // Without since a follower gets what comes from now on, as `hubble observe --follow` does.
    this.send(s, s.since === undefined ? [] : this.responses);
    if (!req.follow && s.left > 0) call.end();
  }

  private send(s: Stream, responses: ProtoResponse[]): void {
    for (const r of responses) {
      if (s.left <= 0) return;
      const t = (r.flow as { time?: ProtoTimestamp } | undefined)?.time ?? r.time;
      if (s.since !== undefined && (!t || nanosOf(t) < s.since)) continue;
      s.call.write(r);
      if (r.flow && --s.left === 0) {
        // Written messages go out first, then this status: the client has received exactly the flows sent.
        this.following.delete(s);
        s.call.emit('error', Object.assign(new Error('relay restarted'), { code: grpc.status.UNAVAILABLE }));
      }
    }
  }
}
