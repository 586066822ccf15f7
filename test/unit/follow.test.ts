import { appendFileSync, mkdtempSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import type { KafkaContext } from '../../core/kafka';
import { recordsDropped } from '../../core/metrics';
import { FLOWS } from '../../core/streams';
import type { CollectorConfig } from '../../ingest/config';
import { followLogs } from '../../ingest/logs/collector';
import { FilePosition, followFile } from '../../ingest/logs/follow';
import { PositionStore } from '../../ingest/logs/positions';
import { FlowProducers } from '../../ingest/producers';
import { tcpFlowLine } from '../hubble-fixtures';
import { until } from '../until';

describe('followFile', () => {
  it('reads appended lines from the end, across rename rotation and copytruncate, joining partial lines', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, 'before the follower\n');
    const lines: string[] = [];
    const f = followFile(file, (l) => lines.push(l), { pollMs: 20 });
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, 'one\ntw');
    await until(() => lines.length === 1);
    appendFileSync(file, 'o\r\n');
    await until(() => lines.length === 2);
    // logrotate's default: the old file is renamed (its last line still unread), a new one created.
    appendFileSync(file, 'last of the old file\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'first of the new file\n');
    await until(() => lines.length === 4);
    // copytruncate: the same inode shrinks to nothing and grows again.
    truncateSync(file, 0);
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, 'after truncate\n');
    await until(() => lines.length === 5);
    await f.stop();
    expect(lines).toEqual(['one', 'two', 'last of the old file', 'first of the new file', 'after truncate']);
  });

  it('reads a file that appears later from its start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'later.log');
    const lines: string[] = [];
    const f = followFile(file, (l) => lines.push(l), { pollMs: 20 });
    await new Promise((r) => setTimeout(r, 60));
    writeFileSync(file, 'a\nb\n');
    await until(() => lines.length === 2);
    await f.stop();
    expect(lines).toEqual(['a', 'b']);
  });
});

describe('followFile positions', () => {
  it('resumes a restarted follower after the last whole line, and reads a file replaced meanwhile from its start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, 'a\nb\nhalf');
    const first: string[] = [];
    const f1 = followFile(file, (l) => first.push(l), { pollMs: 20, fromStart: true });
    await until(() => first.length === 2);
    await f1.stop();
    const saved = f1.position()!;
    expect(saved.offset).toBe(4); // after "b\n": the half line is not consumed yet
    const store = new PositionStore(dir);
    store.save([[file, saved]]);

    appendFileSync(file, ' line\nc\n'); // written while nobody followed
    const second: string[] = [];
    const f2 = followFile(file, (l) => second.push(l), { pollMs: 20, resume: new PositionStore(dir).get(file)! });
    await until(() => second.length === 2);
    await f2.stop();
    expect(second).toEqual(['half line', 'c']);

    // Rotated while away: the saved inode is gone, the new file is all new.
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'new 1\nnew 2\n');
    const third: string[] = [];
    const f3 = followFile(file, (l) => third.push(l), { pollMs: 20, resume: f2.position()! });
    await until(() => third.length === 2);
    await f3.stop();
    expect(third).toEqual(['new 1', 'new 2']);
  });
});

