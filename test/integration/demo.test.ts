/**
 * The main job (`npm start` runs `eastwatch demo`): the synthetic cluster's jobs and raw flows go through
 * enrichment, Kafka and the writer into chDB, and the findings it prints name the planted incidents.
 */
import { cli, testEnv, TestEnv } from '../helpers';

describe('eastwatch demo', () => {
  let t: TestEnv;
  afterAll(() => t?.cleanup());

  it('enriches the synthetic flows and reports the planted incidents', async () => {
    t = testEnv();
    const out = await cli(t, ['demo', '--flows', '20000'], 300_000);
    expect(out).toMatch(/^20000 flows enriched and stored in [\d.]+ s/m);
    const section = (title: string) => {
      const start = out.indexOf(`== ${title}`);
      expect(start).toBeGreaterThanOrEqual(0);
      const end = out.indexOf('\n== ', start + 1);
      return out.slice(start, end < 0 ? undefined : end).split('\n').slice(2).map((l) => l.trim().split(/\s{2,}/));
    };
    // Enrichment put the collective traffic inside the training zone, and storage reads in storage.
    const zones = section('Traffic by zone pair');
    expect(zones[0]!.slice(0, 2)).toEqual(['training', 'training']);
    expect(zones.some((r) => r[0] === 'training' && r[1] === 'storage')).toBe(true);
    // gpu007 of job 88213 reaching gpu041 of job 88214 over SSH; gpu012 to gpu031's BMC.
    const crossJob = section('Nodes talking to a node of another job');
    expect(crossJob).toContainEqual(['gpu007', '88213', 'gpu041', '88214', '22', expect.stringMatching(/^\d+$/)]);
    const crossings = section('Zone crossings the inventory does not allow').map((r) => `${r[0]} ${r[1]} ${r[3]} ${r[6]}`);
    expect(crossings).toEqual(expect.arrayContaining(['training internet gpu052 443', 'training bmc gpu012 623']));
    expect(crossings.some((c) => /^inference training inf0[12] 29500$/.test(c))).toBe(true);
    // Allowed traffic (storage, DNS, the proxy) is not reported as a crossing.
    expect(crossings.some((c) => / (storage|services|dmz) /.test(c))).toBe(false);
    expect(section('Policy-denied drops')[0]!.slice(0, 6)).toEqual(['ai-training', 'trainer-88214-worker-3', 'prod', 'orders-db-0', '5432', 'POLICY_DENIED']);
  });
});
