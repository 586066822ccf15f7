import { MAGIC, WireCodec, WireError } from '../../core/codec';
import { COUNTERS, FLOWS } from '../../core/streams';
import { Flow, FlowSchema } from '../../core/flow';
import flowV1 from '../../core/wire/flow.v1.json';
import { fullFlow } from '../fixtures';
import { SyntheticCluster } from '../../ingest/synthetic';
import { loadExampleInventory } from '../../inventory/example';

describe('wire codec', () => {
  it('round-trips flows exactly (encode then decode equals the input)', () => {
    const gen = new SyntheticCluster(loadExampleInventory(), { seed: 1 });
    const flows = [fullFlow, ...gen.batch(500), ...SyntheticCluster.INCIDENTS.map((i) => gen.incident(i))];
    for (const f of flows) expect(FlowSchema.parse(f)).toEqual(f);
    const decoded = FLOWS.codec.decode(FLOWS.codec.encode(flows));
    expect(decoded).toEqual(flows);
    expect(decoded[0]).toEqual(fullFlow);
  });

  it('is compact and versioned', () => {
    const buf = FLOWS.codec.encode(new SyntheticCluster(loadExampleInventory(), { seed: 2 }).batch(256));
    expect(buf[0]).toBe(MAGIC);
    expect(buf[1]).toBe(FLOWS.codec.version);
    expect(buf.length / 256).toBeLessThan(200);
  });

  it('keeps the released wire schema frozen: a Flow change needs a new version', () => {
    for (const s of [FLOWS, COUNTERS]) expect(s.codec.schemas[s.codec.version]).toEqual(s.codec.derivedSchema());
  });

  it('reads every released version into the current Flow', () => {
    const v1 = new WireCodec<Flow>('Flow', FlowSchema, { 1: flowV1 });
    const { next_hop: _v2Only, ...v1Flow } = fullFlow;
    const old = v1.encode([v1Flow]);
    expect(old[1]).toBe(1);
    expect(FLOWS.codec.decode(old)).toEqual([v1Flow]);
    expect(FLOWS.codec.decode(old)[0]).toHaveProperty('next_hop', undefined);
    const routed = { ...fullFlow, next_hop: '10.255.0.1' };
    expect(FLOWS.codec.decode(FLOWS.codec.encode([routed]))).toEqual([routed]);
  });

  it('rejects bad messages with a reason', () => {
    const good = FLOWS.codec.encode([fullFlow]);
    expect(() => FLOWS.codec.decode(Buffer.from([MAGIC]))).toThrow(new WireError('message of 1 bytes is shorter than the header'));
    expect(() => FLOWS.codec.decode(Buffer.from('{"json":true}'))).toThrow(/bad magic 0x7b/);
    const future = Buffer.from(good);
    future[1] = 99;
    expect(() => FLOWS.codec.decode(future)).toThrow(/unknown wire schema version 99/);
    expect(() => FLOWS.codec.decode(good.subarray(0, good.length - 20))).toThrow(/undecodable Avro body/);
  });
});
