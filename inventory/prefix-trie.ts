/**
 * Longest-prefix match of IPv4 and IPv6 addresses against CIDRs, each carrying a value: address -> zone,
 * fabric, node. Built once from the inventory, then queried for both ends of every flow on the collector's hot
 * path, so a lookup parses the address by hand and allocates nothing.
 *
 * Why not a library: no kept npm package does longest-prefix match with values for both families
 * (cidr-matcher is IPv4-only and answers a boolean; ipaddr.js and ip-address parse and test one range at a
 * time, allocating objects per call). node:net's BlockList is boolean too. The parsers here accept exactly
 * what node:net isIP() accepts (the unit tests cross-check that), including IPv6 zone ids (`fe80::1%eth0`,
 * ignored for matching), and reject leading zeros in IPv4 octets like isIP does.
 *
 * How: not a bit-by-bit trie but its flattened form. Because CIDRs are either nested or disjoint, the prefixes
 * cut each address space into at most 2n+1 intervals in which the longest matching prefix is constant. A sweep
 * over the prefixes sorted by (start, length) computes those intervals once (O(n log n), redone lazily on the
 * first lookup after an insert); a lookup is then a binary search for the last interval start <= address in a
 * Uint32Array (IPv4: one word per start; IPv6: four words per start compared in order). With 1,000 prefixes
 * that is about 11 comparisons of small integers, with no hashing, no BigInt and no per-lookup garbage.
 *
 * Semantics, chosen here:
 * - IPv4 and IPv6 are separate tables. An IPv4 address written IPv4-mapped (`::ffff:10.1.2.3`, as ClickHouse's
 *   IPv6 columns print it, or in hex, `::ffff:a01:203`) is an IPv4 address and matches only IPv4 CIDRs.
 *   An IPv6 CIDR lying inside ::ffff:0:0/96 is an IPv4 CIDR written mapped and is stored as one
 *   (`::ffff:10.0.0.0/104` is 10.0.0.0/8). Other IPv6 CIDRs, ::/0 included, never match IPv4 addresses:
 *   0.0.0.0/0 is the IPv4 default and ::/0 the IPv6 default; give both for a catch-all.
 * - insert() throws CidrError for a CIDR whose host bits are not zero (`10.4.7.12/16`): in an inventory that is
 *   far more often a typo than an intent, so it is refused, naming the network that was probably meant.
 *   A bare address is a host route (/32 or /128). Inserting the same network again replaces its value.
 * - lookup() never throws: anything that is not an address (flows can carry anything) gives undefined, as does
 *   an address no prefix covers (the caller maps that to zone "internet").
 */

