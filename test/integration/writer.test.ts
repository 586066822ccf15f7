/**
 * The writer on the real broker and embedded ClickHouse (chDB): every flow lands exactly once, through
 * crashes at the worst moment and at random, and bad records go to the dead-letter topic with their reason.
 */
import { FLOWS } from '../../core/streams';
import { sampleFlows } from '../../simulator/sample';
import { fullFlow } from '../fixtures';
import { deadLetters, drainWith, killChildren, offsets, query, spawnCli, testEnv, testKafka, TestEnv, waitFor } from '../helpers';
import { produceFlows, storedTotals } from './produce';
import { arrayClaim, nestedClaim } from '../wire-claims';

const kafka = testKafka();

describe('writer', () => {
  let t: TestEnv;
  afterEach(() => {
    killChildren();
    t?.cleanup();
  });

  it('stores 100k flows produced to Kafka exactly, with matching byte and packet sums', async () => {
    t = testEnv();
    const sent = await produceFlows(t, sampleFlows(100_000, { seed: 11 }));
    expect(sent.flows).toBe(100_000);
    await drainWith(t);
    expect(await storedTotals(t, query)).toEqual(sent);
    // The materialized view kept the per-minute rollup in step (bytes there are scaled by sampling rate 1).
    const [rollup] = await query(t, 'SELECT sum(flows) AS flows, toString(sum(bytes)) AS bytes FROM eastwatch.flows_1m');
    expect(Number(rollup!.flows)).toBe(100_000);
    expect(BigInt(String(rollup!.bytes))).toBe(sent.bytes);
  });

  it('neither loses nor duplicates flows when killed after an insert, before its commit, and at random', async () => {
    t = testEnv({ EASTWATCH_WRITER_BATCH_ROWS: '4000' });
    const sent = await produceFlows(t, sampleFlows(100_000, { seed: 12 }));
    const topic = `${t.prefix}.flows`;

    // 1. The failpoint SIGKILLs the writer right after its 3rd insert: rows stored, offsets not committed.
    const first = spawnCli(t, ['start', '--roles', 'writer'], { EASTWATCH_FAILPOINT: 'writer-after-insert:3' });
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const afterCrash = await waitFor(() => offsets(kafka, topic, t.group), 30_000, () => 'offsets unavailable');
    expect(afterCrash.committed).toBeLessThan(afterCrash.end);

    // 2. A new writer replays the recorded ranges; SIGKILL it from outside while it is mid-stream.
    const second = spawnCli(t, ['start', '--roles', 'writer']);
    await waitFor(async () => {
      if (!/replaying recorded insert ranges/.test(second.output())) return undefined; // it reached the crashed range
      const o = await offsets(kafka, topic, t.group);
      return o && o.committed > afterCrash.committed && o.committed < o.end ? true : undefined;
    }, 120_000, () => `second writer did not replay and progress:\n${second.output().slice(-3000)}`);
    second.proc.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');

    // 3. A third writer finishes the topic.
    await drainWith(t);
    expect(await storedTotals(t, query)).toEqual(sent);
    const [rollup] = await query(t, 'SELECT sum(flows) AS flows FROM eastwatch.flows_1m');
    expect(Number(rollup!.flows)).toBe(100_000);
  });

  it('sends malformed records to the dead-letter topic with the reason and stores the rest', async () => {
    t = testEnv();
    const good = sampleFlows(100, { seed: 13 });
    await produceFlows(t, good); // creates the topics too
    const badFlow = { ...fullFlow, src_addr: 'not-an-ip', protocol: 300 };
    const mixed = FLOWS.codec.encode([...good.slice(0, 9), badFlow as never]);
    const truncated = FLOWS.codec.encode(good.slice(0, 5)).subarray(0, 40);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: `${t.prefix}.flows`,
      messages: [
        { partition: 0, value: Buffer.from('{"src":"10.0.0.1"}') },
        { partition: 0, value: truncated },
        { partition: 0, value: mixed },
      ],
    });
    await producer.disconnect();

    await drainWith(t);
    const [stored] = await query(t, 'SELECT count() AS n FROM eastwatch.flows');
    expect(Number(stored!.n)).toBe(100 + 9);

    const dead = (await deadLetters(kafka, t.prefix, 3, 30_000)).map((d) => ({ ...d, value: d.value.toString() }));
    const reasons = dead.map((d) => d.reason).sort();
    expect(reasons[0]).toMatch(/^invalid-flow: src_addr: not an IPv4 or IPv6 address; protocol: Too big: expected number to be <=255/);
    expect(reasons[1]).toMatch(/^undecodable-message: bad magic 0x7b/);
    expect(reasons[2]).toMatch(/^undecodable-message: undecodable Avro body/);
    expect(dead.every((d) => d.stage === 'writer')).toBe(true);
    const invalid = dead.find((d) => d.reason.startsWith('invalid-flow'))!;
    expect(JSON.parse(invalid.value).src_addr).toBe('not-an-ip');
    expect(invalid.origin).toMatch(new RegExp(`^${t.prefix}\\.flows/0/\\d+#9$`));
  });

  it('moves past messages claiming millions of flows: dead-lettered with the claim, the flows around them stored', async () => {
    t = testEnv();
    const good = sampleFlows(30, { seed: 14 });
    await produceFlows(t, good.slice(0, 10)); // creates the topics too
    const poison = [arrayClaim(2 ** 31), arrayClaim(1_000_000), nestedClaim('src_names', 2 ** 31)];
    const topic = `${t.prefix}.flows`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [poison[0]!, FLOWS.codec.encode(good.slice(10, 20)), poison[1]!, poison[2]!, FLOWS.codec.encode(good.slice(20))]
        .map((value) => ({ partition: 0, value })),
    });
    await producer.disconnect();

    await drainWith(t); // returns once the group's committed offsets reached the end: lag 0
    const done = await offsets(kafka, topic, t.group);
    expect(done!.committed).toBe(done!.end);
    expect(await storedTotals(t, query)).toEqual({
      flows: 30,
      bytes: good.reduce((s, f) => s + BigInt(f.bytes ?? 0), 0n),
      packets: good.reduce((s, f) => s + BigInt(f.packets ?? 0), 0n),
    });

    const dead = await deadLetters(kafka, t.prefix, 3, 30_000);
    expect(dead.map((d) => d.reason).sort()).toEqual([
      'undecodable-message: undecodable Avro body: Flow array claims 1000000 items in 16 bytes',
      'undecodable-message: undecodable Avro body: Flow array claims 2147483648 items in 14 bytes',
      expect.stringMatching(/^undecodable-message: undecodable Avro body: Flow\.src_names claims 2147483648 items in \d+ bytes$/),
    ]);
    for (const p of poison) expect(dead.find((d) => d.value.equals(p))?.origin).toMatch(new RegExp(`^${t.prefix}\\.flows/0/\\d+$`));
  });
});
