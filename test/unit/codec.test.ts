import { MAGIC, WireCodec, WireError } from '../../core/codec';
import { COUNTERS, FLOWS } from '../../core/streams';
import { Flow, FlowSchema } from '../../core/flow';
import flowV1 from '../../core/wire/flow.v1.json';
import { fullFlow } from '../fixtures';
import { arrayClaim, nestedClaim, zeroClaim } from '../wire-claims';
import { mulberry32 } from '../../simulator/model/random';
import { sampleFlows, simulatedFlows } from '../../simulator/sample';

describe('wire codec', () => {
  it('round-trips flows exactly (encode then decode equals the input)', () => {
    // a sample of every path (DPU, switch, Hubble, proxy), attacks included
    const seen = new Set<string>();
    const sample: Flow[] = [];
    for (const { flow, sim } of simulatedFlows({ seed: 1 })) {
      const kind = `${sim.via}/${sim.label ?? ''}`;
      if (!seen.has(kind) || sample.length < 500) sample.push(flow);
      seen.add(kind);
      if (sim.label === 'weights-new-destination') break;
    }
    expect(seen.size).toBeGreaterThan(10);
    const flows = [fullFlow, ...sample];
    for (const f of flows) expect(FlowSchema.parse(f)).toEqual(f);
    const decoded = FLOWS.codec.decode(FLOWS.codec.encode(flows));
    expect(decoded).toEqual(flows);
    expect(decoded[0]).toEqual(fullFlow);
  });

  it('is compact and versioned', () => {
    const buf = FLOWS.codec.encode(sampleFlows(256, { seed: 2 }));
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

describe('wire codec on hostile messages', () => {
  /** Decodes `buf` expecting a WireError, and what that cost: the heap must not grow with the claim. */
  const attack = (buf: Buffer) => {
    const rss = process.resourceUsage().maxRSS;
    const t0 = performance.now();
    let error: unknown;
    try {
      FLOWS.codec.decode(buf);
    } catch (e) {
      error = e;
    }
    return { error, ms: performance.now() - t0, rssGrowthMiB: (process.resourceUsage().maxRSS - rss) / 1024 };
  };

  it.each([1_000_000, 2 ** 31, -(2 ** 31)])('rejects a 21-byte message claiming %d flows at once, in bounded time and memory', (count) => {
    for (const version of [1, FLOWS.codec.version]) {
      const buf = arrayClaim(count, version);
      expect(buf.length).toBe(21);
      const { error, ms, rssGrowthMiB } = attack(buf);
      expect(ms).toBeLessThan(1000);
      expect(rssGrowthMiB).toBeLessThan(64);
      expect(error).toBeInstanceOf(WireError);
      expect((error as Error).message).toMatch(new RegExp(`^undecodable Avro body: Flow array claims ${Math.abs(count)} items in 1[0-9] bytes$`));
    }
  });

  it('builds the nested claims right: a claim of 0 items is a valid Flow', () => {
    expect(FLOWS.codec.decode(nestedClaim('src_labels', 0))).toEqual([{ ...fullFlow, src_labels: {} }]);
    expect(FLOWS.codec.decode(nestedClaim('dst_names', 0))).toEqual([{ ...fullFlow, dst_names: [] }]);
  });

  it.each(['src_labels', 'src_names', 'dst_labels', 'dst_names', 'enterprise_fields'])('rejects %s claiming more items than the Flow has bytes left', (name) => {
    for (const count of [1_000_000, 2 ** 31]) {
      const { error, ms, rssGrowthMiB } = attack(nestedClaim(name, count));
      expect(ms).toBeLessThan(1000);
      expect(rssGrowthMiB).toBeLessThan(64);
      expect(error).toBeInstanceOf(WireError);
      expect((error as Error).message).toMatch(new RegExp(`^undecodable Avro body: Flow\\.${name} claims ${count} items in \\d+ bytes$`));
    }
  });

  it('accepts flows of the smallest encoding: the bound is exact, not a guess', () => {
    const wire = FLOWS.codec.schemas[FLOWS.codec.version] as { fields: { name: string; type: unknown }[] };
    expect(wire.fields).toHaveLength(52);
    // Every field at its shortest (0, '', null) takes one byte on the wire.
    const tiny = Object.fromEntries(wire.fields.map((f) => [f.name, Array.isArray(f.type) ? null : f.type === 'string' ? '' : 0]));
    const buf = FLOWS.codec.encode(Array(1000).fill(tiny));
    expect(buf.length).toBe(2 + 2 + 1000 * 52 + 1);
    expect(FLOWS.codec.decode(buf)).toHaveLength(1000);
    expect(FLOWS.codec.decode(zeroClaim(5, 5 * 52 + 1))).toHaveLength(5);
    expect(() => FLOWS.codec.decode(zeroClaim(5, 5 * 52 - 1))).toThrow(new WireError('undecodable Avro body: Flow array claims 5 items in 259 bytes'));
  });

  it('answers every mutation of valid messages with records or a WireError, quickly', () => {
    const rng = mulberry32(7);
    const flows = [fullFlow, ...sampleFlows(20, { seed: 3 })];
    const valid = flows.map((f, i) => FLOWS.codec.encode(flows.slice(i, i + 3)));
    const t0 = performance.now();
    for (let n = 0; n < 20_000; n++) {
      const buf = Buffer.from(valid[n % valid.length]!);
      for (let k = 1 + Math.floor(rng() * 4); k > 0; k--) buf[2 + Math.floor(rng() * (buf.length - 2))] = Math.floor(rng() * 256);
      try {
        FLOWS.codec.decode(buf);
      } catch (e) {
        if (!(e instanceof WireError)) throw new Error(`${buf.toString('hex')}: ${(e as Error).message}`);
      }
    }
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