describe('followFile bytes', () => {
  const READ = 1 << 16; // the follower's read size

  it('decodes characters split across two reads whole', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    const first = `${'a'.repeat(READ - 1)}é`; // é's two bytes straddle the first read's end
    const second = `${'b'.repeat(2 * READ - Buffer.byteLength(first) - 1 - 2)}😀`; // the emoji's four: two and two
    expect(Buffer.byteLength(`${first}\n${second.slice(0, -2)}`)).toBe(2 * READ - 2);
    writeFileSync(file, `${first}\n${second}\n`);
    const lines: string[] = [];
    const f = followFile(file, (l) => lines.push(l), { pollMs: 20, fromStart: true });
    await until(() => lines.length === 2);
    await f.stop();
    // Lengths and ends rather than the lines: a failure would print 128 KiB.
    expect(lines.map((l) => [l.length, l.slice(-4)])).toEqual([first, second].map((l) => [l.length, l.slice(-4)]));
  });

  it('keeps a partial line, even one ending inside a character, unread: its position is in bytes, a restart reads exactly it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    const emoji = Buffer.from('😀');
    writeFileSync(file, Buffer.concat([Buffer.from('été\nça'), emoji.subarray(0, 1)]));
    const lines: string[] = [];
    const f1 = followFile(file, (l) => lines.push(l), { pollMs: 20, fromStart: true });
    await until(() => lines.length === 1);
    await new Promise((r) => setTimeout(r, 60)); // a few polls over the partial line
    appendFileSync(file, emoji.subarray(1, 3)); // still inside the emoji
    await new Promise((r) => setTimeout(r, 60));
    await f1.stop();
    expect(lines).toEqual(['été']);
    expect(f1.position()!.offset).toBe(Buffer.byteLength('été\n'));

    appendFileSync(file, Buffer.concat([emoji.subarray(3), Buffer.from(' ok\nnext\n')]));
    const f2 = followFile(file, (l) => lines.push(l), { pollMs: 20, resume: f1.position()! });
    await until(() => lines.length === 3);
    await f2.stop();
    expect(lines).toEqual(['été', 'ça😀 ok', 'next']);
    expect(f2.position()!.offset).toBe(statSync(file).size);
  });
});

describe('followFile rotation while stopped', () => {
  it('reads the unread tail of FILE.1 with the saved inode, then the new file from its start, each line once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, 'a1\na2\n');
    const lines: string[] = [];
    const f1 = followFile(file, (l) => lines.push(l), { pollMs: 20, fromStart: true });
    await until(() => lines.length === 2);
    await f1.stop();
    const saved = f1.position()!;

    appendFileSync(file, 'a3\na4\n'); // written while down, before the rotation
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, 'a5\n'); // the proxy wrote on until it reopened its log
    writeFileSync(file, 'b1\nb2\n');
    const lost: FilePosition[] = [];
    const f2 = followFile(file, (l) => lines.push(l), { pollMs: 20, resume: saved, onLost: (p) => lost.push(p) });
    await until(() => lines.length === 7);
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, 'b3\n');
    await until(() => lines.length === 8);
    await new Promise((r) => setTimeout(r, 100));
    await f2.stop();
    expect(lines).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3']);
    expect(lost).toEqual([]);
    expect(f2.position()).toEqual({ ino: statSync(file).ino, offset: statSync(file).size });
  });

  it('reports the saved position lost when the rotated file is gone, and reads the new file from its start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, 'a1\n');
    const saved = { ino: statSync(file).ino, offset: 3 };
    appendFileSync(file, 'a2\n');
    renameSync(file, `${file}.2`); // rotated twice, or compressed: not looked for
    writeFileSync(`${file}.1`, 'other\n');
    writeFileSync(file, 'b1\n');
    const lines: string[] = [];
    const lost: FilePosition[] = [];
    const f = followFile(file, (l) => lines.push(l), { pollMs: 20, resume: saved, onLost: (p) => lost.push(p) });
    await until(() => lines.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    await f.stop();
    expect(lines).toEqual(['b1']);
    expect(lost).toEqual([saved]);
  });
});

