/**
 * The enrichment stage, between the collectors and Kafka: for each end of a flow, the zone of its address,
 * the node, fabric and rail that own it, and the job (and pod) that held it at the flow's time. Pods and
 * namespaces Hubble reported are kept; otherwise the pod comes from the allocations' pod address map.
 */
import type { Flow } from '../core/flow';
import type { AllocationTimeline } from '../allocations/timeline';
import type { Inventory } from '../inventory/inventory';

type Side = 'src' | 'dst';

export class Enricher {
  /** `inventory` is read once per flow: a reload swaps it between flows, never inside one. */
  constructor(
    private readonly inventory: () => Inventory | undefined,
    private readonly timeline: AllocationTimeline,
  ) {}

  enrich(flow: Flow): Flow {
    const inv = this.inventory();
    this.side(flow, 'src', flow.src_addr, inv);
    this.side(flow, 'dst', flow.dst_addr, inv);
    return flow;
  }

  private side(f: Flow, side: Side, addr: string, inv: Inventory | undefined): void {
    const t = f.time_start;
    const pod = this.timeline.podAt(addr, t);
    if (inv) {
      f[`${side}_zone`] = inv.zoneOf(addr);
      const owner = inv.endpointOf(addr);
      if (owner) {
        f[`${side}_node`] = owner.node;
        f[`${side}_fabric`] = owner.fabric;
        if (owner.rail !== undefined) f[`${side}_rail`] = owner.rail;
      }
    }
    if (pod) {
      f[`${side}_pod`] ??= pod.pod;
      f[`${side}_node`] ??= pod.node;
      f[`${side}_job`] = pod.job;
      return;
    }
    const node = f[`${side}_node`];
    const held = node === undefined ? undefined : this.timeline.nodeAt(node, t);
    if (held) f[`${side}_job`] = held.job;
  }
}
