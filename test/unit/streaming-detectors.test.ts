/**
 * The streaming detectors on hand-built flows of the example cluster: what each must flag, and the benign
 * traps it must not: a job's first and last seconds, late flows, checkpoint bursts to storage, shared
 * services, a node moving from one job to the next, replies; and which switch samples are left out.
 */
import { DPU_SILENCE_MS, DpuCoverage } from '../../detectors/dpu-coverage';
import { OutsideAllocation } from '../../detectors/outside-allocation';
import { PolicyDenied } from '../../detectors/policy-denied';
import { Scan } from '../../detectors/scan';
import { TopologyMismatch } from '../../detectors/topology-mismatch';
import { ZoneViolation } from '../../detectors/zone-violation';
import {
  bmc, DNS01, flow, front, job, judge, MIN, MONITORING, PROXY, roce, SEC, STOR01, SYN, T0, TCP, UDP, VAULT01,
} from '../detector-fixtures';

const A = job('88213', 1, 16, T0, T0 + 60 * MIN); // gpu001-016
const B = job('88214', 17, 32, T0); // gpu017-032
const ALLOCS = [...A, ...B];

describe('outside-allocation', () => {
  const run = (flows: Parameters<typeof judge>[2], allocations = ALLOCS) => judge([new OutsideAllocation()], allocations, flows);

  it('flags a job member opening SSH to a node of another job, once per flow, keyed by (job, offender)', () => {
    const out = run([flow(front(7), front(20), 22, T0 + 5 * MIN), flow(front(7), front(21), 22, T0 + 5 * MIN + SEC)]);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({
      detector: 'outside-allocation', key: ['88213', 'gpu007'], severity: 'critical',
      summary: 'gpu007 (job 88213) opened SSH (tcp/22) to gpu020 (job 88214), outside its allocation',
      entities: { src_node: 'gpu007', dst_node: 'gpu020', src_job: '88213', dst_job: '88214', dst_port: 22, protocol: TCP },
    });
    expect(out[1]!.key).toEqual(['88213', 'gpu007']);
  });

  it('flags a node outside any job reaching into a job', () => {
    const [f] = run([roce(40, 3, T0 + 5 * MIN)]);
    expect(f).toMatchObject({ key: ['88213', 'gpu040'], summary: expect.stringContaining('gpu040, outside job 88213, opened RoCEv2 (udp/4791) to gpu003 (job 88213)') });
  });

  it('leaves alone traffic inside a job, with shared services, and between nodes of no job', () => {
    expect(run([
      roce(1, 2, T0 + MIN), flow(front(3), front(9), 29500, T0 + MIN), // inside job A
      flow(front(3), STOR01, 988, T0 + MIN), flow(front(3), DNS01, 53, T0 + MIN, { protocol: UDP }), flow(front(3), PROXY, 3128, T0 + MIN),
      flow(MONITORING, front(20), 9100, T0 + MIN), flow(front(3), VAULT01, 443, T0 + MIN), // checkpoints
      flow(front(40), front(41), 22, T0 + MIN), // neither in a job
    ])).toEqual([]);
  });

  it("counts a job's first and last seconds as the job's (the grace), and no more", () => {
    expect(run([roce(1, 2, T0 - 5 * SEC), roce(1, 2, T0 + 60 * MIN + 10 * SEC)])).toEqual([]);
    // gpu001 is free 20 s after A's end; gpu017 is B's: the grace is over.
    expect(run([roce(1, 17, T0 + 60 * MIN + 30 * SEC)]).map((f) => f.key)).toEqual([['88214', 'gpu001']]);
  });

  it('judges a late flow by its own time, and a node moved to the next job by the job it is in then', () => {
    const C = job('88216', 1, 4, T0 + 61 * MIN); // A's gpu001-004 go on to C
    const late = roce(1, 9, T0 + 30 * MIN, 0, 0, { time_received: T0 + 70 * MIN }); // A's ring, arriving after C started
    expect(run([late, roce(1, 2, T0 + 62 * MIN), roce(2, 3, T0 + 62 * MIN)], [...ALLOCS, ...C])).toEqual([]);
    // In C, gpu001 has no business with gpu009 any more.
    expect(run([roce(1, 9, T0 + 62 * MIN)], [...ALLOCS, ...C]).map((f) => f.key)).toEqual([['88216', 'gpu001']]);
  });

  it('blames the end that opened the connection, not the one replying', () => {
    const reply = flow(front(20), front(7), 50_000, T0 + 5 * MIN, { src_port: 22 });
    expect(run([reply]).map((f) => [f.key, f.entities.src_node, f.entities.dst_port])).toEqual([[['88213', 'gpu007'], 'gpu007', 22]]);
  });

  it('ignores what never crossed: a dropped attempt, and the proxy log line of a connection the DPU exported', () => {
    expect(run([flow(front(7), front(20), 22, T0 + MIN, { verdict: 'DROPPED', drop_reason: 'POLICY_DENIED' }),
      flow(front(7), front(20), 3128, T0 + MIN, { source_kind: 'proxy' })])).toEqual([]);
  });
});

