/**
 * The writer: a Kafka consumer group that inserts the record streams (flows, interface counters) into
 * ClickHouse and commits offsets only after the insert succeeded.
 *
 * Exactly-once into ClickHouse: before an insert, the writer records the batch's offset range in
 * writer_intents; the insert carries a deduplication token made of that range. After a crash between insert
 * and commit, the next owner of the partition reads the intents past the committed offset, rebuilds exactly
 * those ranges and re-inserts them with the same tokens, and ClickHouse drops the blocks it already has.
 *
 * Batches are bounded by size and time at the fetch: the broker answers when it has `minBytes` or when
 * writer.batchMs has passed; one fetch of one partition becomes one insert (split at writer.batchRows).
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { ClickHouseSettings } from '@clickhouse/client';
import { insertRowBinary, type Store } from '../core/clickhouse';
import { type Column, columnsOf } from '../core/columns';
import { type RowBinaryBatch, type RowBinaryEncoder, RowBinaryError, rowBinaryEncoder } from '../core/row-binary';
import { WireError } from '../core/codec';
import { zodDetail } from '../core/error-text';
import type { DeadLetter } from '../core/dead-letter';
import { type KafkaContext, runConsumer } from '../core/kafka';
import type { StoredStream } from '../core/streams';
import type { Logger } from '../core/log';
import { failpoint } from '../core/failpoint';
import { insertDuration, insertRows, kafkaLag, recordsFailed, recordsIn, recordsOut } from '../core/metrics';
import type { Stage, StageContext } from '../core/stage';
import type { WriterConfig } from './config';

const STAGE = 'writer';

interface Intent {
  first: number;
  last: number;
}

/** One insert range: its rows encoded as they come for embedded chDB (RowBinary), else kept for JSONEachRow. */
interface Pending {
  first: number;
  last: number;
  binary?: RowBinaryBatch;
  rows: Record<string, unknown>[];
}

const rowCount = (p: Pending): number => p.binary?.rows ?? p.rows.length;

export interface WriterDeps {
  kafka: KafkaContext;
  store: Store;
  /** The streams to store: each topic's records go to its table. */
  streams: StoredStream[];
  deadLetter: DeadLetter;
  log: Logger;
}

export class Writer implements Stage {
  readonly name = 'writer';
  private readonly consumer: Consumer;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly deadLetter: DeadLetter;
  private readonly streams: Map<string, StoredStream>;
  /** Per topic/partition: intents recorded by an earlier owner, still to be replayed exactly. */
  private readonly replay = new Map<string, Intent[]>();
  /** Per topic/partition: rows of a replayed range that spans more than one fetch. */
  private readonly carry = new Map<string, Pending>();
  private running = false;
  /** Per stream: its columns and their RowBinary encoder, compiled once from the schema. */
  private readonly rowBinary = new Map<string, { columns: Column[]; encoder: RowBinaryEncoder }>();

