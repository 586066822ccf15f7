/**
 * policy-denied: Hubble drops with POLICY_DENIED or POLICY_DENY, and requests the egress proxy refused (the
 * seed's TrainingPodUnexpectedEgress, on flows rather than on Hubble's counters, so the alert names the pod
 * and the destination). One episode per source and destination.
 */
import { nameOf } from './context';
import type { Judged, StreamingDetector } from './detector';
import { Finding, flowKey } from './finding';
import { whereOf } from './sql';

const POLICY_REASONS = new Set(['POLICY_DENIED', 'POLICY_DENY']);

export class PolicyDenied implements StreamingDetector {
  readonly name = 'policy-denied' as const;

  judge({ flow, src, dst }: Judged, out: Finding[]): void {
    const dropped = flow.verdict === 'DROPPED' && POLICY_REASONS.has(flow.drop_reason ?? '');
    const refused = flow.verdict === 'DENIED';
    if (!dropped && !refused) return;
    const destination = refused && flow.proxy_host ? flow.proxy_host : `${dst.addr}:${flow.dst_port}`;
    const source = src.pod ?? src.node ?? src.addr;
    out.push({
      detector: this.name, severity: 'warning', key: [source, destination], time: flow.time_end, first: flow.time_start, last: flow.time_end,
      flows: 1, bytes: 0, counts: 'increment',
      summary: `${nameOf(src)}${src.jobs[0] ? ` (job ${src.jobs[0]})` : ''} tried ${destination}: ${refused ? 'the egress proxy refused it' : `dropped by network policy (${flow.drop_reason})`}`,
      entities: {
        src_addr: src.addr, dst_addr: dst.addr, src_zone: src.zone, dst_zone: dst.zone, dst_port: flow.dst_port, protocol: flow.protocol,
        ...(src.node ? { src_node: src.node } : {}), ...(src.pod ? { src_pod: src.pod } : {}), ...(src.jobs[0] ? { src_job: src.jobs[0] } : {}),
        ...(dst.node ? { dst_node: dst.node } : {}),
      },
      flow: flowKey(flow), received: flow.time_received,
      details: { destination, namespace: flow.src_namespace },
      where: `${whereOf({ src_addr: src.addr })} AND verdict IN ('DROPPED', 'DENIED')`,
    });
  }
}