describe('zone-violation', () => {
  const run = (flows: Parameters<typeof judge>[2]) => judge([new ZoneViolation()], ALLOCS, flows);

  it('flags a training node reaching a BMC, and egress around the proxy, as critical', () => {
    const out = run([flow(front(26), bmc(3), 623, T0 + MIN, { protocol: UDP }), flow(front(12), '198.51.100.7', 443, T0 + MIN)]);
    expect(out.map((f) => [f.key, f.severity])).toEqual([
      [['gpu026', 'bmc', 'IPMI (udp/623)'], 'critical'],
      [['gpu012', 'internet', 'HTTPS (tcp/443)'], 'critical'],
    ]);
    expect(out[1]!.summary).toBe('gpu012 (training) sent HTTPS (tcp/443) to 198.51.100.7 (internet): egress that does not go through the proxy');
  });

  it('allows what the matrix allows, traffic inside a zone, the proxy going out, and replies of allowed connections', () => {
    expect(run([
      flow('10.240.0.5', bmc(3), 22, T0), flow(front(1), STOR01, 2049, T0), flow(front(1), front(2), 22, T0),
      flow(PROXY, '203.0.113.10', 443, T0), flow(STOR01, front(1), 45_000, T0, { src_port: 2049 }),
    ])).toEqual([]);
  });

  it('makes one episode per zone of a scan\'s probes, however many ports', () => {
    const probes = [22, 443, 3306, 5432, 8080].flatMap((port, i) => [
      flow(front(21), PROXY, port, T0 + i * SEC, { tcp_flags: SYN }), flow(front(21), MONITORING, port, T0 + i * SEC, { tcp_flags: SYN }),
    ]);
    const keys = new Set(run(probes).map((f) => f.key.join(' ')));
    expect([...keys]).toEqual(['gpu021 dmz probes', 'gpu021 management probes']);
  });
});

describe('policy-denied', () => {
  it('flags policy drops and proxy refusals, per source and destination', () => {
    const out = judge([new PolicyDenied()], ALLOCS, [
      flow('10.244.3.17', '198.51.100.9', 443, T0, { source_kind: 'hubble', verdict: 'DROPPED', drop_reason: 'POLICY_DENIED', tcp_flags: SYN, bytes: null, src_node: 'gpu003', src_pod: 'trainer-0' }),
      flow(front(5), PROXY, 3128, T0, { source_kind: 'proxy', verdict: 'DENIED', proxy_host: 'pastebin.com', proxy_status: 403 }),
      flow(front(5), '10.96.0.10', 443, T0, { source_kind: 'hubble', verdict: 'DROPPED', drop_reason: 'CT_MAP_INSERTION_FAILED' }),
      flow(front(5), STOR01, 988, T0, { verdict: 'FORWARDED' }),
    ]);
    expect(out.map((f) => [f.key, f.bytes])).toEqual([[['trainer-0', '198.51.100.9:443'], 0], [['gpu005', 'pastebin.com'], 0]]);
    expect(out[1]!.summary).toBe('gpu005 (job 88213) tried pastebin.com: the egress proxy refused it');
  });
});