  constructor(private readonly cfg: WriterConfig, { kafka, store, streams, deadLetter, log }: WriterDeps) {
    this.store = store;
    this.log = log;
    this.deadLetter = deadLetter;
    this.streams = new Map(streams.map((s) => [kafka.topics[s.topic], s]));
    for (const s of streams) {
      const columns = columnsOf(s.codec.schema);
      this.rowBinary.set(s.name, { columns, encoder: rowBinaryEncoder(columns) });
    }
    this.consumer = kafka.client.consumer({
      groupId: cfg.groupId,
      minBytes: 1 << 20,
      maxBytes: 16 << 20,
      maxBytesPerPartition: 4 << 20,
      maxWaitTimeInMs: cfg.batchMs,
      sessionTimeout: 10_000,
      heartbeatInterval: 3000,
      rebalanceTimeout: 60_000,
      allowAutoTopicCreation: false,
    });
    // A fetch of transaction markers alone never reaches eachBatch: commit past it when nothing is carried.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize > 0 || payload.firstOffset === null || this.carry.has(`${payload.topic}/${payload.partition}`)) return;
      this.commitPast(payload.topic, payload.partition, Number(payload.lastOffset)).catch((e: Error) =>
        this.log.warn({ err: e, topic: payload.topic, partition: payload.partition }, 'committing past transaction markers failed; retried on the next fetch'));
    });
    // A new generation may own other partitions: forget what was loaded for the old assignment.
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.replay.clear();
      this.carry.clear();
    });
  }

  health(): void {
    if (!this.running) throw new Error('writer is not consuming');
  }

  async start(ctx: StageContext): Promise<void> {
    this.running = true;
    const fatal = (e: Error) => {
      this.running = false;
      ctx.fatal(e);
    };
    await runConsumer(this.consumer, [...this.streams.keys()], 'writer', this.log, fatal, {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 2,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Stops fetching, lets the batch in flight finish its insert and commit, and leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }

  private async intentsFrom(topic: string, partition: number, from: number): Promise<Intent[]> {
    const rows = await this.store.rows<{ first_offset: string; last_offset: string }>(
      `SELECT first_offset, last_offset FROM ${this.store.tbl('writer_intents')}
       WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32} AND first_offset >= {from:UInt64}
       ORDER BY first_offset`,
      { g: this.cfg.groupId, t: topic, p: partition, from },
    );
    // An intent may be recorded twice if the earlier owner retried; keep one per range, in order.
    const seen = new Set<string>();
    return rows
      .map((r) => ({ first: Number(r.first_offset), last: Number(r.last_offset) }))
      .filter((i) => !seen.has(`${i.first}-${i.last}`) && seen.add(`${i.first}-${i.last}`));
  }

  private async onBatch({ batch, heartbeat, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const stream = this.streams.get(topic)!;
    const key = `${topic}/${partition}`;
    if (batch.messages.length === 0) return;
    if (!this.replay.has(key)) {
      const replay = await this.intentsFrom(topic, partition, Number(batch.firstOffset()));
      this.replay.set(key, replay);
      if (replay.length > 0) this.log.info({ topic, partition, ranges: replay.length }, 'replaying recorded insert ranges');
    }
    const replay = this.replay.get(key)!;
    let cur: Pending | undefined = this.carry.get(key);
    this.carry.delete(key);

    let flushed = -1;
    const flushAt = async (p: Pending) => {
      await this.writeRange(stream, topic, partition, p);
      resolveOffset(String(p.last));
      await this.consumer.commitOffsets([{ topic, partition, offset: String(p.last + 1) }]);
      flushed = p.last;
      await heartbeat();
    };

    for (const message of batch.messages) {
      if (!isRunning() || isStale()) return; // uncommitted: the next owner gets these messages again
      const offset = Number(message.offset);
      cur ??= this.pending(stream, offset);
      cur.last = offset;
      await this.decodeInto(stream, cur, message, topic, partition);
      const target = replay[0];
      if (target) {
        if (offset >= target.last) {
          replay.shift();
          await flushAt(cur);
          cur = undefined;
        }
      } else if (rowCount(cur) >= this.cfg.batchRows) {
        await flushAt(cur);
        cur = undefined;
      }
    }
    if (cur && replay.length > 0) {
      this.carry.set(key, cur); // the recorded range continues in the next fetch
      return;
    }
    if (cur) await flushAt(cur);
    // Transaction markers after the last record (flows from transactional sources) are past too.
    const tail = Number(batch.lastOffset());
    if (tail > flushed) await this.commitPast(topic, partition, tail);
    kafkaLag.set({ group: this.cfg.groupId, topic, partition }, Number(batch.offsetLag()));
  }

  private commitPast(topic: string, partition: number, offset: number): Promise<void> {
    return this.consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }]);
  }

  private pending(stream: StoredStream, first: number): Pending {
    const binary = this.store.embedded ? this.rowBinary.get(stream.name) : undefined;
    return { first, last: first, rows: [], ...(binary ? { binary: binary.encoder.batch() } : {}) };
  }

  private async decodeInto(stream: StoredStream, p: Pending, message: KafkaMessage, topic: string, partition: number): Promise<void> {
    const origin = `${topic}/${partition}/${message.offset}`;
    if (!message.value) {
      await this.reject('empty-message', 'message has no value', Buffer.alloc(0), origin);
      return;
    }
    let records: Record<string, unknown>[];
    try {
      records = stream.codec.decode(message.value);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      await this.reject('undecodable-message', e.message, message.value, origin);
      return;
    }
    recordsIn.inc({ stage: STAGE, source: 'kafka' }, records.length);
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      let detail: string;
      if (p.binary) {
        // Validated where the records were made: here only what the bytes need, checked as they are encoded.
        try {
          p.binary.add(record);
          continue;
        } catch (e) {
          if (!(e instanceof RowBinaryError)) throw e;
          const parsed = stream.codec.schema.safeParse(record);
          detail = parsed.success ? e.message : zodDetail(parsed.error, '');
        }
      } else {
        const parsed = stream.codec.schema.safeParse(record);
        if (parsed.success) {
          p.rows.push(parsed.data as Record<string, unknown>);
          continue;
        }
        detail = zodDetail(parsed.error, '');
      }
      await this.reject(`invalid-${stream.name === 'flows' ? 'flow' : 'record'}`, detail, Buffer.from(JSON.stringify(record)), `${origin}#${i}`);
    }
  }

  private async reject(reason: string, detail: string, payload: Buffer, origin: string): Promise<void> {
    recordsFailed.inc({ stage: STAGE, source: 'kafka', reason });
    this.log.warn({ reason, detail, origin }, 'rejected record');
    await this.deadLetter.send({ stage: STAGE, source: 'kafka', reason, detail, payload, origin });
  }

  private async writeRange(stream: StoredStream, topic: string, partition: number, p: Pending): Promise<void> {
    const { client, tbl } = this.store;
    await client.insert({
      table: tbl('writer_intents'),
      values: [{ group_id: this.cfg.groupId, topic, partition, first_offset: p.first, last_offset: p.last }],
      format: 'JSONEachRow',
    });
    const count = rowCount(p);
    if (count === 0) return;
    const end = insertDuration.startTimer({ table: stream.table });
    const settings: ClickHouseSettings = {
      insert_deduplicate: 1,
      insert_deduplication_token: `${this.cfg.groupId}:${topic}:${partition}:${p.first}-${p.last}`,
      deduplicate_blocks_in_dependent_materialized_views: 1,
      max_insert_block_size: '1048576',
    };
    // Embedded chDB takes binary rows (no JSON for it to parse again); a server takes JSON over HTTP.
    if (p.binary) await insertRowBinary(this.store, stream.table, this.rowBinary.get(stream.name)!.columns, p.binary.bytes(), settings);
    else await client.insert({ table: tbl(stream.table), values: p.rows, format: 'JSONEachRow', clickhouse_settings: settings });
    end();
    failpoint('writer-after-insert'); // inserted, offsets not committed: the worst moment for duplicates
    insertRows.inc({ table: stream.table }, count);
    recordsOut.inc({ stage: STAGE }, count);
  }
}
