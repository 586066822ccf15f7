import { FlowSchema, type Flow } from '../../core/flow';
import type { SimFlow } from '../../simulator/events';
import { simulatedFlows } from '../../simulator/sample';
import { normalizeHubble } from '../../ingest/hubble/normalize';
import { rfc3339Millis } from '../../ingest/hubble/schema';
import { TCP_SYN, POLICY_DENIED, DNS_REQUEST, DNS_RESPONSE, HTTP_REQUEST, HTTP_RESPONSE, TCP_REPLY, IPV6, ICMP, NON_IP } from '../hubble-fixtures';

const RECEIVED = 1764000060000;

const trainer = {
  namespace: 'ai-training',
  pod: 'trainer-88214-worker-3',
  identity: 48213,
};
const trainerLabels = { app: 'trainer' };
const gateway = { namespace: 'serving', pod: 'inference-gateway-7c9f8d6b5-q2w4e', workload: 'deployment/inference-gateway', labels: { app: 'inference-gateway' }, identity: 22871 };
const ordersApi = { namespace: 'prod', pod: 'orders-api-6b7d9c5f4-k8j2m', workload: 'deployment/orders-api', labels: { app: 'orders-api' }, identity: 40112 };
const coredns = { namespace: 'kube-system', pod: 'coredns-5d78c9869d-x8x2p', workload: 'deployment/coredns', labels: { 'k8s-app': 'kube-dns' }, identity: 102 };

const side = (s: 'src' | 'dst', cols: Record<string, unknown>): Partial<Flow> =>
  Object.fromEntries(Object.entries(cols).map(([k, v]) => [`${s}_${k}`, v])) as Partial<Flow>;

/** The fields every Hubble flow shares. */
const base = (time: number, rest: Partial<Flow>): Flow => ({
  time_received: RECEIVED, time_start: time, time_end: time,
  source_kind: 'hubble', exporter_address: '::', observation_domain: 0, observation_point: 'hubble',
  src_addr: '', dst_addr: '', src_port: 0, dst_port: 0, protocol: 0,
  bytes: null, packets: null, tcp_flags: 0, sampling_rate: 1, direction: 'unknown',
  ...rest,
});

function ok(line: unknown, receivedAt = RECEIVED): Flow {
  const r = normalizeHubble(line, receivedAt);
  expect(r.error).toBeUndefined();
  expect(FlowSchema.parse(r.flow)).toStrictEqual(r.flow);
  return r.flow!;
}
const edit = (line: string, change: (o: any) => void): unknown => {
  const o = JSON.parse(line);
  change(o);
  return o;
};

