import * as path from 'node:path';
import { decodeAllocationEvent, eventRows } from '../../allocations/stream';
import { AllocationTimeline } from '../../allocations/timeline';
import { FlowSchema, type Flow } from '../../core/flow';
import { Enricher } from '../../enrich/enricher';
import { loadInventory, parseInventory } from '../../inventory/holder';
import type { Inventory } from '../../inventory/inventory';

const at = (hhmm: string) => Date.parse(`2025-11-24T${hhmm}:00Z`);
const example = loadInventory(path.join(__dirname, '../../inventory/example-64-nodes.yaml'));

const K8S_JOB = 'ai-training/trainer-88214';
const OTHER_K8S_JOB = 'ai-bench/nccl-alltoall';

function timeline(): AllocationTimeline {
  const t = new AllocationTimeline();
  const event = (e: unknown) => eventRows(decodeAllocationEvent(Buffer.from(JSON.stringify(e))));
  // Slurm job 88213 on gpu[001-016], 09:00-14:30: the start event, then the end event.
  t.apply(event({ job_id: '88213', nodes: 'gpu[001-016]', start: '2025-11-24T09:00:00Z', pattern: 'ring', source: 'slurm' }));
  t.apply(event({ job_id: '88213', nodes: 'gpu[001-016]', start: '2025-11-24T09:00:00Z', end: '2025-11-24T14:30:00Z', pattern: 'ring', source: 'slurm' }));
  // A Kubernetes job's pods: one on gpu017 (no node-level allocation), one on gpu005 (which job 88213 holds).
  t.apply(event({
    job_id: K8S_JOB, start: '2025-11-24T09:30:00Z', source: 'kubernetes',
    pods: [{ name: 'trainer-88214-worker-3', node: 'gpu017', ip: '10.244.3.17' }, { name: 'trainer-88214-worker-4', node: 'gpu018' }],
  }));
  t.apply(event({
    job_id: OTHER_K8S_JOB, start: '2025-11-24T09:30:00Z', source: 'kubernetes',
    pods: [{ name: 'nccl-alltoall-worker-0', node: 'gpu005', ip: 'fd00:10:244:5::9' }],
  }));
  return t;
}

/** An IPFIX record from a DPU, as the decoder leaves it: no enrichment fields. */
function ipfix(src_addr: string, dst_addr: string, time: number, extra: Partial<Flow> = {}): Flow {
  return FlowSchema.parse({
    time_received: time + 30_000, time_start: time, time_end: time + 10_000,
    source_kind: 'ipfix', exporter_address: '10.250.5.5', observation_domain: 1, observation_point: 'dpu',
    src_addr, dst_addr, src_port: 49152, dst_port: 4791, protocol: 17,
    bytes: 1_000_000_000, packets: 250_000, tcp_flags: 0, sampling_rate: 1, direction: 'egress',
    ...extra,
  });
}

/** What Hubble reports for a pod's flow: pod and namespace already set. */
function hubble(src_addr: string, dst_addr: string, time: number): Flow {
  return ipfix(src_addr, dst_addr, time, {
    source_kind: 'hubble', observation_point: 'hubble', exporter_address: '10.30.1.17', dst_port: 2049, protocol: 6,
    bytes: null, packets: null, src_namespace: 'ai-training', src_pod: 'trainer-88214-worker-3-hubble', verdict: 'FORWARDED',
  });
}

const rail3 = (n: number) => ({ fabric: 'backend', rail: 3, zone: 'training', node: `gpu${String(n).padStart(3, '0')}` });
const sides = (src: Record<string, unknown>, dst: Record<string, unknown>) => ({
  ...Object.fromEntries(Object.entries(src).map(([k, v]) => [`src_${k}`, v])),
  ...Object.fromEntries(Object.entries(dst).map(([k, v]) => [`dst_${k}`, v])),
});

