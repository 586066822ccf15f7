/**
 * zone-violation: a flow the inventory's zone matrix does not allow: between two zones no allow rule lists, or
 * out to the default zone (the internet) from anything but an egress proxy. Critical when it goes out, into a
 * sensitive zone, or onto the out-of-band network (BMCs: the path to firmware). Replies of an allowed connection
 * (the reverse direction is allowed on the source port) are not violations. One episode per source, destination
 * zone and service; probes (a bare SYN: a scan) one per source and destination zone, whatever their ports.
 */
import { forwarded, nameOf, serviceName } from './context';
import type { Judged, StreamingDetector } from './detector';
import { Finding, flowKey, scaledBytes } from './finding';
import { sourceInitiated } from './initiator';
import { isProbe } from './scan';
import { whereOf } from './sql';

export class ZoneViolation implements StreamingDetector {
  readonly name = 'zone-violation' as const;

  judge({ flow, src, dst, inv }: Judged, out: Finding[]): void {
    if (flow.source_kind === 'proxy' || !forwarded(flow) || src.zone === dst.zone) return;
    if (!sourceInitiated(flow) && inv.allows(dst.zone, src.zone, flow.protocol, flow.src_port)) return;
    const egress = dst.zone === inv.defaultZone;
    const allowed = inv.allows(src.zone, dst.zone, flow.protocol, flow.dst_port) && (!egress || inv.isProxy(flow.src_addr));
    if (allowed) return;
    const service = serviceName(flow.protocol, flow.dst_port);
    const source = src.node ?? src.addr;
    // Probes (a scan) make one episode per zone they reach, not one per port.
    const probe = isProbe(flow);
    const why = egress ? 'egress that does not go through the proxy' : `${src.zone} to ${dst.zone} is not allowed`;
    out.push({
      detector: this.name,
      severity: egress || dst.oob || inv.sensitiveZones.has(dst.zone) ? 'critical' : 'warning',
      key: [source, dst.zone, probe ? 'probes' : service],
      time: flow.time_end, first: flow.time_start, last: flow.time_end, flows: 1, bytes: scaledBytes(flow), counts: 'increment',
      summary: `${nameOf(src)} (${src.zone}) ${probe ? 'probed' : 'sent'} ${service} ${probe ? 'of' : 'to'} ${nameOf(dst)} (${dst.zone}): ${why}`,
      entities: {
        src_addr: src.addr, dst_addr: dst.addr, src_zone: src.zone, dst_zone: dst.zone, dst_port: flow.dst_port, protocol: flow.protocol,
        ...(src.node ? { src_node: src.node } : {}), ...(dst.node ? { dst_node: dst.node } : {}), ...(src.pod ? { src_pod: src.pod } : {}),
        ...(src.jobs[0] ? { src_job: src.jobs[0] } : {}),
      },
      flow: flowKey(flow), received: flow.time_received,
      details: { rule: why },
      where: whereOf({ src_addr: src.addr, dst_zone: dst.zone, protocol: flow.protocol, dst_port: flow.dst_port }),
    });
  }
}