describe('normalizeHubble', () => {
  it('maps a forwarded TCP SYN leaving a pod (egress): the node is the source pod\'s', () => {
    expect(ok(TCP_SYN)).toStrictEqual(base(1764000001413, {
      src_addr: '10.244.3.17', dst_addr: '10.244.7.41', src_port: 51234, dst_port: 29500, protocol: 6, tcp_flags: 0x02,
      direction: 'egress',
      ...side('src', {
        ...trainer, workload: 'pytorchjob/trainer-88214',
        labels: { app: 'trainer', 'io.kubernetes.pod.namespace': 'ai-training', 'training.kubeflow.org/job-name': 'trainer-88214', 'training.kubeflow.org/replica-type': 'worker' },
        node: 'gpu-017',
      }),
      ...side('dst', {
        namespace: 'ai-training', pod: 'trainer-88214-master-0', workload: 'pytorchjob/trainer-88214',
        labels: { app: 'trainer', 'io.kubernetes.pod.namespace': 'ai-training' }, identity: 48213,
      }),
      verdict: 'FORWARDED', is_reply: false,
    }));
  });

  it('maps a policy-denied drop: the ai-training pod to the prod database on 5432', () => {
    const flow = ok(POLICY_DENIED);
    expect(flow).toStrictEqual(base(1764000002250, {
      src_addr: '10.244.3.17', dst_addr: '10.96.0.12', src_port: 43810, dst_port: 5432, protocol: 6, tcp_flags: 0x02,
      direction: 'egress',
      ...side('src', { ...trainer, labels: trainerLabels, node: 'gpu-017' }),
      ...side('dst', { namespace: 'prod', pod: 'orders-db-0', workload: 'statefulset/orders-db', labels: { app: 'orders-db', 'io.kubernetes.pod.namespace': 'prod' }, identity: 31207 }),
      verdict: 'DROPPED', drop_reason: 'POLICY_DENIED',
    }));
    // the same shape the simulator's policy-denied attack arrives in, so detectors see one thing
    const attack = [...simulatedFlowsUntil((s) => s.label === 'policy-denied')].at(-1)!.flow;
    for (const k of ['source_kind', 'observation_point', 'bytes', 'packets', 'verdict', 'drop_reason'] as const) {
      expect([k, flow[k]]).toEqual([k, attack[k]]);
    }
    expect(attack.src_namespace).toBeTruthy();
  });

  it('names numeric drop reasons only for policy drops and keeps other numbers as text', () => {
    const numeric = (n: number, desc?: number) => ok(edit(POLICY_DENIED, (o) => {
      o.flow.drop_reason = n;
      if (desc === undefined) delete o.flow.drop_reason_desc;
      else o.flow.drop_reason_desc = desc;
    })).drop_reason;
    expect(numeric(133)).toBe('POLICY_DENIED');
    expect(numeric(181)).toBe('POLICY_DENY');
    expect(numeric(134)).toBe('134');
    expect(numeric(0, 205)).toBe('205'); // a reason newer than the writer's flow.proto
  });

  it('summarizes DNS requests and responses; the response is a reply, so the node is its destination\'s', () => {
    const dnsSide = { protocol: 17, direction: 'egress' as const, verdict: 'FORWARDED' as const };
    expect(ok(DNS_REQUEST)).toStrictEqual(base(1764000003100, {
      src_addr: '10.244.3.17', dst_addr: '10.244.0.53', src_port: 41772, dst_port: 53, ...dnsSide,
      ...side('src', { ...trainer, labels: trainerLabels, node: 'gpu-017' }),
      ...side('dst', coredns),
      is_reply: false, l7_summary: 'DNS huggingface.co. A',
    }));
    // rcode 0 (NOERROR) is omitted by protojson
    expect(ok(DNS_RESPONSE)).toStrictEqual(base(1764000003101, {
      src_addr: '10.244.0.53', dst_addr: '10.244.3.17', src_port: 53, dst_port: 41772, ...dnsSide,
      ...side('src', coredns),
      ...side('dst', { ...trainer, labels: trainerLabels, node: 'gpu-017' }),
      is_reply: true, l7_summary: 'DNS huggingface.co. A rcode=NOERROR',
    }));
    const nx = edit(DNS_RESPONSE, (o) => {
      o.flow.l7.dns = { query: 'x7f3a9.exfil-c2.example.', rcode: 3, qtypes: ['TXT'], observation_source: 'proxy' };
    });
    expect(ok(nx).l7_summary).toBe('DNS x7f3a9.exfil-c2.example. TXT rcode=NXDOMAIN');
  });

  it('summarizes HTTP requests and responses', () => {
    const url = 'http://orders-api.prod.svc.cluster.local:8080/v1/orders?limit=10';
    expect(ok(HTTP_REQUEST)).toStrictEqual(base(1764000004000, {
      src_addr: '10.244.5.23', dst_addr: '10.244.9.14', src_port: 48812, dst_port: 8080, protocol: 6, direction: 'egress',
      ...side('src', { ...gateway, node: 'cpu-004' }),
      ...side('dst', ordersApi),
      verdict: 'FORWARDED', is_reply: false, l7_summary: `GET ${url}`,
    }));
    expect(ok(HTTP_RESPONSE)).toStrictEqual(base(1764000004012, {
      src_addr: '10.244.9.14', dst_addr: '10.244.5.23', src_port: 8080, dst_port: 48812, protocol: 6, direction: 'egress',
      ...side('src', ordersApi),
      ...side('dst', { ...gateway, node: 'cpu-004' }),
      verdict: 'FORWARDED', is_reply: true, l7_summary: `GET ${url} 200`,
    }));
  });

  it('maps reply flows: an ingress reply leaves the local pod, and every is_reply spelling is read', () => {
    expect(ok(TCP_REPLY)).toStrictEqual(base(1764000005000, {
      src_addr: '10.244.11.5', dst_addr: '10.244.9.14', src_port: 5432, dst_port: 39172, protocol: 6, tcp_flags: 0x12,
      direction: 'ingress',
      ...side('src', { namespace: 'prod', pod: 'orders-db-0', labels: { app: 'orders-db' }, identity: 31207, node: 'db-002' }),
      ...side('dst', { namespace: 'prod', pod: 'orders-api-6b7d9c5f4-k8j2m', labels: { app: 'orders-api' }, identity: 40112 }),
      verdict: 'FORWARDED', is_reply: true,
    }));
    const reply = (change: (f: any) => void) => ok(edit(TCP_REPLY, (o) => { delete o.flow.is_reply; change(o.flow); }));
    expect(reply((f) => { f.reply = true; }).is_reply).toBe(true); // deprecated field of older Cilium
    expect(reply((f) => { f.is_reply = { value: true }; }).is_reply).toBe(true); // BoolValue from a struct encoder
    expect(reply((f) => { f.is_reply = {}; }).is_reply).toBe(false);
    const unknown = reply(() => undefined);
    expect(unknown.is_reply).toBeUndefined();
    // unknown reply status counts as a request: on an INGRESS connection the local pod is then the destination
    expect([unknown.src_node, unknown.dst_node]).toEqual([undefined, 'db-002']);
  });

  it('maps IPv6 flows', () => {
    expect(ok(IPV6)).toStrictEqual(base(1764000006500, {
      src_addr: 'fd00:10:244:3::17', dst_addr: 'fd00:10:244:7::41', src_port: 40112, dst_port: 29500, protocol: 6, tcp_flags: 0x18,
      direction: 'egress',
      ...side('src', { ...trainer, node: 'gpu-017' }),
      ...side('dst', { namespace: 'ai-training', pod: 'trainer-88214-master-0', identity: 48213 }),
      verdict: 'FORWARDED', is_reply: false,
    }));
  });

  it('maps ICMP: type and code in dst_port, reserved labels keep their source prefix', () => {
    expect(ok(ICMP)).toStrictEqual(base(1764000007000, {
      src_addr: '10.0.12.17', dst_addr: '10.244.3.17', protocol: 1, dst_port: 8 * 256, direction: 'ingress',
      src_labels: { 'reserved:host': '' }, src_identity: 1,
      ...side('dst', { ...trainer, node: 'gpu-017' }),
      verdict: 'FORWARDED', is_reply: false,
    }));
    const v6 = ok(edit(ICMP, (o) => {
      o.flow.IP = { source: 'fd00:10:244:3::17', destination: 'fd00::c:11', ipVersion: 'IPv6' };
      o.flow.l4 = { ICMPv6: { type: 1, code: 4 } }; // destination unreachable, port unreachable
      delete o.flow.traffic_direction;
    }));
    expect([v6.protocol, v6.src_port, v6.dst_port, v6.direction, v6.src_node, v6.dst_node]).toEqual([58, 0, 260, 'unknown', undefined, undefined]);
  });

  it('accepts the lowerCamelCase names of default protojson', () => {
    const camel = (v: unknown): unknown => Array.isArray(v) ? v.map(camel)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), camel(x)]))
        : v;
    for (const line of [TCP_SYN, POLICY_DENIED, DNS_REQUEST, DNS_RESPONSE, HTTP_REQUEST, HTTP_RESPONSE, TCP_REPLY, IPV6, ICMP]) {
      const c = camel(JSON.parse(line)) as { flow: Record<string, unknown> };
      expect(Object.keys(c.flow)).toContain('trafficDirection');
      expect(ok(c)).toStrictEqual(ok(line));
    }
  });

  it('takes the time from the flow, else the envelope, else the receive time', () => {
    expect(ok(edit(TCP_SYN, (o) => { delete o.flow.time; })).time_start).toBe(1764000001413);
    const none = ok(edit(TCP_SYN, (o) => { delete o.flow.time; delete o.time; }), 1764000099000);
    expect([none.time_start, none.time_end, none.time_received]).toEqual([1764000099000, 1764000099000, 1764000099000]);
    expect(ok(edit(TCP_SYN, (o) => { o.flow.time = '2025-11-24T18:00:00.999999999+02:00'; })).time_start).toBe(1764000000999);
    expect(rfc3339Millis('2025-11-24T16:00:00.567Z')).toBe(1764000000567);
    expect(rfc3339Millis('1969-12-31T23:59:59Z')).toBeUndefined();
  });

  it('reads a bare flow as older hubble printed it, and a node name from the envelope', () => {
    expect(ok(JSON.parse(TCP_SYN).flow)).toStrictEqual(ok(TCP_SYN));
    expect(ok(edit(TCP_SYN, (o) => { delete o.flow.node_name; })).src_node).toBe('gpu-017');
  });

  it('clips every string to the Flow schema\'s limits', () => {
    const flow = ok(edit(TCP_SYN, (o) => {
      Object.assign(o.flow.source, {
        namespace: 'n'.repeat(400), pod_name: 'p'.repeat(600), workloads: [{ name: 'w'.repeat(300), kind: 'Job' }],
        labels: [`k8s:${'k'.repeat(400)}=${'v'.repeat(2000)}`, 'k8s:emoji=' + 'x'.repeat(1023) + '😀'],
      });
      o.flow.node_name = 'gpu-'.repeat(100);
      o.flow.source_names = Array.from({ length: 100 }, (_, i) => `${'a'.repeat(300)}${i}`);
      o.flow.l7 = { type: 'REQUEST' }; // an L7 flow other than DNS or HTTP: its summary is Hubble's own
      o.flow.Summary = 's'.repeat(5000);
      o.flow.drop_reason_desc = 'D'.repeat(300);
    }));
    expect(flow.src_namespace).toHaveLength(256);
    expect(flow.src_pod).toHaveLength(253);
    expect(flow.src_workload).toHaveLength(253);
    expect(flow.src_node).toHaveLength(256);
    expect(flow.src_names).toHaveLength(64);
    expect(flow.src_names![0]).toHaveLength(253);
    expect(Object.keys(flow.src_labels!)[0]).toHaveLength(317);
    expect(flow.src_labels!.emoji).toBe('x'.repeat(1023)); // no half surrogate pair
    expect(flow.l7_summary).toHaveLength(2048);
    expect(flow.drop_reason).toHaveLength(256);
  });

  describe('lines that are not flows', () => {
    const reason = (line: unknown) => normalizeHubble(line, RECEIVED).error;

    it('rejects wrong types with the path of the field', () => {
      expect(reason(TCP_SYN.replace('"source_port":51234', '"source_port":"51234"'))).toEqual({
        reason: 'hubble-invalid', detail: 'flow.l4.TCP.source_port: Invalid input: expected number, received string',
      });
      const cases: [(o: any) => void, string][] = [
        [(o) => { o.flow.verdict = true; }, 'flow.verdict:'],
        [(o) => { o.flow.source.labels = 'k8s:app=trainer'; }, 'flow.source.labels:'],
        [(o) => { o.flow.IP.source = '10.244.3.999'; }, 'flow.IP.source: not an IPv4 or IPv6 address'],
        [(o) => { o.flow.time = 'yesterday'; }, 'flow.time: not an RFC 3339 timestamp'],
        [(o) => { o.flow.l4.TCP.destination_port = 70000; }, 'flow.l4.TCP.destination_port:'],
        [(o) => { o.flow.is_reply = 'false'; }, 'flow.is_reply:'],
        [(o) => { o.flow = 'TCP'; }, 'flow:'],
      ];
      for (const [change, detail] of cases) {
        const error = reason(edit(TCP_SYN, change));
        expect(error?.reason).toBe('hubble-invalid');
        expect(error?.detail.startsWith(detail)).toBe(true);
      }
    });

    it('rejects lines without a flow, and says which event other lines carry', () => {
      expect(reason('{"node_name":"gpu-017","time":"2025-11-24T16:00:01Z"}')).toEqual({
        reason: 'hubble-invalid', detail: 'flow: Invalid input: expected object, received undefined',
      });
      expect(reason('{"node_status":{"state_change":"NODE_CONNECTED","node_names":["gpu-017"]},"time":"2025-11-24T16:00:01Z"}'))
        .toEqual({ reason: 'hubble-not-flow', detail: 'node_status event' });
      expect(reason('{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"13"},"node_name":"gpu-017"}'))
        .toEqual({ reason: 'hubble-not-flow', detail: 'lost_events event' });
      for (const bad of ['{"flow":', '[]', 'null', 42]) expect(reason(bad)?.reason).toBe('hubble-invalid');
      expect(reason('{"flow":')?.detail).toMatch(/^not JSON: /);
    });

    it('rejects flows without IP addresses', () => {
      expect(reason(NON_IP)).toEqual({ reason: 'hubble-no-ip', detail: 'flow (no uuid) has no IP addresses (Ethernet)' });
      expect(reason(edit(TCP_SYN, (o) => { o.flow.IP = { source: '10.244.3.17' }; }))?.reason).toBe('hubble-no-ip');
    });
  });
});

/** The default scenario's flows up to the first one `stop` picks. */
function* simulatedFlowsUntil(stop: (s: SimFlow) => boolean) {
  for (const f of simulatedFlows()) {
    yield f;
    if (stop(f.sim)) return;
  }
}
