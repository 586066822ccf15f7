/**
 * The record streams eastwatch itself produces into Kafka, each with its topic, wire codec, table and
 * partition key. Collectors produce them (RecordProducer); the writer stores them, together with the streams
 * other modules define (allocations/stream.ts), as the composition root hands them over.
 */
import type { z } from 'zod';
import { WireCodec } from './codec';
import { Flow, FlowSchema } from './flow';
import { InterfaceCounter, InterfaceCounterSchema } from './records';
import type { TopicKind } from './topics';
import flowV1 from './wire/flow.v1.json';
import flowV2 from './wire/flow.v2.json';
import counterV1 from './wire/interface-counter.v1.json';

/** What the writer needs of a stream: its topic, how a message becomes rows, the schema rows pass, the table. */
export interface StoredStream {
  name: string;
  /** decode() throws WireError for a message it cannot read. */
  codec: { decode(buf: Buffer): Record<string, unknown>[]; schema: z.ZodObject };
  table: string;
  topic: TopicKind;
}

/** A stream eastwatch itself produces, in the Avro wire format. */
export interface RecordStream<T> extends StoredStream {
  codec: WireCodec<T>;
  /** Records with the same key share a partition. */
  partitionKey(record: T): string;
}

/**
 * Flows, partitioned by source node (enrichment names it), else source address: every address of a node (front
 * end, rails, pods) meets in one partition, so per-node detector state lives in one detectors process.
 */
export const FLOWS: RecordStream<Flow> = {
  name: 'flows',
  codec: new WireCodec<Flow>('Flow', FlowSchema, { 1: flowV1, 2: flowV2 }),
  table: 'flows',
  topic: 'flows',
  partitionKey: (f) => f.src_node ?? f.src_addr,
};

/** Interface counters, partitioned by exporter. */
export const COUNTERS: RecordStream<InterfaceCounter> = {
  name: 'interface_counters',
  codec: new WireCodec<InterfaceCounter>('InterfaceCounter', InterfaceCounterSchema, { 1: counterV1 }),
  table: 'interface_counters',
  topic: 'counters',
  partitionKey: (c) => c.exporter_address,
};
