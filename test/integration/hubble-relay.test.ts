/**
 * Following Hubble Relay over real gRPC: streams dropped mid-way (once inside a group of flows sharing one
 * timestamp, once on a group's edge) and a relay restarted on the same port. The follower resumes with `since`
 * and hands on every flow exactly once and in order, as JSON the Hubble normalizer reads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { FlowSchema } from '../../core/flow';
import { normalizeHubble } from '../../ingest/hubble/normalize';
import { timestamp } from '../../ingest/hubble/protojson';
import { followRelay, type RelayFollower } from '../../ingest/hubble/relay';
import { rfc3339Millis } from '../../ingest/hubble/schema';
import { waitFor } from '../helpers';
import { DNS_REQUEST, DNS_RESPONSE, HTTP_REQUEST, HTTP_RESPONSE, ICMP, IPV6, POLICY_DENIED, TCP_REPLY, TCP_SYN } from '../hubble-fixtures';
import { protoFromJson, TestRelay, type ProtoTimestamp } from '../hubble-relay-server';

type Obj = Record<string, any>;
const N = 500;
const GROUP = 5; // flows sharing one timestamp
const T0 = Date.parse('2025-11-24T16:00:00Z') / 1000;
const TEMPLATES = [TCP_SYN, POLICY_DENIED, DNS_REQUEST, DNS_RESPONSE, HTTP_REQUEST, HTTP_RESPONSE, TCP_REPLY, IPV6, ICMP];

/** Flow i as `hubble observe -o json` prints it: a fixture with its own time, source address and (mostly) uuid. */
function expectedLine(i: number): Obj {
  const o = JSON.parse(TEMPLATES[i % TEMPLATES.length]!) as Obj;
  const g = Math.floor(i / GROUP);
  // nanos never end in 000, so protojson prints all 9 digits
  const time = `${new Date((T0 + g) * 1000).toISOString().slice(0, 19)}.${100_000_001 + 7 * g}Z`;
  o.time = o.flow.time = time;
  if (i % 7 === 2) delete o.flow.uuid; // older agents send none: the follower keys those by content
  else o.flow.uuid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  o.flow.IP.source = o.flow.IP.ipVersion === 'IPv6' ? `fd00:200::${i.toString(16)}` : `10.200.${i >> 8}.${i & 255}`;
  if (o.flow.event_type?.sub_type === 0) delete o.flow.event_type.sub_type; // a zero protojson never prints
  return o;
}
const expected = Array.from({ length: N }, (_, i) => expectedLine(i));
const proto = expected.map((o) => protoFromJson(o));
const since = (req: { since?: ProtoTimestamp }) => (req.since ? timestamp(req.since.seconds, req.since.nanos) : undefined);