describe('Enricher with the example inventory', () => {
  const enricher = new Enricher(() => example, timeline());
  /** Enriches a copy and checks the result is still a valid Flow. */
  const enrich = (f: Flow): Flow => {
    const out = enricher.enrich(structuredClone(f));
    expect(FlowSchema.parse(out)).toStrictEqual(out);
    return out;
  };

  it('adds node, fabric, rail, zone and the job to a rail-3 flow inside the job', () => {
    const f = ipfix('10.200.3.5', '10.200.3.9', at('10:00'));
    expect(enrich(f)).toStrictEqual({
      ...f,
      ...sides({ ...rail3(5), job: '88213' }, { ...rail3(9), job: '88213' }),
    });
    // IPv4-mapped addresses (as ClickHouse prints them) are the same addresses.
    const mapped = ipfix('::ffff:10.200.3.5', '::ffff:10.200.3.9', at('10:00'));
    expect(enrich(mapped)).toStrictEqual({ ...mapped, ...sides({ ...rail3(5), job: '88213' }, { ...rail3(9), job: '88213' }) });
  });

  it('gives no job outside the allocation', () => {
    const late = ipfix('10.200.3.5', '10.200.3.9', at('15:00'));
    expect(enrich(late)).toStrictEqual({ ...late, ...sides(rail3(5), rail3(9)) });
    const boundary = ipfix('10.200.3.5', '10.200.3.9', at('14:30'));
    expect(enrich(boundary)).toStrictEqual({ ...boundary, ...sides(rail3(5), rail3(9)) });
    const early = ipfix('10.200.3.5', '10.200.3.9', at('08:59'));
    expect(enrich(early)).toStrictEqual({ ...early, ...sides(rail3(5), rail3(9)) });
    // gpu017 is not in the job.
    const other = ipfix('10.200.3.5', '10.200.3.17', at('10:00'));
    expect(enrich(other)).toStrictEqual({ ...other, ...sides({ ...rail3(5), job: '88213' }, rail3(17)) });
  });

  it('sees a BMC address as the out-of-band fabric of its node', () => {
    const f = ipfix('10.30.1.5', '10.250.1.5', at('10:00'), { protocol: 17, dst_port: 623 });
    expect(enrich(f)).toStrictEqual({
      ...f,
      ...sides(
        { zone: 'training', node: 'gpu005', fabric: 'frontend', job: '88213' },
        { zone: 'bmc', node: 'gpu005', fabric: 'oob', job: '88213' },
      ),
    });
    // A DPU's own management port is the DPU's, which no job holds.
    const dpu = ipfix('10.240.0.5', '10.250.5.5', at('10:00'), { protocol: 6, dst_port: 22 });
    expect(enrich(dpu)).toStrictEqual({
      ...dpu,
      ...sides({ zone: 'management', node: 'jump01', fabric: 'frontend' }, { zone: 'bmc', node: 'gpu005-dpu', fabric: 'oob' }),
    });
  });

  it('finds the pod by its address, keeping what Hubble already said', () => {
    // Hubble set src_pod and src_namespace: they stay; the node and job come from the pod map.
    // The pod network 10.244.0.0/16 is part of the training zone in the example.
    const h = hubble('10.244.3.17', '10.40.0.11', at('10:00'));
    expect(enrich(h)).toStrictEqual({
      ...h,
      src_namespace: 'ai-training',
      src_pod: 'trainer-88214-worker-3-hubble',
      src_node: 'gpu017',
      src_job: K8S_JOB,
      src_zone: 'training',
      dst_zone: 'storage',
      dst_node: 'stor01',
      dst_fabric: 'frontend',
    });
    // An IPFIX record of the same traffic carries no pod: it gets the pod's name too.
    const f = ipfix('10.244.3.17', '10.40.0.11', at('10:00'), { protocol: 6, dst_port: 2049 });
    expect(enrich(f)).toStrictEqual({
      ...f,
      src_pod: 'trainer-88214-worker-3',
      src_node: 'gpu017',
      src_job: K8S_JOB,
      src_zone: 'training',
      dst_zone: 'storage',
      dst_node: 'stor01',
      dst_fabric: 'frontend',
    });
    // Before the pod existed: nothing about it.
    const before = ipfix('10.244.3.17', '10.40.0.11', at('09:00'));
    expect(enrich(before)).toStrictEqual({ ...before, src_zone: 'training', dst_zone: 'storage', dst_node: 'stor01', dst_fabric: 'frontend' });
  });

  it('takes the pod\'s job over the job holding the pod\'s node', () => {
    const f = ipfix('fd00:10:244:5:0:0:0:9', '10.200.3.9', at('10:00'));
    expect(enrich(f)).toStrictEqual({
      ...f,
      ...sides(
        { zone: 'training', node: 'gpu005', pod: 'nccl-alltoall-worker-0', job: OTHER_K8S_JOB },
        { ...rail3(9), job: '88213' },
      ),
    });
  });

  it('puts an internet address in the internet zone, with no node', () => {
    const f = ipfix('10.10.0.10', '8.8.8.8', at('10:00'), { protocol: 6, dst_port: 443 });
    expect(enrich(f)).toStrictEqual({
      ...f,
      ...sides({ zone: 'dmz', node: 'proxy01', fabric: 'frontend' }, { zone: 'internet' }),
    });
  });

  it('returns the flow it was given, enriched in place', () => {
    const f = ipfix('10.200.3.5', '8.8.8.8', at('10:00'));
    expect(enricher.enrich(f)).toBe(f);
    expect(f.src_node).toBe('gpu005');
  });
});

describe('Enricher without an inventory', () => {
  const enricher = new Enricher(() => undefined, timeline());

  it('leaves zones unset but still finds pods and their jobs', () => {
    const f = ipfix('10.244.3.17', '10.200.3.9', at('10:00'));
    expect(enricher.enrich(structuredClone(f))).toStrictEqual({
      ...f, src_pod: 'trainer-88214-worker-3', src_node: 'gpu017', src_job: K8S_JOB,
    });
    const h = hubble('10.244.3.17', '8.8.8.8', at('10:00'));
    expect(enricher.enrich(structuredClone(h))).toStrictEqual({ ...h, src_node: 'gpu017', src_job: K8S_JOB });
  });

  it('knows no node from an address, but finds the job of a node the flow names', () => {
    const f = ipfix('10.200.3.5', '10.200.3.9', at('10:00'));
    expect(enricher.enrich(structuredClone(f))).toStrictEqual(f);
    const named = ipfix('10.200.3.5', '10.200.3.9', at('10:00'), { src_node: 'gpu005' });
    expect(enricher.enrich(structuredClone(named))).toStrictEqual({ ...named, src_job: '88213' });
  });
});

describe('Enricher across an inventory reload', () => {
  it('reads the inventory once per flow, so the next flow sees the new one', () => {
    let current: Inventory | undefined = example;
    const enricher = new Enricher(() => current, new AllocationTimeline());
    const f = () => ipfix('10.200.3.5', '10.60.0.1', at('10:00'));
    expect(enricher.enrich(f())).toStrictEqual({ ...f(), ...sides(rail3(5), { zone: 'internet' }) });
    current = parseInventory('zones: [{ name: lab, cidrs: [10.60.0.0/16] }]\ndefaultZone: outside\n');
    expect(enricher.enrich(f())).toStrictEqual({ ...f(), ...sides({ zone: 'outside' }, { zone: 'lab' }) });
    current = undefined;
    expect(enricher.enrich(f())).toStrictEqual(f());
  });
});
