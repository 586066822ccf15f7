/**
 * Hand-built flows and allocations on the example 64-node cluster for the detector tests: gpuNNN's front end
 * is 10.30.1.N, its rail r 10.200.r.N, its BMC 10.250.1.N; stor01 10.40.0.11, dns01 10.245.0.53, the proxy
 * 10.10.0.10, vault01 10.50.0.11, the monitoring server (cp03) 10.240.0.13.
 */
import type { Flow } from '../core/flow';
import type { Allocation } from '../core/records';
import { AllocationTimeline } from '../allocations/timeline';
import { sidesOf } from '../detectors/context';
import type { StreamingDetector } from '../detectors/detector';
import type { Finding } from '../detectors/finding';
import { loadExampleInventory } from '../inventory/example';

export const T0 = Date.parse('2025-06-02T09:00:00Z');
export const SEC = 1000;
export const MIN = 60_000;

export const front = (n: number) => `10.30.1.${n}`;
export const rail = (n: number, r: number) => `10.200.${r}.${n}`;
export const bmc = (n: number) => `10.250.1.${n}`;
export const STOR01 = '10.40.0.11';
export const DNS01 = '10.245.0.53';
export const PROXY = '10.10.0.10';
export const VAULT01 = '10.50.0.11';
export const MONITORING = '10.240.0.13';
export const gpu = (n: number) => `gpu${String(n).padStart(3, '0')}`;

export const TCP = 6;
export const UDP = 17;
export const SYN = 0x02;
export const WHOLE = 0x1b; // FIN SYN PSH ACK

/** A forwarded DPU flow ending at `t`, 1 s long; anything can be overridden. */
export function flow(src: string, dst: string, dstPort: number, t: number, o: Partial<Flow> = {}): Flow {
  return {
    time_received: t + 500, time_start: t - SEC, time_end: t, source_kind: 'ipfix', exporter_address: '127.0.0.1', observation_domain: 1,
    observation_point: 'dpu', src_addr: src, dst_addr: dst, src_port: 40_000, dst_port: dstPort, protocol: TCP,
    bytes: 10_000, packets: 10, tcp_flags: WHOLE, sampling_rate: 1, direction: 'egress', ...o,
  };
}

/** RoCEv2 from rail `r` of node a to rail `r2` (default r) of node b. */
export const roce = (a: number, b: number, t: number, r = 0, r2 = r, o: Partial<Flow> = {}) =>
  flow(rail(a, r), rail(b, r2), 4791, t, { protocol: UDP, src_port: 49_152 + ((a * 131 + b * 7 + t) % 16_000), tcp_flags: 0, bytes: 5e8, ...o });

/** Job `id` holds gpu[from..to] from `start` to `end` (open when undefined). */
export function job(id: string, from: number, to: number, start: number, end?: number): Allocation[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    job_id: id, node: gpu(from + i), start, ...(end !== undefined ? { end } : {}), pattern: 'ring' as const, source: 'test', updated_at: end ?? start,
  }));
}

/** Runs flows through detectors in order with the example inventory and these allocations. */
export function judge(detectors: StreamingDetector[], allocations: Allocation[], flows: Flow[], graceMs = 15 * SEC): Finding[] {
  const inv = loadExampleInventory();
  const timeline = new AllocationTimeline();
  timeline.apply(allocations);
  const out: Finding[] = [];
  for (const f of flows) {
    const [src, dst] = sidesOf(inv, timeline, f, graceMs);
    for (const d of detectors) d.judge({ flow: f, src, dst, inv }, out);
  }
  return out;
}