describe('scan', () => {
  const scan = () => new Scan({ windowMs: MIN, hosts: 16, ports: 24 });

  it('flags a source probing many hosts outside its job within the window', () => {
    const probes = Array.from({ length: 20 }, (_, i) => flow(front(7), front(33 + i), 22, T0 + i * SEC, { tcp_flags: SYN, bytes: 60 }));
    const out = judge([scan()], ALLOCS, probes);
    expect(out).toHaveLength(5); // the 16th to the 20th host
    expect(out[0]).toMatchObject({ key: ['gpu007'], summary: 'gpu007 (job 88213) contacted 16 hosts outside its job within 60 s' });
  });

  it('flags many ports of one host', () => {
    const out = judge([scan()], ALLOCS, Array.from({ length: 30 }, (_, i) => flow(front(7), front(40), 1000 + i, T0 + i * 100, { tcp_flags: SYN })));
    expect(out[0]).toMatchObject({ key: ['gpu007'], entities: { dst_node: 'gpu040' } });
  });

  it('does not count its own job (all-to-all), shared services it uses, nor a slow trickle outside the window', () => {
    const allToAll = Array.from({ length: 15 }, (_, i) => roce(1, 2 + i, T0 + i * 100));
    const services = [STOR01, '10.40.0.12', '10.40.0.13', '10.40.0.14', DNS01, '10.245.0.54', PROXY, VAULT01]
      .map((d, i) => flow(front(1), d, 988, T0 + i * 100));
    const slow = Array.from({ length: 20 }, (_, i) => flow(front(7), front(33 + i), 22, T0 + i * 5 * SEC, { tcp_flags: SYN }));
    expect(judge([scan()], ALLOCS, [...allToAll, ...services])).toEqual([]);
    expect(judge([new Scan({ windowMs: 30 * SEC, hosts: 16, ports: 24 })], ALLOCS, slow)).toEqual([]);
    expect(judge([scan()], ALLOCS, Array.from({ length: 30 }, (_, i) => flow(MONITORING, front(1 + i), 9100, T0 + i * 100)))).toEqual([]);
    // A gateway fanning out to its model servers on the port the allow list names for it.
    expect(judge([scan()], ALLOCS, Array.from({ length: 30 }, (_, i) => flow('10.10.0.20', `10.20.128.${1 + i}`, 8000, T0 + i * 100)))).toEqual([]);
  });
});

