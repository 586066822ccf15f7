import { AuditEntrySchema, SuppressionSchema } from '../records';
import { Migration, createTableSql } from './migration';

/**
 * The audit trail (append only, read per target: an alert's history) and the analysts' suppressions (the API's
 * record of them; the detectors follow them on the suppressions topic).
 */
export const auditLog: Migration = {
  version: 8,
  name: 'audit log and suppressions',
  statements: ({ tbl }) => [
    createTableSql(tbl('audit_log'), AuditEntrySchema, 'ENGINE = MergeTree PARTITION BY toYYYYMM(time) ORDER BY (target_kind, target, time)'),
    createTableSql(tbl('suppressions'), SuppressionSchema, 'ENGINE = ReplacingMergeTree(updated_at) ORDER BY suppression_id'),
  ],
};