describe('Hubble Relay follower', () => {
  const relays: TestRelay[] = [];
  let follower: RelayFollower | undefined;
  afterAll(async () => {
    await follower?.stop();
    for (const r of relays) r.kill();
  });

  it('resumes dropped streams and a restarted relay: every flow once, in order', async () => {
    const logs: Obj[] = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => logs.push(JSON.parse(s) as Obj) });
    const retries = () => logs.filter((l) => l.msg === 'hubble relay stream ended; reconnecting');

    // Relay 1 holds flows 0..399 and a lost_events report; it drops its first stream after 123 flows (inside
    // the group 120..124) and its second after 200 more (120..319: the edge of group 315..319).
    const relay1 = new TestRelay(proto.slice(0, 400));
    relay1.responses.splice(251, 0, { lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '3' }, time: proto[250]!.time });
    relay1.dropAfter.push(123, 200);
    relays.push(relay1);
    const port = await relay1.start();

    const delivered: Obj[] = [];
    follower = followRelay(
      { address: `127.0.0.1:${port}`, tls: false, backoff: { initialMs: 50, maxMs: 400 }, since: (T0 - 1) * 1000 },
      (f) => delivered.push(f as Obj),
      log,
    );
    await waitFor(() => delivered.length === 400 || undefined, 30_000, () => `delivered ${delivered.length} of 400`);
    expect(relay1.requests.map(since)).toEqual([
      '2025-11-24T15:59:59Z',
      expected[122]!.flow.time, // the last flow the dropped stream delivered
      expected[319]!.flow.time,
    ]);
    expect(relay1.requests.every((r) => r.follow === true)).toBe(true);
    expect(follower.duplicatesDropped).toBe(3 + 5); // 120..122 and 315..319 came again
    expect([expected[121]!.flow.uuid, expected[317]!.flow.uuid]).toEqual([undefined, undefined]); // repeats known by content
    expect(follower.eventsLost).toBe(3);

    // Live flows reach the follower; then the relay dies and is down for a while: connections are refused.
    relay1.publish(...proto.slice(400, 450));
    await waitFor(() => delivered.length === 450 || undefined, 30_000, () => `delivered ${delivered.length} of 450`);
    const before = retries().length;
    relay1.kill();
    await waitFor(() => retries().length >= before + 5 || undefined, 30_000, () => JSON.stringify(retries()));

    // It comes back on the same port with the agents' buffers: 0..499.
    const relay2 = new TestRelay(proto.slice());
    relays.push(relay2);
    await relay2.start(port);
    await waitFor(() => delivered.length === N || undefined, 30_000, () => `delivered ${delivered.length} of ${N}`);
    expect(relay2.requests.map(since)).toEqual([expected[449]!.flow.time]);

    await follower.stop();
    const reconnects = follower.reconnects;
    await new Promise((r) => setTimeout(r, 300));
    expect(follower.reconnects).toBe(reconnects); // stopped: no reconnect
    expect(relay2.requests).toHaveLength(1);

    // Exactly once, in order, in the shape hubble prints; nothing but flows handed on.
    expect(delivered).toEqual(expected);
    expect(follower.delivered).toBe(N);
    expect(follower.duplicatesDropped).toBe(3 + 5 + 5);

    // Backoff: back to initialMs after a stream that delivered; doubling while the relay refuses, capped.
    const downtime = retries().slice(before);
    downtime.forEach((r, k) => {
      const cap = Math.min(400, 50 * 2 ** k);
      expect(r.delayMs).toBeGreaterThanOrEqual(cap / 2);
      expect(r.delayMs).toBeLessThanOrEqual(cap);
      if (k > 0) {
        expect(r.time - downtime[k - 1]!.time).toBeGreaterThanOrEqual(downtime[k - 1]!.delayMs - 2); // it did wait (ms clocks)
        expect(r).toMatchObject({ code: 14, err: expect.stringContaining('ECONNREFUSED') }); // UNAVAILABLE: refused
      }
    });
    expect(retries().slice(0, 2).map((r) => r.err)).toEqual(['relay restarted', 'relay restarted']);
    expect(retries()[1]!.delayMs).toBeLessThanOrEqual(50);
    expect(logs.some((l) => l.msg === 'hubble reported lost events' && l.lost.num_events_lost === '3')).toBe(true);

    // Each one becomes a valid Flow with its own addresses, verdict and time.
    delivered.forEach((d, i) => {
      const r = normalizeHubble(d, 1764000060000);
      expect(r.error).toBeUndefined();
      expect(FlowSchema.parse(r.flow)).toStrictEqual(r.flow);
      expect(r.flow).toMatchObject({
        src_addr: expected[i]!.flow.IP.source,
        dst_addr: expected[i]!.flow.IP.destination,
        verdict: expected[i]!.flow.verdict,
        time_start: rfc3339Millis(expected[i]!.flow.time),
      });
    });
  });

  it('speaks mutual TLS, verifying the relay under the name given', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-relay-tls-'));
    try {
      const file = (name: string) => path.join(dir, name);
      const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      const key = (name: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`];
      openssl('req', '-x509', ...key('ca'), '-out', 'ca.crt', '-subj', '/CN=eastwatch test CA', '-days', '1');
      for (const [name, ext] of [['relay', 'subjectAltName=DNS:*.hubble-relay.cilium.io'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
        writeFileSync(file(`${name}.ext`), `${ext}\n`);
        openssl('req', ...key(name), '-out', `${name}.csr`, '-subj', `/CN=${name}`);
        openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
      }
      const relay = new TestRelay(proto.slice(0, 10));
      relays.push(relay);
      const port = await relay.start(0, grpc.ServerCredentials.createSsl(readFileSync(file('ca.crt')),
        [{ private_key: readFileSync(file('relay.key')), cert_chain: readFileSync(file('relay.crt')) }], true));
      const tls = { tls: true, caFile: file('ca.crt'), serverName: 'ui.hubble-relay.cilium.io' };
      const opts = { address: `127.0.0.1:${port}`, backoff: { initialMs: 50, maxMs: 100 }, since: (T0 - 1) * 1000 };
      const quiet = pino({ level: 'silent' });

      // Without a client certificate the relay refuses the handshake; with one it streams.
      const anonymous = followRelay({ ...opts, ...tls }, () => {}, quiet);
      await waitFor(() => anonymous.reconnects >= 2 || undefined, 10_000, () => 'no retries');
      await anonymous.stop();
      expect(anonymous.delivered).toBe(0);
      expect(relay.requests).toHaveLength(0);

      const delivered: unknown[] = [];
      const mutual = followRelay({ ...opts, ...tls, certFile: file('client.crt'), keyFile: file('client.key') }, (f) => delivered.push(f), quiet);
      await waitFor(() => delivered.length === 10 || undefined, 10_000, () => `delivered ${delivered.length} of 10`);
      await mutual.stop();
      expect(delivered).toEqual(expected.slice(0, 10));
      expect(() => followRelay({ ...opts, ...tls, certFile: file('client.crt') }, () => {}, quiet)).toThrow(/both certFile and keyFile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
