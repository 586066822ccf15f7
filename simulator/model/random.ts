/**
 * Seeded randomness the model can address. Every random draw comes from a generator seeded by a hash of what it
 * is about (the scenario seed, a source, a job, a time slot), never from one stream shared by everything, so
 * what happens in one slot does not depend on which slots were generated before it (model.ts relies on this
 * for ranges), and adding a job does not change the traffic of the others.
 */

/** 32-bit hash of strings and integers (negative and up to 2^53 too): FNV-1a, then murmur3's finaliser. */
export function hash32(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    if (typeof p === 'number') {
      h = Math.imul(h ^ (p >>> 0), 0x01000193);
      h = Math.imul(h ^ (Math.floor(p / 4294967296) >>> 0), 0x01000193);
    } else {
      for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193);
    }
    h = Math.imul(h ^ 0xff, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A hash as a fraction in [0, 1). */
export const unit = (...parts: readonly (string | number)[]): number => hash32(...parts) / 4294967296;

/** mulberry32: a small, fast, seeded PRNG giving fractions in [0, 1); the same seed, the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 seeded from a hash of `parts`. */
export class Rng {
  readonly next: () => number;

  constructor(...parts: readonly (string | number)[]) {
    this.next = mulberry32(hash32(...parts));
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** x scaled by a factor in [1 - f, 1 + f). */
  jitter(x: number, f = 0.2): number {
    return x * (1 - f + 2 * f * this.next());
  }

  /** A Poisson count of mean `mean` (Knuth below 30, a rounded normal above). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) {
      const u = 1 - this.next();
      const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
      return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
    }
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = this.next(); p > limit; p *= this.next()) k++;
    return k;
  }

  /** An ephemeral TCP/UDP source port (Linux's default range 32768-60999). */
  ephemeral(): number {
    return this.between(32768, 60999);
  }
}

/** `k` distinct items of `xs` (all when k >= xs.length), in a seeded order. */
export function sample<T>(rng: Rng, xs: readonly T[], k: number): T[] {
  const a = [...xs];
  const n = Math.min(k, a.length);
  for (let i = 0; i < n; i++) {
    const j = i + rng.int(a.length - i);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}
