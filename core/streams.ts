/**
 * The record streams that travel through Kafka into ClickHouse: each has a topic, a wire codec, a table and a
 * partition key. Collectors produce them (RecordProducer); the writer stores them.
 */
import { WireCodec } from './codec';
import { Config, topics } from './config';
import { Flow, FlowSchema } from './flow';
import { InterfaceCounter, InterfaceCounterSchema } from './records';
import flowV1 from './wire/flow.v1.json';
import counterV1 from './wire/interface-counter.v1.json';

export interface RecordStream<T> {
  name: string;
  codec: WireCodec<T>;
  table: string;
  topic(cfg: Config): string;
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

export const STREAMS: RecordStream<unknown>[] = [FLOWS as RecordStream<unknown>, COUNTERS as RecordStream<unknown>];
