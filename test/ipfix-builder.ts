/**
 * IPFIX and NetFlow v9 packets for the decoder tests: the exporter-side encoder (ingest/ipfix/encoder.ts), its
 * headers defaulting to fixed values so packets are reproducible and tests name only what they check.
 */
import * as encoder from '../ingest/ipfix/encoder';

export {
  type FieldSpec, IE, ipv4, ipv6, ntp, optionsTemplateRecord, set, templateRecord, u16, u32, u64, u8, v9OptionsTemplateRecord,
} from '../ingest/ipfix/encoder';

const EXPORT_SEC = 1_764_000_000;

export const ipfixMessage = (h: Partial<encoder.IpfixHeader>, ...sets: Buffer[]): Buffer =>
  encoder.ipfixMessage({ domain: h.domain ?? 1, seq: h.seq ?? 0, exportSec: h.exportSec ?? EXPORT_SEC }, ...sets);

/** `count` defaults to the number of flowsets: eastwatch's decoder does not read it. */
export const v9Packet = (h: Partial<encoder.V9Header>, ...flowsets: Buffer[]): Buffer =>
  encoder.v9Packet({
    sourceId: h.sourceId ?? 1, seq: h.seq ?? 0, exportSec: h.exportSec ?? EXPORT_SEC, uptimeMs: h.uptimeMs ?? 3_600_000, count: h.count ?? flowsets.length,
  }, ...flowsets);
