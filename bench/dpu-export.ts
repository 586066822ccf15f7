/** IPFIX export packets as a DPU sends them, for the benchmarks: the DPU template and full data messages. */
import { FieldSpec, IE, ipfixMessage, set, templateRecord, u16, u32, u64, u8 } from '../ingest/ipfix/encoder';

/** What DPUs export: 5-tuple, counters, ms times, TCP flags, interfaces, VLAN, VNI (61 bytes a record). */
export const DPU_TEMPLATE: FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 4], [IE.flowStartMilliseconds, 8],
  [IE.flowEndMilliseconds, 8], [IE.tcpControlBits, 2], [IE.ingressInterface, 4], [IE.egressInterface, 4],
  [IE.vlanId, 2], [IE.layer2SegmentId, 8],
];

function record(i: number, now: number): Buffer {
  const node = i % 64;
  const rail = (i >> 6) % 8;
  return Buffer.concat([
    Buffer.from([10, 100 + rail, 0, 10 + node]), Buffer.from([10, 100 + rail, 0, 10 + ((node + 1 + (i % 63)) % 64)]),
    u16(49152 + (i % 16384)), u16(4791), u8(17), u64(4096 * (1000 + (i % 5000))), u32(1000 + (i % 5000)),
    u64(now - 30_000), u64(now - 1000), u16(0), u32(1 + rail), u32(9 + rail), u16(100 + rail), u64((1n << 56n) | BigInt(5000 + (i % 100))),
  ]);
}

export const templateMessage = (domain = 1): Buffer =>
  ipfixMessage({ domain, seq: 0, exportSec: Math.floor(Date.now() / 1000) }, set(2, templateRecord(256, DPU_TEMPLATE)));

/** Data messages of `perMessage` records (22 fill a 1400-byte datagram), with running sequence numbers. */
export function dataMessages(count: number, perMessage = 22, domain = 1, now = Date.now()): Buffer[] {
  const out: Buffer[] = [];
  for (let m = 0; m < count; m++) {
    const records = Array.from({ length: perMessage }, (_, i) => record(m * perMessage + i, now));
    out.push(ipfixMessage({ domain, seq: m * perMessage, exportSec: Math.floor(now / 1000) }, set(256, ...records)));
  }
  return out;
}