describe('topology-mismatch', () => {
  const topo = () => new TopologyMismatch({ learnMs: 2 * MIN, minFlows: 2 });
  /** Job A's ring over gpu001-016 on rails 0 and 1, one record a minute per edge for `minutes`. */
  const ring = (from: number, minutes: number) => Array.from({ length: minutes }, (_, m) => Array.from({ length: 16 }, (_, i) =>
    [0, 1].map((r) => roce(1 + i, 1 + ((i + 1) % 16), from + m * MIN + i * 100, r)))).flat(3);

  it('learns the ring in the first minutes and then stays quiet on it, checkpoints and all', () => {
    const checkpoint = Array.from({ length: 16 }, (_, i) => flow(front(1 + i), STOR01, 988, T0 + 5 * MIN, { bytes: 1e10 }));
    expect(judge([topo()], ALLOCS, [...ring(T0, 10), ...checkpoint])).toEqual([]);
  });

  it('flags a member sending to a member that is not its ring neighbour, once it has records enough', () => {
    const out = judge([topo()], ALLOCS, [...ring(T0, 3), roce(5, 12, T0 + 4 * MIN), roce(5, 12, T0 + 4 * MIN + 10 * SEC)]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      key: ['88213', 'gpu005', 'edge'], details: { expected_peers: ['gpu006'] },
      summary: 'gpu005 sent back-end traffic to gpu012, not one of its collective peers in job 88213',
    });
  });

  it('flags a rail crossing at once, and an outsider joining the collective', () => {
    const out = judge([topo()], ALLOCS, [...ring(T0, 3), roce(5, 6, T0 + 4 * MIN, 2, 3), roce(40, 3, T0 + 4 * MIN), roce(40, 3, T0 + 4 * MIN + SEC)]);
    expect(out.map((f) => f.key)).toEqual([['88213', 'gpu005', 'rail-crossing'], ['88213', 'gpu040', 'edge']]);
    expect(out[0]!.summary).toBe('gpu005 sent from rail 2 to rail 3 of gpu006 in job 88213: rails should stay aligned');
  });

  it('learns each member from its own first flows: partitions judged side by side are minutes apart', () => {
    // gpu001-008's partitions judged up to minute 1, gpu009-016's only from minute 5 (they lag, or the allocation
    // reached them late): the later members' ring edges are still learned, not reported.
    const early = Array.from({ length: 8 }, (_, i) => roce(1 + i, 2 + i, T0 + 30 * SEC));
    const late = [0, 1, 2].flatMap((m) => Array.from({ length: 8 }, (_, i) => roce(9 + i, 1 + ((9 + i) % 16), T0 + (5 + m) * MIN)));
    expect(judge([topo()], ALLOCS, [...early, ...late])).toEqual([]);
  });

  it('learns the next job of a reused node afresh', () => {
    const C = job('88216', 1, 4, T0 + 61 * MIN);
    const cRing = Array.from({ length: 4 }, (_, m) => [1, 2, 3, 4].map((n) => roce(n, 1 + (n % 4), T0 + 61 * MIN + m * MIN + 2 * SEC))).flat();
    expect(judge([topo()], [...ALLOCS, ...C], [...ring(T0, 3), ...cRing])).toEqual([]);
  });

  it('never keys on the RoCEv2 source port (an entropy hash)', () => {
    const ports = Array.from({ length: 20 }, (_, i) => roce(1, 2, T0 + 3 * MIN + i * SEC, 0, 0, { src_port: 49_152 + i * 777 }));
    expect(judge([topo()], ALLOCS, [...ring(T0, 3), ...ports])).toEqual([]);
  });


});

describe('switch samples of a DPU-covered node', () => {
  const dpu = (t: number) => flow(front(1), front(2), 22, t, { src_node: 'gpu001', time_received: t });
  const sampled = (t: number) => flow(front(1), front(2), 22, t, { src_node: 'gpu001', time_received: t, observation_point: 'switch', source_kind: 'sflow' });

  it('are left out while the DPU exports, judged again once it has been silent for longer than DPU_SILENCE_MS', () => {
    const c = new DpuCoverage();
    expect(c.covered(sampled(T0))).toBe(false); // no DPU heard of yet
    expect(c.covered(dpu(T0))).toBe(false);
    expect(c.covered(sampled(T0 + MIN))).toBe(true);
    expect(c.covered(sampled(T0 + DPU_SILENCE_MS))).toBe(true);
    expect(c.covered(sampled(T0 + DPU_SILENCE_MS + 1))).toBe(false); // the DPU fell silent
    expect(c.covered(dpu(T0 + 10 * MIN))).toBe(false);
    expect(c.covered(sampled(T0 + 11 * MIN))).toBe(true);
  });

  it('are judged for a node without a DPU, and by arrival: a sample stamped hours ahead (a replay) still counts as covered', () => {
    const c = new DpuCoverage();
    c.covered(dpu(T0));
    expect(c.covered(flow(front(3), front(2), 22, T0, { src_node: 'gpu003', observation_point: 'switch', source_kind: 'sflow' }))).toBe(false);
    expect(c.covered({ ...sampled(T0 + 60 * MIN), time_received: T0 + SEC })).toBe(true);
  });
});
