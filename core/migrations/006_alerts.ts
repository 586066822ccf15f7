import { AlertSchema, AlertTriageSchema } from '../records';
import { Migration, createTableSql } from './migration';

/**
 * Alerts as the detectors keep them (one row version per update, the latest wins) and the analysts' triage
 * beside them, in a table of its own: a detector's update and an analyst's status change never touch the same
 * row, so neither can undo the other. The first alerts table (migration 3) was never written: it is dropped.
 */
export const alerts: Migration = {
  version: 6,
  name: 'alerts and their triage',
  statements: ({ tbl }) => [
    `DROP TABLE IF EXISTS ${tbl('alerts')}`,
    createTableSql(tbl('alerts'), AlertSchema, 'ENGINE = ReplacingMergeTree(updated_at) PARTITION BY toYYYYMM(time) ORDER BY alert_id'),
    createTableSql(tbl('alert_triage'), AlertTriageSchema, 'ENGINE = ReplacingMergeTree(updated_at) ORDER BY alert_id'),
  ],
};
