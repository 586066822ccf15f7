/**
 * Egress as Prometheus series: bytes sent out of the cluster per source zone and Kubernetes namespace, counted
 * as the streaming detectors judge each flow (what egress-spike reads from the rollups: requests through the
 * proxy, and traffic straight to the default zone from anything but a proxy). With the baseline gauge the
 * windowed stage sets, the seed's TrainingDataEgressVolumeSpike runs on eastwatch's own series.
 */
import type { Flow } from '../core/flow';
import type { Inventory } from '../inventory/inventory';
import type { Side } from './context';
import { scaledBytes } from './finding';
import { egressBytes } from './metrics';

/** Namespaces with their own series, at most (they come from Hubble and Kubernetes); the rest count as "other". */
export const MAX_NAMESPACES = 100;

export class EgressMeter {
  private readonly namespaces = new Set<string>();

  count(flow: Flow, src: Side, dst: Side, inv: Inventory): void {
    const egress = flow.source_kind === 'proxy' || (dst.zone === inv.defaultZone && dst.node === undefined && !inv.isProxy(src.addr));
    if (!egress) return;
    egressBytes.inc({ zone: src.zone, namespace: this.namespace(flow.src_namespace) }, scaledBytes(flow));
  }

  private namespace(ns: string | undefined): string {
    if (ns === undefined || this.namespaces.has(ns)) return ns ?? '';
    if (this.namespaces.size >= MAX_NAMESPACES) return 'other';
    this.namespaces.add(ns);
    return ns;
  }
}
