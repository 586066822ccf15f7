/**
 * Things that happen every `period` ms at their own phase: the export of a long-lived flow's record (every
 * active timeout), a scrape, a ping. A slot asks which fire inside it; items are kept sorted by phase so that
 * costs the items that fire, not all of them (512 nodes hold tens of thousands of queue pairs).
 */
export interface Phased {
  /** In [0, period): the item fires at every t with t mod period = phase. */
  phase: number;
}

export class Ticker<T extends Phased> {
  private readonly items: T[];
  private readonly phases: number[];

  constructor(items: readonly T[], readonly period: number) {
    this.items = [...items].sort((a, b) => a.phase - b.phase);
    this.phases = this.items.map((i) => i.phase);
  }

  get all(): readonly T[] {
    return this.items;
  }

  /** Calls `fire(item, t)` for every firing at t in [from, to). */
  fires(from: number, to: number, fire: (item: T, t: number) => void): void {
    const p = this.period;
    if (to - from >= p) {
      for (const item of this.items) {
        for (let t = from + ((item.phase - from) % p + p) % p; t < to; t += p) fire(item, t);
      }
      return;
    }
    const lo = ((from % p) + p) % p;
    const base = from - lo;
    this.range(lo, Math.min(p, lo + to - from), base, fire);
    if (lo + to - from > p) this.range(0, lo + to - from - p, base + p, fire);
  }

  private range(lo: number, hi: number, base: number, fire: (item: T, t: number) => void): void {
    for (let i = this.lowerBound(lo); i < this.items.length && this.phases[i]! < hi; i++) fire(this.items[i]!, base + this.phases[i]!);
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.phases.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.phases[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