export class CidrError extends Error {
  override readonly name = 'CidrError';
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid CIDR ${JSON.stringify(input.length > 100 ? `${input.slice(0, 100)}...` : input)}: ${reason}`);
  }
}

export interface PrefixEntry<T> {
  /** The network in canonical form: `10.4.0.0/16`, `2001:db8::/32` (mapped IPv6 CIDRs are shown as IPv4). */
  readonly prefix: string;
  readonly family: 4 | 6;
  /** Prefix length: 0-32 for IPv4, 0-128 for IPv6. */
  readonly length: number;
  readonly value: T;
}

interface Network {
  family: 4 | 6;
  start: bigint;
  length: number;
}

export class PrefixTrie<T> {
  private readonly list: PrefixEntry<T>[] = [];
  private readonly nets: Network[] = [];
  private readonly index = new Map<string, number>();
  private dirty = true;
  // Built tables: interval starts (sorted) and, per interval, the index into `list` of its longest prefix or -1.
  private s4 = new Uint32Array(1);
  private v4 = new Int32Array(1).fill(-1);
  private s6 = new Uint32Array(4);
  private v6 = new Int32Array(1).fill(-1);
  private n6 = 1;

  constructor(entries?: Iterable<readonly [cidr: string, value: T]>) {
    if (entries) for (const [cidr, value] of entries) this.insert(cidr, value);
  }

  /** Number of distinct networks. */
  get size(): number {
    return this.list.length;
  }

  /** Add a network (`10.0.0.0/8`, `fd00::/8`, `::ffff:10.0.0.0/104`, or a bare address); throws CidrError. */
  insert(cidr: string, value: T): this {
    const net = parseCidr(cidr);
    const prefix = `${net.family === 4 ? format4(Number(net.start)) : format6(net.start)}/${net.length}`;
    const entry: PrefixEntry<T> = Object.freeze({ prefix, family: net.family, length: net.length, value });
    const at = this.index.get(prefix);
    if (at !== undefined) this.list[at] = entry;
    else {
      this.index.set(prefix, this.list.length);
      this.list.push(entry);
      this.nets.push(net);
    }
    this.dirty = true;
    return this;
  }

  /** The value of the longest prefix containing `addr`, or undefined (no match, or not an address). */
  lookup(addr: string): T | undefined {
    const i = this.find(addr);
    return i < 0 ? undefined : this.list[i]!.value;
  }

  /** Like lookup(), with the matched network. The returned object is shared and frozen. */
  lookupEntry(addr: string): PrefixEntry<T> | undefined {
    const i = this.find(addr);
    return i < 0 ? undefined : this.list[i];
  }

  /** All networks, in insertion order. */
  entries(): IterableIterator<PrefixEntry<T>> {
    return this.list.values();
  }

  private find(addr: string): number {
    if (this.dirty) this.build();
    if (typeof addr !== 'string') return -1;
    const len = addr.length;
    const x = parse4(addr, 0, len);
    if (x >= 0) return this.find4(x);
    // Fast path for the usual spelling of a mapped address (ClickHouse's); the rest goes through parse6.
    if (len > 7 && addr.charCodeAt(6) === 58 && addr.startsWith('::ffff:')) {
      const y = parse4(addr, 7, len);
      if (y >= 0) return this.find4(y);
    }
    const kind = parse6(addr, len);
    if (kind === 4) return this.find4(W[3]!);
    if (kind === 6) return this.find6();
    return -1;
  }

  private find4(x: number): number {
    const s = this.s4;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid]! <= x) lo = mid;
      else hi = mid - 1;
    }
    return this.v4[lo]!;
  }

  /** Binary search of the address in the scratch words W. */
  private find6(): number {
    const s = this.s6;
    const w0 = W[0]!;
    const w1 = W[1]!;
    const w2 = W[2]!;
    const w3 = W[3]!;
    let lo = 0;
    let hi = this.n6 - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      const b = mid << 2;
      let a = s[b]!;
      let le: boolean;
      if (a !== w0) le = a < w0;
      else if ((a = s[b + 1]!) !== w1) le = a < w1;
      else if ((a = s[b + 2]!) !== w2) le = a < w2;
      else le = s[b + 3]! <= w3;
      if (le) lo = mid;
      else hi = mid - 1;
    }
    return this.v6[lo]!;
  }

  private build(): void {
    const four: Indexed[] = [];
    const six: Indexed[] = [];
    this.nets.forEach((n, idx) => {
      const bits = n.family === 4 ? 32 : 128;
      const item = { start: n.start, end: n.start + (1n << BigInt(bits - n.length)) - 1n, length: n.length, idx };
      (n.family === 4 ? four : six).push(item);
    });
    const t4 = sweep(four, MAX4);
    this.s4 = Uint32Array.from(t4.starts, (b) => Number(b));
    this.v4 = Int32Array.from(t4.vals);
    const t6 = sweep(six, MAX6);
    this.n6 = t6.starts.length;
    this.s6 = new Uint32Array(this.n6 * 4);
    t6.starts.forEach((b, i) => {
      for (let k = 0; k < 4; k++) this.s6[i * 4 + k] = Number((b >> BigInt(96 - 32 * k)) & 0xffffffffn);
    });
    this.v6 = Int32Array.from(t6.vals);
    this.dirty = false;
  }
}

const MAX4 = (1n << 32n) - 1n;
const MAX6 = (1n << 128n) - 1n;

interface Indexed {
  start: bigint;
  end: bigint;
  length: number;
  idx: number;
}

/**
 * Flatten nested-or-disjoint prefixes into intervals: starts[i] begins an interval (running to starts[i+1]-1)
 * whose longest matching prefix is vals[i] (-1: none). starts[0] is 0; neighbours never share a value.
 */
function sweep(prefixes: Indexed[], max: bigint): { starts: bigint[]; vals: number[] } {
  prefixes.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.length - b.length));
  const starts: bigint[] = [];
  const vals: number[] = [];
  const put = (at: bigint, v: number) => {
    const n = starts.length;
    if (n > 0 && starts[n - 1] === at) {
      // A zero-length interval: the new value starts at the same point and replaces it.
      vals[n - 1] = v;
      if (n > 1 && vals[n - 2] === v) {
        starts.pop();
        vals.pop();
      }
    } else if (n === 0 || vals[n - 1] !== v) {
      starts.push(at);
      vals.push(v);
    }
  };
  put(0n, -1);
  const stack: Indexed[] = [];
  const under = () => (stack.length > 0 ? stack[stack.length - 1]!.idx : -1);
  for (const p of prefixes) {
    // Close the enclosing prefixes that end before p; since CIDRs nest, p lies inside whatever is left on top.
    while (stack.length > 0 && stack[stack.length - 1]!.end < p.start) put(stack.pop()!.end + 1n, under());
    put(p.start, p.idx);
    stack.push(p);
  }
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.end < max) put(top.end + 1n, under());
  }
  return { starts, vals };
}

function parseCidr(input: string): Network {
  if (typeof input !== 'string') throw new CidrError(String(input), 'not a string');
  const s = input.trim();
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  let family: 4 | 6;
  let start: bigint;
  let max: number;
  const x = parse4(addr, 0, addr.length);
  if (x >= 0) {
    family = 4;
    start = BigInt(x);
    max = 32;
  } else if (!addr.includes('%') && parse6(addr, addr.length) > 0) {
    family = 6;
    start = (BigInt(W[0]!) << 96n) | (BigInt(W[1]!) << 64n) | (BigInt(W[2]!) << 32n) | BigInt(W[3]!);
    max = 128;
  } else {
    throw new CidrError(input, `${JSON.stringify(addr)} is not an IPv4 or IPv6 address`);
  }
  let length = max;
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(l) || Number(l) > max) throw new CidrError(input, `prefix length must be 0-${max}`);
    length = Number(l);
  }
  const host = (1n << BigInt(max - length)) - 1n;
  if ((start & host) !== 0n) {
    const net = start & ~host;
    const meant = `${family === 4 ? format4(Number(net)) : format6(net)}/${length}`;
    throw new CidrError(input, `host bits are set (the network is ${meant})`);
  }
  // An IPv6 CIDR inside ::ffff:0:0/96 is an IPv4 CIDR written mapped.
  if (family === 6 && length >= 96 && start >> 32n === 0xffffn) {
    return { family: 4, start: start & MAX4, length: length - 96 };
  }
  return { family, start, length };
}

const format4 = (x: number) => `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;

/** RFC 5952 text: lower-case hex, the longest run (>= 2) of zero groups, the first if tied, written `::`. */
function format6(v: bigint): string {
  const g: number[] = [];
  for (let k = 7; k >= 0; k--) g.push(Number((v >> BigInt(16 * k)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((n) => n.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/**
 * Dotted-quad IPv4 in s[i, end) to an unsigned 32-bit number, or -1. Like isIP: exactly four decimal octets
 * 0-255, no leading zeros, nothing else.
 */
function parse4(s: string, i: number, end: number): number {
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      acc = acc * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + part;
}

/** Scratch output of parse6: the address as four big-endian 32-bit words. */
const W = new Uint32Array(4);
const G = new Uint16Array(8);

/**
 * IPv6 text in s[0, end) into W. Returns 6, or 4 when the address is IPv4-mapped (::ffff:a.b.c.d; the IPv4
 * address is then W[3]), or -1 when it is not an address. Accepts what isIP accepts: `::` once, standing for at
 * least one group; 1-4 hex digits per group; an IPv4 tail in place of the last two groups; a `%zone` suffix of
 * [0-9A-Za-z.:-] (ignored).
 */
function parse6(s: string, end: number): number {
  let stop = end; // becomes the position of a '%' zone suffix, if any
  if (end < 2) return -1;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return -1;
    gap = 0;
    i = 2;
    if (end > 2 && s.charCodeAt(2) === 37) {
      stop = zone(s, 2, end);
      if (stop < 0) return -1;
    }
  }
  while (i < stop) {
    let v = 0;
    let j = i;
    for (; j < stop; j++) {
      const c = s.charCodeAt(j);
      let h: number;
      if (c >= 48 && c <= 57) h = c - 48;
      else if (c >= 97 && c <= 102) h = c - 87;
      else if (c >= 65 && c <= 70) h = c - 55;
      else break;
      v = v * 16 + h;
    }
    if (j < stop && s.charCodeAt(j) === 46) {
      // IPv4 tail: the rest of the text (up to a zone), in place of the last two groups.
      if (n > 6) return -1;
      const pct = s.indexOf('%', j);
      if (pct >= 0) stop = zone(s, pct, end);
      if (stop < 0) return -1;
      const x = parse4(s, i, stop);
      if (x < 0) return -1;
      G[n++] = x >>> 16;
      G[n++] = x & 0xffff;
      break;
    }
    const d = j - i;
    if (d === 0 || d > 4 || n === 8) return -1;
    G[n++] = v;
    if (j === stop) break;
    const c = s.charCodeAt(j);
    if (c === 37) {
      stop = zone(s, j, end);
      if (stop < 0) return -1;
      break;
    }
    if (c !== 58 || j + 1 === stop) return -1;
    if (s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return -1;
      gap = n;
      i = j + 2;
      if (i < end && s.charCodeAt(i) === 37) {
        stop = zone(s, i, end);
        if (stop < 0) return -1;
      }
    } else {
      i = j + 1;
    }
  }
  if (gap < 0) {
    if (n !== 8) return -1;
  } else {
    if (n > 7) return -1;
    const tail = n - gap;
    for (let k = tail - 1; k >= 0; k--) G[8 - tail + k] = G[gap + k]!;
    for (let k = gap; k < 8 - tail; k++) G[k] = 0;
  }
  W[0] = (G[0]! << 16) | G[1]!;
  W[1] = (G[2]! << 16) | G[3]!;
  W[2] = (G[4]! << 16) | G[5]!;
  W[3] = (G[6]! << 16) | G[7]!;
  return W[0] === 0 && W[1] === 0 && W[2] === 0xffff ? 4 : 6;
}

/** Check the zone id after the '%' at s[pct]: one or more of [0-9A-Za-z.:-]. Returns pct, or -1 if it is bad. */
function zone(s: string, pct: number, end: number): number {
  if (pct === end - 1) return -1;
  for (let j = pct + 1; j < end; j++) {
    const c = s.charCodeAt(j);
    if (!((c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46)) return -1;
  }
  return pct;
}