describe('followed files under backpressure', () => {
  /** A Kafka client whose sends wait for `gate`, then take `delayMs`; `acked` counts the records acknowledged. */
  function fakeKafka(delayMs: number) {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const acked: number[] = [];
    const producer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      sendBatch: async ({ topicMessages }: { topicMessages: { messages: { value: Buffer }[] }[] }) => {
        await gate;
        await new Promise((r) => setTimeout(r, delayMs));
        for (const m of topicMessages[0]!.messages) acked.push(...FLOWS.codec.decode(m.value).map((f) => f.src_port as number));
        return [];
      },
    };
    const admin = { connect: async () => undefined, disconnect: async () => undefined, fetchTopicMetadata: async () => ({ topics: [{ partitions: [{}] }] }) };
    const kafka = { client: { producer: () => producer, admin: () => admin }, cfg: { flowsPerMessage: 2, lingerMs: 5, compression: 'none' }, topics: { flows: 'flows' } };
    return { kafka: kafka as unknown as KafkaContext, acked, open };
  }

  it('pauses while the producer backlog is full and resumes when it has room: every line delivered, none dropped, no position past an undelivered line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'hubble.json');
    const lineOf = (n: number) => `${tcpFlowLine({ seq: n, time: Date.parse('2025-11-24T16:00:00Z') + n, src: '10.244.3.17', dst: '10.244.7.41', port: n })}\n`;
    const N = 60;
    const ends: number[] = []; // ends[n]: the byte offset after line n
    let size = 0;
    for (let n = 1; n <= N; n++) ends[n] = size += Buffer.byteLength(lineOf(n));
    writeFileSync(file, '');

    const log = pino({ level: 'silent' });
    const { kafka, acked, open } = fakeKafka(5);
    const producers = new FlowProducers({ maxBacklog: 3 } as CollectorConfig, { kafka, log, enrich: (f) => f });
    await producers.start();
    const droppedBefore = await droppedCount();
    const positions = new PositionStore(dir);
    const saved: FilePosition[] = [];
    const beyondAcked: string[] = []; // collected, not thrown: the checkpoint would catch it and retry
    const save = positions.save.bind(positions);
    positions.save = (updates) => {
      for (const [, p] of updates) {
        saved.push(p);
        // Only lines Kafka acknowledged may be behind a saved position.
        if (p.offset > (ends[acked.length] ?? 0)) beyondAcked.push(`saved ${p.offset} with ${acked.length} lines acknowledged`);
      }
      save(updates);
    };
    const following = followLogs([{ format: 'hubble', path: file }], {
      proxyAddress: '127.0.0.1', flow: producers.flow, log, positions, durable: () => producers.durable(), room: producers, checkpointMs: 10,
    });
    try {
      await new Promise((r) => setTimeout(r, 100)); // the follower took the (empty) file's end
      appendFileSync(file, Array.from({ length: N }, (_, i) => lineOf(i + 1)).join(''));
      await new Promise((r) => setTimeout(r, 300)); // Kafka takes nothing meanwhile
      expect(acked).toEqual([]);
    } finally {
      open();
    }
    await until(() => acked.length === N, 10_000).finally(async () => {
      await following.stop();
      await producers.stop();
    });
    expect(acked).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(await droppedCount()).toBe(droppedBefore);
    expect(beyondAcked).toEqual([]);
    expect(saved.length).toBeGreaterThan(2); // checkpoints while lines were still waiting
    expect(saved.at(-1)!.offset).toBe(size);
  });

  it('keeps positions and stops promptly while Kafka never acknowledges', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, '');
    const positions = new PositionStore(dir);
    const following = followLogs([{ format: 'squid', path: file }], {
      proxyAddress: '127.0.0.1', flow: () => undefined, log: pino({ level: 'silent' }), positions,
      durable: () => new Promise(() => undefined), checkpointMs: 10, durableWaitMs: 200,
    });
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, '1764000000.000 5 10.30.1.7 TCP_TUNNEL/200 100 CONNECT huggingface.co:443 - HIER_DIRECT/1.2.3.4 -\n');
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    await following.stop();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(new PositionStore(dir).get(file)).toBeUndefined();
  });

  it('stops while paused, without waiting for room', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, 'a\nb\n');
    const lines: string[] = [];
    const f = followFile(file, (l) => lines.push(l), { pollMs: 20, fromStart: true, room: { hasRoom: () => lines.length < 1, room: () => new Promise(() => undefined) } });
    await until(() => lines.length === 1);
    await new Promise((r) => setTimeout(r, 60));
    await f.stop();
    expect(lines).toEqual(['a']);
    expect(f.position()!.offset).toBe(2);
  });
});

async function droppedCount(): Promise<number> {
  return (await recordsDropped.get()).values.filter((v) => v.labels.stage === 'collector').reduce((a, v) => a + v.value, 0);
}
