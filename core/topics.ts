/** The one place eastwatch's Kafka topic names are made: every topic under the configured prefix. */
export interface Topics {
  /** Enriched flows, partitioned by source address: the writer's and the streaming detectors' input. */
  flows: string;
  /** sFlow interface counters, partitioned by exporter. */
  counters: string;
  /** A rate-limited sample of rejected input, with the reason. */
  deadLetter: string;
  /** Alerts raised by the detectors. */
  alerts: string;
  /** Allocation events, keyed and compacted by job. */
  allocations: string;
  /** Analysts' suppressions, keyed and compacted by id: what the detectors hold back. */
  suppressions: string;
}

export type TopicKind = keyof Topics;

export const topicNames = (prefix: string): Topics => ({
  flows: `${prefix}.flows`,
  counters: `${prefix}.counters`,
  deadLetter: `${prefix}.dead-letter`,
  alerts: `${prefix}.alerts`,
  allocations: `${prefix}.allocations`,
  suppressions: `${prefix}.suppressions`,
});
