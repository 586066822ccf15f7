/**
 * Hubble flow JSON that users already ship through Kafka: eastwatch reads the topic and moves each batch into
 * the flows topic in one transaction with its offsets. Killed with SIGKILL inside a transaction and restarted,
 * every flow is stored exactly once; bad lines are counted and dead-lettered.
 */
import { waitCaughtUp } from '../../core/kafka';
import { tcpFlowLine } from '../hubble-fixtures';
import { deadLetters, killChildren, query, spawnCli, testEnv, TestEnv, testKafka } from '../helpers';

const N = 30_000;

/** Flow i: a distinct source address and port, one millisecond apart. */
const line = (i: number): string => tcpFlowLine({
  seq: i, time: Date.parse('2025-11-24T16:00:00Z') + i, src: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, dst: '10.244.7.41', port: 1024 + (i % 50_000),
});

describe('Hubble flows from a Kafka topic', () => {
  let t: TestEnv;
  const kafka = testKafka();
  afterAll(() => {
    killChildren();
    t?.cleanup();
  });

  it('stores every flow exactly once across a SIGKILL and a restart', async () => {
    t = testEnv({ EASTWATCH_COLLECTORS: 'sflow', EASTWATCH_KAFKA_LINGER_MS: '5' });
    const input = `${t.prefix}.hubble-in`;
    const hubbleGroup = `${t.prefix}-hubble`;
    Object.assign(t.env, { EASTWATCH_HUBBLE_TOPICS: input, EASTWATCH_HUBBLE_GROUP: hubbleGroup, EASTWATCH_HUBBLE_TRANSACTIONAL_ID: `${t.prefix}-tx` });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    // Messages of one line and of several newline-separated lines, as Fluent Bit and Vector ship them.
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i += 500) {
        const end = Math.min(i + 500, to);
        const messages = [];
        for (let j = i; j < end;) {
          const lines = Math.min(j % 3 === 0 ? 1 : 4, end - j);
          messages.push({ value: Array.from({ length: lines }, (_, k) => line(j + k)).join('\n') });
          j += lines;
        }
        await producer.send({ topic: input, messages });
      }
    };
    await send(0, N / 2);
    await producer.send({ topic: input, messages: [{ value: '{"flow": {"verdict": 7, "IP": "nope"}}' }, { value: 'not json\n' }] });

    // Killed with flows of an open transaction already in the flows topic: they must never be stored.
    const first = spawnCli(t, ['start', '--roles', 'collectors,writer,http'], { EASTWATCH_FAILPOINT: 'hubble-topic-before-commit:3' });
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await send(N / 2, N);

    const second = spawnCli(t, ['start', '--roles', 'collectors,writer,http']);
    await second.httpPort();
    await waitCaughtUp(kafka, input, hubbleGroup, 120_000);
    await waitCaughtUp(kafka, `${t.prefix}.flows`, t.group, 120_000);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    await producer.disconnect();

    const [stored] = await query<{ n: number; distinct: number; hubble: number }>(t, `SELECT count() AS n,
        uniqExact(src_addr, src_port) AS distinct, countIf(source_kind = 'hubble' AND verdict = 'FORWARDED' AND bytes IS NULL) AS hubble
      FROM eastwatch.flows`);
    expect(stored).toEqual({ n: N, distinct: N, hubble: N });
    // Both bad lines are dead-lettered with the reason and the line (by whichever process consumed them).
    const dead = await deadLetters(kafka, t.prefix, 2);
    expect(dead.every((d) => d.stage === 'collector' && d.reason.startsWith('hubble-invalid: ') && d.origin.startsWith(`hubble/${input}/`))).toBe(true);
    expect(new Set(dead.map((d) => d.value.toString()))).toEqual(new Set(['{"flow": {"verdict": 7, "IP": "nope"}}', 'not json']));
  });
});
