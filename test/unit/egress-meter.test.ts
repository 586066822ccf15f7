/**
 * eastwatch_egress_bytes_total as the streaming detectors count it: egress only (through the proxy, or straight
 * to the default zone from anything but a proxy), scaled by sampling rate, per source zone and namespace, with
 * the namespaces capped so pod metadata cannot multiply the series.
 */
import { AllocationTimeline } from '../../allocations/timeline';
import { sidesOf } from '../../detectors/context';
import { EgressMeter, MAX_NAMESPACES } from '../../detectors/egress-meter';
import { egressBytes } from '../../detectors/metrics';
import { loadExampleInventory } from '../../inventory/example';
import type { Flow } from '../../core/flow';
import { flow, front, PROXY, STOR01, T0 } from '../detector-fixtures';

const inv = loadExampleInventory();
const timeline = new AllocationTimeline();

function count(meter: EgressMeter, flows: Flow[]): void {
  for (const f of flows) {
    const [src, dst] = sidesOf(inv, timeline, f, 0);
    meter.count(f, src, dst, inv);
  }
}

const series = async () => Object.fromEntries((await egressBytes.get()).values.map((v) => [`${v.labels.zone}/${v.labels.namespace}`, v.value]));

beforeEach(() => egressBytes.reset());

describe('the egress meter', () => {
  it('counts proxied requests and traffic straight out, scaled; not east-west, not the proxy\'s own fetches', async () => {
    count(new EgressMeter(), [
      flow(front(1), PROXY, 3128, T0, { source_kind: 'proxy', observation_point: 'proxy', proxy_host: 'pypi.org', bytes: 1000 }),
      flow(front(2), '198.51.100.7', 443, T0, { bytes: 10, sampling_rate: 1024 }),
      flow('10.244.1.5', '198.51.100.9', 443, T0, { bytes: 7, src_namespace: 'ai-training' }),
      flow(front(3), STOR01, 2049, T0, { bytes: 1e9 }),
      flow(front(3), front(4), 22, T0, { bytes: 1e9 }),
      flow(PROXY, '198.51.100.7', 443, T0, { bytes: 1e9 }),
    ]);
    expect(await series()).toEqual({ 'training/': 1000 + 10 * 1024, 'training/ai-training': 7 });
  });

  it(`gives at most ${MAX_NAMESPACES} namespaces their own series; the rest count as other`, async () => {
    const meter = new EgressMeter();
    count(meter, Array.from({ length: MAX_NAMESPACES + 5 }, (_, i) => flow('10.244.1.5', '198.51.100.9', 443, T0, { bytes: 1, src_namespace: `ns${i}` })));
    const s = await series();
    expect([Object.keys(s).length, s['training/other'], s['training/ns0']]).toEqual([MAX_NAMESPACES + 1, 5, 1]);
  });
});
