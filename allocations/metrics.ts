/** Metrics of the allocation feeds: one series per stage that keeps a timeline (enrich, detectors). */
import { Gauge } from 'prom-client';
import { registry } from '../core/metrics';

export const allocationEventAt = new Gauge({
  name: 'eastwatch_allocation_last_event_timestamp_seconds',
  help: 'When the newest allocation event a feed applied reached Kafka (Unix seconds), by the stage it serves: time() minus it is the feed\'s age',
  labelNames: ['feed'] as const,
  registers: [registry],
});
