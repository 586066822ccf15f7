/**
 * outside-allocation: a node or pod of a running job exchanges traffic with a node or pod that is neither in its
 * allocation nor a shared service the inventory names. Both ends are judged at the flow's own time with the
 * job grace around starts and ends; the blame goes to the end that opened the connection. One episode per
 * (job, offending node): a node of job J reaching out is (J, node); a node outside J reaching in is (J, node).
 */
import { forwarded, jobNote, nameOf, serviceName, Side } from './context';
import type { Judged, StreamingDetector } from './detector';
import { Finding, flowKey, scaledBytes } from './finding';
import { sourceInitiated } from './initiator';
import { sqlString, whereOf } from './sql';

/** An end the detector can judge: a node of the inventory or a pod, not a shared service. */
const judgeable = (s: Side) => (s.node !== undefined || s.pod !== undefined) && s.service === undefined;

export class OutsideAllocation implements StreamingDetector {
  readonly name = 'outside-allocation' as const;

  judge({ flow, src, dst }: Judged, out: Finding[]): void {
    // Proxy log lines repeat the DPU's record of the same connection; a dropped attempt never reached.
    if (flow.source_kind === 'proxy' || !forwarded(flow)) return;
    if (!judgeable(src) || !judgeable(dst) || (src.node !== undefined && src.node === dst.node)) return;
    if (src.jobs.some((j) => dst.jobs.includes(j))) return;
    const [from, to] = sourceInitiated(flow) ? [src, dst] : [dst, src];
    const port = from === src ? flow.dst_port : flow.src_port;
    const service = serviceName(flow.protocol, port);
    let job: string;
    let summary: string;
    if (from.jobs.length > 0) {
      job = from.jobs[0]!;
      summary = `${nameOf(from)}${jobNote(from)} opened ${service} to ${nameOf(to)}${jobNote(to)}, outside its allocation`;
    } else if (to.jobs.length > 0) {
      job = to.jobs[0]!;
      summary = `${nameOf(from)}, outside job ${job}, opened ${service} to ${nameOf(to)}${jobNote(to)}`;
    } else {
      return; // neither end in a job: nothing to hold them to
    }
    const offender = from.node ?? from.addr;
    out.push({
      detector: this.name, severity: 'critical', key: [job, offender], time: flow.time_end, first: flow.time_start, last: flow.time_end,
      flows: 1, bytes: scaledBytes(flow), counts: 'increment', summary,
      entities: {
        src_addr: from.addr, dst_addr: to.addr, src_zone: from.zone, dst_zone: to.zone, dst_port: port, protocol: flow.protocol,
        ...(from.node ? { src_node: from.node } : {}), ...(to.node ? { dst_node: to.node } : {}),
        ...(from.pod ? { src_pod: from.pod } : {}),
        ...(from.jobs[0] ? { src_job: from.jobs[0] } : {}), ...(to.jobs[0] ? { dst_job: to.jobs[0] } : {}),
      },
      flow: flowKey(flow), received: flow.time_received,
      details: { peer: nameOf(to) },
      where: from.node ? `(src_node = ${sqlString(from.node)} OR dst_node = ${sqlString(from.node)})` : whereOf({ src_addr: from.addr }),
    });
  }
}
