/**
 * The enrichment stage, between the collectors and Kafka: for each end of a flow, the zone of its address,
 * the node, fabric and rail that own it, and the job (and pod) that held it at the flow's time. Pods and
 * nodes Hubble reported are kept; otherwise the pod comes from the allocations' pod address map.
 *
 * Hot path (every flow, both ends): lookups fill one reused scratch object and the flow's fields are assigned
 * by their literal names, which keeps V8's property stores monomorphic (computed `${side}_zone` keys cost
 * more than all the lookups together; bench/enrich.ts).
 */
import type { Flow } from '../core/flow';
import type { AllocationTimeline } from '../allocations/timeline';
import type { Inventory } from '../inventory/inventory';

interface SideInfo {
  zone: string | undefined;
  node: string | undefined;
  fabric: string | undefined;
  rail: number | undefined;
  pod: string | undefined;
  job: string | undefined;
}

export class Enricher {
  private readonly s: SideInfo = { zone: undefined, node: undefined, fabric: undefined, rail: undefined, pod: undefined, job: undefined };

  /** `inventory` is read once per flow: a reload swaps it between flows, never inside one. */
  constructor(
    private readonly inventory: () => Inventory | undefined,
    private readonly timeline: AllocationTimeline,
  ) {}

  enrich(f: Flow): Flow {
    const inv = this.inventory();
    const s = this.s;
    this.lookup(f.src_addr, f.src_node, f.time_start, inv);
    if (s.zone !== undefined) f.src_zone = s.zone;
    if (s.node !== undefined) f.src_node = s.node;
    if (s.fabric !== undefined) f.src_fabric = s.fabric;
    if (s.rail !== undefined) f.src_rail = s.rail;
    if (s.pod !== undefined) f.src_pod ??= s.pod;
    if (s.job !== undefined) f.src_job = s.job;
    this.lookup(f.dst_addr, f.dst_node, f.time_start, inv);
    if (s.zone !== undefined) f.dst_zone = s.zone;
    if (s.node !== undefined) f.dst_node = s.node;
    if (s.fabric !== undefined) f.dst_fabric = s.fabric;
    if (s.rail !== undefined) f.dst_rail = s.rail;
    if (s.pod !== undefined) f.dst_pod ??= s.pod;
    if (s.job !== undefined) f.dst_job = s.job;
    return f;
  }

  /** Fills the scratch object for one address; `node` is what the source already said (Hubble). */
  private lookup(addr: string, node: string | undefined, t: number, inv: Inventory | undefined): void {
    const s = this.s;
    const owner = inv?.endpointOf(addr);
    s.zone = inv?.zoneOf(addr);
    s.node = owner?.node ?? node;
    s.fabric = owner?.fabric;
    s.rail = owner?.rail;
    const pod = this.timeline.podAt(addr, t);
    if (pod) {
      s.node ??= pod.node;
      s.pod = pod.pod;
      s.job = pod.job;
      return;
    }
    s.pod = undefined;
    s.job = s.node === undefined ? undefined : this.timeline.nodeAt(s.node, t)?.job;
  }
}
