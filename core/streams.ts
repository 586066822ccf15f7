/**
 * The record streams that travel through Kafka into ClickHouse: each has a topic, a wire codec, a table and a
 * partition key. Collectors produce them (RecordProducer); the writer stores them.
 */
import type { z } from 'zod';
import { ALLOCATIONS } from '../allocations/stream';
import { WireCodec } from './codec';
import { Config, topics } from './config';
import { Flow, FlowSchema } from './flow';
import { InterfaceCounter, InterfaceCounterSchema } from './records';
import flowV1 from './wire/flow.v1.json';
import counterV1 from './wire/interface-counter.v1.json';

/** What the writer needs of a stream: its topic, how a message becomes rows, the schema rows pass, the table. */
export interface StoredStream {
  name: string;
  /** decode() throws WireError for a message it cannot read. */
  codec: { decode(buf: Buffer): Record<string, unknown>[]; schema: z.ZodObject };
  table: string;
  topic(cfg: Config): string;
}

/** A stream eastwatch itself produces, in the Avro wire format. */
export interface RecordStream<T> extends StoredStream {
  codec: WireCodec<T>;
  /** Records with the same key share a partition. */
  partitionKey(record: T): string;
}

/** Flows, partitioned by source address: per-source detector state stays in one partition. */
export const FLOWS: RecordStream<Flow> = {
  name: 'flows',
  codec: new WireCodec<Flow>('Flow', FlowSchema, { 1: flowV1 }),
  table: 'flows',
  topic: (cfg) => topics(cfg).flows,
  partitionKey: (f) => f.src_addr,
};

/** Interface counters, partitioned by exporter. */
export const COUNTERS: RecordStream<InterfaceCounter> = {
  name: 'interface_counters',
  codec: new WireCodec<InterfaceCounter>('InterfaceCounter', InterfaceCounterSchema, { 1: counterV1 }),
  table: 'interface_counters',
  topic: (cfg) => topics(cfg).counters,
  partitionKey: (c) => c.exporter_address,
};

export const STREAMS: StoredStream[] = [FLOWS, COUNTERS, ALLOCATIONS];
