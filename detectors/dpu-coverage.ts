/**
 * Which switch samples to leave out. A node whose DPU exports what it sends is sampled again by its leaf switch
 * (sFlow), stamped on arrival rather than when it happened (in a replay or a backfill, the wrong time): judged
 * too, it would count a flow twice and at the wrong time. Should the DPU fall silent (a failure, or an attacker's
 * doing), the switch's samples are judged again. Arrival times are compared: the one clock both sources share.
 */
import type { Flow } from '../core/flow';

/** Nodes remembered, at most (src_node comes from the inventory, not from the packet). */
const MAX_NODES = 100_000;
/** A DPU counts as exporting for this long after its last flow arrived. */
export const DPU_SILENCE_MS = 5 * 60_000;

export class DpuCoverage {
  /** Node -> arrival of its DPU's last flow. */
  private readonly lastDpuFlow = new Map<string, number>();

  /** Whether `flow` is a switch's sample of what its source's DPU exports already; notes the DPUs' own flows. */
  covered(flow: Flow): boolean {
    const node = flow.src_node;
    if (node === undefined) return false;
    if (flow.observation_point === 'dpu') {
      const last = this.lastDpuFlow.get(node);
      if (last !== undefined || this.lastDpuFlow.size < MAX_NODES) this.lastDpuFlow.set(node, Math.max(flow.time_received, last ?? 0));
      return false;
    }
    if (flow.observation_point !== 'switch') return false;
    const last = this.lastDpuFlow.get(node);
    return last !== undefined && flow.time_received - last <= DPU_SILENCE_MS;
  }
}
