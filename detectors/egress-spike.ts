/**
 * egress-spike: egress to destinations the source zone has not approved, in two ways.
 * - New destination, however slow: the cumulative bytes a source sent within the lookback (a day) to a
 *   destination never seen from its zone in the history before it. Exfiltration spread thin over hours stays
 *   under any per-minute threshold; this sum does not.
 * - Seasonal spike, toward destinations seen before: the last complete 5 minutes per zone, namespace, node and
 *   destination against the same hour of the week (and the hours beside it) in the history, read from the
 *   hourly rollup: above median + k scaled MADs and above a minimum volume. Until the history holds enough
 *   samples of that hour (the warm-up) nothing is judged.
 * Approved destinations are left out of both: their owners accepted their volume (a model upload to the hub).
 * The seed's rule, which counts everything, is seed-egress-volume.
 */
import type * as Statistics from 'simple-statistics' with { 'resolution-mode': 'import' };
import type { Store } from '../core/clickhouse';
import type { Inventory } from '../inventory/inventory';
import type { WindowedDetector } from './detector';
import { EgressRow, egressBySource, egressWhere, FIVE_MIN, HOUR, secs, sourceName, unapproved, WEEK } from './egress';
import type { Finding } from './finding';
import { whereOf } from './sql';

export interface EgressSpikeOptions {
  lookbackMs: number;
  historyMs: number;
  newBytes: number;
  spikeBytes: number;
  mads: number;
  minSamples: number;
}

// simple-statistics declares ESM types but ships a CommonJS build, which require() loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { median, medianAbsoluteDeviation } = require('simple-statistics') as typeof Statistics;

const GROUPS = ['zone', 'namespace', 'node', 'destination'] as const;
type Group = (typeof GROUPS)[number];
const groupOf = (g: Group, r: EgressRow): string => (g === 'zone' ? r.src_zone : g === 'namespace' ? r.src_namespace : g === 'node' ? sourceName(r) : r.destination);

const human = (n: number) => `${(n / 2 ** 20).toFixed(n < 2 ** 24 ? 1 : 0)} MiB`;

export class EgressSpike implements WindowedDetector {
  readonly name = 'egress-spike' as const;

  constructor(private readonly o: EgressSpikeOptions) {}

  async evaluate(store: Store, inv: Inventory, now: number): Promise<Finding[]> {
    const from = now - this.o.lookbackMs;
    // Buckets that started before now: in a catch-up pass at a 5-minute boundary the bucket starting there
    // already holds later traffic, which a finding timed at now would precede.
    const rows = (await egressBySource(store, inv, from, now)).filter(unapproved(inv));
    if (rows.length === 0) return [];
    const seen = await this.seenBefore(store, rows, from);
    const known = (r: EgressRow) => seen.has(`${r.src_zone}\0${r.destination}`);
    return [...this.newDestinations(rows.filter((r) => !known(r)), now), ...(await this.spikes(store, inv, known, now))];
  }

  /** (zone, destination) pairs with egress in the history before `from`. */
  private async seenBefore(store: Store, rows: EgressRow[], from: number): Promise<Set<string>> {
    const seen = await store.rows<{ src_zone: string; destination: string }>(
      `SELECT DISTINCT src_zone, destination FROM ${store.tbl('egress_1h')}
        WHERE hour >= toDateTime({hist:UInt32}) AND hour < toStartOfHour(toDateTime({from:UInt32})) AND destination IN {dests:Array(String)}`,
      { hist: secs(from - this.o.historyMs), from: secs(from), dests: [...new Set(rows.map((r) => r.destination))] },
    );
    return new Set(seen.map((s) => `${s.src_zone}\0${s.destination}`));
  }

  private newDestinations(rows: EgressRow[], now: number): Finding[] {
    const bySource = new Map<string, EgressRow>();
    for (const r of rows) {
      const k = `${r.src}\0${r.destination}\0${r.via}`;
      const have = bySource.get(k);
      bySource.set(k, have ? { ...have, bytes: have.bytes + r.bytes, flows: have.flows + r.flows, first: Math.min(have.first, r.first), last: Math.max(have.last, r.last) } : r);
    }
    return [...bySource.values()].filter((r) => r.bytes >= this.o.newBytes).map((r): Finding => ({
      detector: this.name, severity: 'critical', key: ['new', r.src, r.destination], time: Math.min(r.last, now), first: r.first, last: Math.min(r.last, now),
      flows: r.flows, bytes: r.bytes, counts: 'total',
      summary: `${sourceName(r)} (${r.src_zone}) sent ${human(r.bytes)} ${r.via === 'proxy' ? 'through the proxy' : 'straight'} to ${r.destination}, not approved for ${r.src_zone} and never seen before`,
      entities: {
        src_addr: r.src, src_zone: r.src_zone, ...(r.src_node ? { src_node: r.src_node } : {}),
        ...(r.via === 'direct' ? { dst_addr: r.destination } : {}),
      },
      details: { destination: r.destination, via: r.via, observed_bytes: r.bytes, threshold_bytes: this.o.newBytes, lookback_ms: this.o.lookbackMs },
      where: egressWhere(r),
    }));
  }

