import { decodeFlows, derivedWireSchema, encodeFlows, MAGIC, WIRE_SCHEMAS, WIRE_VERSION, WireError } from '../../core/codec';
import { FlowSchema } from '../../core/flow';
import { fullFlow } from '../fixtures';
import { SyntheticCluster } from '../../ingest/synthetic';

describe('wire codec', () => {
  it('round-trips flows exactly (encode then decode equals the input)', () => {
    const gen = new SyntheticCluster({ seed: 1 });
    const flows = [fullFlow, ...gen.batch(500), ...SyntheticCluster.INCIDENTS.map((i) => gen.incident(i))];
    for (const f of flows) expect(FlowSchema.parse(f)).toEqual(f);
    const decoded = decodeFlows(encodeFlows(flows));
    expect(decoded).toEqual(flows);
    expect(decoded[0]).toEqual(fullFlow);
  });

  it('is compact and versioned', () => {
    const buf = encodeFlows(new SyntheticCluster({ seed: 2 }).batch(256));
    expect(buf[0]).toBe(MAGIC);
    expect(buf[1]).toBe(WIRE_VERSION);
    expect(buf.length / 256).toBeLessThan(200);
  });

  it('keeps the released wire schema frozen: a Flow change needs a new version', () => {
    expect(WIRE_SCHEMAS[WIRE_VERSION]).toEqual(derivedWireSchema());
  });

  it('rejects bad messages with a reason', () => {
    const good = encodeFlows([fullFlow]);
    expect(() => decodeFlows(Buffer.from([MAGIC]))).toThrow(new WireError('message of 1 bytes is shorter than the header'));
    expect(() => decodeFlows(Buffer.from('{"json":true}'))).toThrow(/bad magic 0x7b/);
    const future = Buffer.from(good);
    future[1] = 99;
    expect(() => decodeFlows(future)).toThrow(/unknown wire schema version 99/);
    expect(() => decodeFlows(good.subarray(0, good.length - 20))).toThrow(/undecodable Avro body/);
  });
});
