/** The writer's config section. */
import { z } from 'zod';
import { leaf } from '../core/config';

export const WriterConfigSchema = z.strictObject({
  groupId: leaf(z.string().min(1).default('eastwatch-writer'), 'EASTWATCH_WRITER_GROUP', 'Kafka consumer group of the ClickHouse writer'),
  batchRows: leaf(z.number().int().min(1).max(1_000_000).default(50_000), 'EASTWATCH_WRITER_BATCH_ROWS', 'Flush an insert at this many rows'),
  batchMs: leaf(z.number().int().min(10).max(60_000).default(1000), 'EASTWATCH_WRITER_BATCH_MS', 'Flush an insert when its oldest row waited this long'),
});

export type WriterConfig = z.infer<typeof WriterConfigSchema>;