  private async spikes(store: Store, inv: Inventory, known: (r: EgressRow) => boolean, now: number): Promise<Finding[]> {
    const bucket = Math.floor(now / FIVE_MIN) * FIVE_MIN - FIVE_MIN;
    const current = (await egressBySource(store, inv, bucket, bucket + FIVE_MIN)).filter((r) => known(r) && unapproved(inv)(r));
    if (current.length === 0) return [];
    const weeks = Math.floor(this.o.historyMs / WEEK);
    const hour = Math.floor(bucket / HOUR) * HOUR;
    const [oldest] = await store.rows<{ first: string }>(`SELECT toString(toUnixTimestamp(min(hour)) * 1000) AS first FROM ${store.tbl('egress_1h')}`);
    const samples: number[] = [];
    for (let w = 1; w <= weeks; w++) for (const d of [-1, 0, 1]) samples.push(hour - w * WEEK + d * HOUR);
    const usable = samples.filter((h) => h >= Number(oldest?.first ?? Infinity));
    if (usable.length < this.o.minSamples) return []; // warm-up: not enough history for this hour of the week
    const history = (await store.rows<{ hour: string; src_zone: string; src_node: string; src_namespace: string; src: string; destination: string; via: 'proxy' | 'direct'; bytes: string }>(
      `SELECT toString(toUnixTimestamp(hour) * 1000) AS hour, src_zone, src_node, src_namespace, replaceRegexpOne(toString(src_addr), '^::ffff:', '') AS src,
          destination, via, toString(sum(bytes)) AS bytes
        FROM ${store.tbl('egress_1h')}
        WHERE has({hours:Array(UInt32)}, toUnixTimestamp(hour)) AND (via = 'proxy' OR dst_zone = {defaultZone:String})
        GROUP BY hour, src_zone, src_node, src_namespace, src, destination, via`,
      { hours: usable.map(secs), defaultZone: inv.defaultZone },
    )).filter((r) => !inv.isProxy(r.src) && !inv.approvedEgress(r.src_zone, r.destination));
    const out: Finding[] = [];
    for (const g of GROUPS) {
      const now5 = new Map<string, { bytes: number; top: EgressRow }>();
      for (const r of current) {
        const k = groupOf(g, r);
        if (!k) continue;
        const have = now5.get(k);
        now5.set(k, { bytes: (have?.bytes ?? 0) + r.bytes, top: have && have.top.bytes >= r.bytes ? have.top : r });
      }
      for (const [k, { bytes, top }] of now5) {
        const perHour = new Map(usable.map((h) => [h, 0]));
        for (const r of history) if (groupOf(g, { ...r, bytes: 0, flows: 0, first: 0, last: 0 }) === k) perHour.set(Number(r.hour), perHour.get(Number(r.hour))! + Number(r.bytes) / 12);
        const values = [...perHour.values()];
        const base = median(values);
        const mad = medianAbsoluteDeviation(values) * 1.4826;
        const threshold = Math.max(this.o.spikeBytes, base + this.o.mads * mad);
        if (bytes <= threshold) continue;
        out.push({
          detector: this.name, severity: 'critical', key: ['spike', g, k], time: bucket + FIVE_MIN, first: bucket, last: bucket + FIVE_MIN,
          flows: 1, bytes, counts: 'total',
          summary: `${g} ${k} sent ${human(bytes)} in 5 minutes to unapproved destinations, against ${human(base)} at this hour of the week (threshold ${human(threshold)}); most of it ${sourceName(top)} to ${top.destination}`,
          entities: { src_addr: top.src, src_zone: top.src_zone, ...(top.src_node ? { src_node: top.src_node } : {}), ...(top.via === 'direct' ? { dst_addr: top.destination } : {}) },
          details: { group: g, value: k, observed_bytes: bytes, baseline_median_bytes: base, baseline_mad_bytes: mad, threshold_bytes: threshold, samples: values.length },
          where: g === 'node' || g === 'destination' ? egressWhere(top) : whereOf({ src_zone: top.src_zone }),
        });
      }
    }
    return out;
  }
}
