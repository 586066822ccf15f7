/**
 * Protobuf responses from Hubble Relay to the JSON `hubble observe -o json` prints (Go protojson, proto names):
 * the fixtures' real lines come back unchanged after a trip through the wire format.
 */
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import { FlowSchema } from '../../core/flow';
import { normalizeHubble } from '../../ingest/hubble/normalize';
import { timestamp, toProtoJson } from '../../ingest/hubble/protojson';
import { hubbleProtos } from '../../ingest/hubble/protos';
import { protoFromJson, type ProtoResponse } from '../hubble-relay-server';
import { DNS_REQUEST, DNS_RESPONSE, HTTP_REQUEST, HTTP_RESPONSE, ICMP, IPV6, NON_IP, POLICY_DENIED, TCP_REPLY, TCP_SYN } from '../hubble-fixtures';

const { root, definition } = hubbleProtos();
type Obj = Record<string, unknown>;

/** Serialized as Relay would send it, deserialized as the follower does, converted. */
function viaWire(typeName: string, proto: Obj): Obj {
  const def = definition[typeName] as MessageTypeDefinition<Obj, Obj>;
  return toProtoJson(root.lookupType(typeName), def.deserialize(def.serialize(proto)));
}
const response = (proto: ProtoResponse) => viaWire('observer.GetFlowsResponse', proto);
const flowJson = (flow: Obj) => viaWire('flow.Flow', flow);
const withFlow = (line: string, change: (flow: Obj) => void): Obj => {
  const o = JSON.parse(line) as { flow: Obj };
  change(o.flow);
  return o;
};

describe('protobuf to hubble observe JSON', () => {
  it.each(Object.entries({ TCP_SYN, DNS_RESPONSE, HTTP_REQUEST, HTTP_RESPONSE, ICMP, NON_IP }))('%s comes back as the line hubble printed', (_, line) => {
    expect(response(protoFromJson(line))).toEqual(JSON.parse(line));
  });

  it('writes times as protojson does: UTC, 0, 3, 6 or 9 fraction digits', () => {
    // These fixtures spell their times in other valid ways; Go's protojson would print these.
    const denied = withFlow(POLICY_DENIED, (f) => (f.time = '2025-11-24T16:00:02.250Z'));
    expect(response(protoFromJson(POLICY_DENIED))).toEqual({ ...denied, time: '2025-11-24T16:00:02.250Z' });
    expect((response(protoFromJson(DNS_REQUEST)).flow as Obj).time).toBe('2025-11-24T16:00:03.100Z');
    expect((response(protoFromJson(IPV6)).flow as Obj).time).toBe('2025-11-24T16:00:06.500Z');
    expect(timestamp('1709806502', 123456789)).toBe('2024-03-07T10:15:02.123456789Z');
    expect(timestamp('1709806502', 1000)).toBe('2024-03-07T10:15:02.000001Z');
    expect(timestamp(undefined, undefined)).toBe('1970-01-01T00:00:00Z');
    expect(timestamp('-62135596800', 0)).toBe('0001-01-01T00:00:00Z');
    expect(() => timestamp('253402300800', 0)).toThrow(RangeError);
    expect(() => flowJson({ time: { seconds: 1, nanos: 1_000_000_000 } })).toThrow(RangeError);
  });

  it('omits zero values without presence, keeps present wrappers and empty messages', () => {
    // TCP_REPLY carries "sub_type":0, which Go never sends: protojson leaves proto3 zeros out.
    expect(response(protoFromJson(TCP_REPLY))).toEqual(withFlow(TCP_REPLY, (f) => (f.event_type = { type: 4 })));
    expect(flowJson({ verdict: 'VERDICT_UNKNOWN', uuid: '', reply: false, drop_reason: 0, socket_cookie: '0', source_names: [], is_reply: { value: false } }))
      .toEqual({ is_reply: false });
    expect(flowJson({ is_reply: {}, destination: {}, l4: { TCP: {} } })).toEqual({ is_reply: false, destination: {}, l4: { TCP: {} } });
  });

  it('enums as names (numbers when unknown), 64-bit integers as strings, oneofs by their field name', () => {
    expect(flowJson({
      verdict: 'DROPPED', drop_reason_desc: 99999, socket_cookie: '18446744073709551615',
      l4: { UDP: { source_port: 53 } }, l7: { type: 'RESPONSE', latency_ns: '1834211', dns: { rcode: 3 } },
    })).toEqual({
      verdict: 'DROPPED', drop_reason_desc: 99999, socket_cookie: '18446744073709551615',
      l4: { UDP: { source_port: 53 } }, l7: { type: 'RESPONSE', latency_ns: '1834211', dns: { rcode: 3 } },
    });
  });

  it('non-flow responses: lost_events with its Int32Value and Timestamps, node_status', () => {
    expect(response({ lost_events: { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: '42', cpu: { value: 0 }, first: { seconds: '1709806502', nanos: 5_000_000 } }, node_name: 'gpu-017' }))
      .toEqual({ lost_events: { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: '42', cpu: 0, first: '2024-03-07T10:15:02.005Z' }, node_name: 'gpu-017' });
    expect(response({ node_status: { state_change: 'NODE_CONNECTED', node_names: ['gpu-017'] } }))
      .toEqual({ node_status: { state_change: 'NODE_CONNECTED', node_names: ['gpu-017'] } });
  });

  it('Any with "@type" (a well-known type under "value"), bytes as base64, NaN as a string', () => {
    expect(flowJson({ extensions: { '@type': 'type.googleapis.com/flow.Endpoint', namespace: 'prod', ID: 7 } }))
      .toEqual({ extensions: { '@type': 'type.googleapis.com/flow.Endpoint', namespace: 'prod', ID: 7 } });
    expect(flowJson({ extensions: { '@type': 'type.googleapis.com/google.protobuf.UInt64Value', value: '18446744073709551615' } }))
      .toEqual({ extensions: { '@type': 'type.googleapis.com/google.protobuf.UInt64Value', value: '18446744073709551615' } });
    expect(flowJson({ extensions: { '@type': 'type.googleapis.com/google.protobuf.Timestamp', seconds: '1709806502' } }))
      .toEqual({ extensions: { '@type': 'type.googleapis.com/google.protobuf.Timestamp', value: '2024-03-07T10:15:02Z' } });
    expect(viaWire('google.protobuf.BytesValue', { value: Buffer.from([1, 2, 255]) })).toEqual({ value: 'AQL/' });
    expect(viaWire('observer.ServerStatusResponse', { flows_rate: NaN, num_flows: '0', max_flows: '4095' })).toEqual({ flows_rate: 'NaN', max_flows: '4095' });
  });

  it('what it writes is what the Hubble normalizer reads', () => {
    for (const line of [TCP_SYN, POLICY_DENIED, DNS_REQUEST, DNS_RESPONSE, HTTP_REQUEST, HTTP_RESPONSE, TCP_REPLY, IPV6, ICMP]) {
      const fromProto = normalizeHubble(response(protoFromJson(line)), 1764000060000);
      expect(fromProto.error).toBeUndefined();
      expect(FlowSchema.parse(fromProto.flow)).toStrictEqual(fromProto.flow);
      expect(fromProto.flow).toEqual(normalizeHubble(line, 1764000060000).flow);
    }
    expect(normalizeHubble(response(protoFromJson(NON_IP)), 0).error?.reason).toBe('hubble-no-ip');
  });
});
