/**
 * topology-mismatch, its windowed half: a node whose share of its job's back-end traffic departs from its
 * peers'. In a collective every rank moves about the same volume (a ring's neighbours, a double binary tree's
 * parents and children, expert groups, pipeline stages: a few times apart at most), so a node sending many times
 * its job's median over the last complete 5 minutes is doing something else. Reads the per-minute rollup by the
 * job columns enrichment wrote (a windowed judgement: a job's last seconds misattributed do not move a median),
 * back-end addresses only; jobs of fewer than 4 nodes have no meaningful median.
 */
import type { Store } from '../core/clickhouse';
import type { Inventory } from '../inventory/inventory';
import type { WindowedDetector } from './detector';
import { FIVE_MIN, secs } from './egress';
import type { Finding } from './finding';
import { sqlString, whereOf } from './sql';

export interface TrafficShareOptions {
  /** A node above this many times its job's median is reported... */
  factor: number;
  /** ...when it also sent at least this many bytes in the 5 minutes. */
  minBytes: number;
}

const MIN_NODES = 4;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export class TrafficShare implements WindowedDetector {
  readonly name = 'topology-mismatch' as const;

  constructor(private readonly o: TrafficShareOptions) {}

  async evaluate(store: Store, inv: Inventory, now: number): Promise<Finding[]> {
    const to = Math.floor(now / FIVE_MIN) * FIVE_MIN;
    const from = to - FIVE_MIN;
    const rows = await store.rows<{ job: string; src: string; bytes: string }>(
      `SELECT src_job AS job, replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src, toString(sum(bytes)) AS bytes
        FROM ${store.tbl('flows_1m')}
        WHERE minute >= toDateTime({from:UInt32}) AND minute < toDateTime({to:UInt32}) AND src_job != '' AND dst_job = src_job
        GROUP BY job, src`,
      { from: secs(from), to: secs(to) },
    );
    const jobs = new Map<string, Map<string, number>>();
    for (const r of rows) {
      const e = inv.endpointOf(r.src);
      if (e?.fabric !== 'backend') continue;
      const nodes = jobs.get(r.job) ?? new Map<string, number>();
      nodes.set(e.node, (nodes.get(e.node) ?? 0) + Number(r.bytes));
      jobs.set(r.job, nodes);
    }
    const out: Finding[] = [];
    for (const [job, nodes] of jobs) {
      if (nodes.size < MIN_NODES) continue;
      const base = median([...nodes.values()]);
      for (const [node, bytes] of nodes) {
        if (bytes < this.o.minBytes || bytes <= this.o.factor * base) continue;
        out.push({
          detector: this.name, severity: 'warning', key: [job, node, 'share'], time: to, first: from, last: to, flows: 1, bytes, counts: 'total',
          summary: `${node} sent ${(bytes / base).toFixed(1)}x the median back-end volume of job ${job}'s ${nodes.size} nodes in 5 minutes`,
          entities: { src_node: node, src_job: job },
          details: { observed_bytes: bytes, job_median_bytes: base, nodes: nodes.size, factor: this.o.factor },
          where: `${whereOf({ src_node: node })} AND src_job = ${sqlString(job)} AND dst_job = ${sqlString(job)}`,
        });
      }
    }
    return out;
  }
}
