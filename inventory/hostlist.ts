/**
 * Slurm hostlist expressions: `gpu[001-016,020],cpu-[1-3],login1` to an ordered list of names and back.
 *
 * Written by hand because nothing kept on npm does it: the registry has no Slurm hostlist or nodeset package
 * (the names that match are DNS blocklist compilers and OPC-UA "nodesets"); the good implementations are
 * Python (python-hostlist, ClusterShell's NodeSet). The grammar is small, and the point is to agree with
 * Slurm itself, so this follows src/common/hostlist.c (`_next_tok`, `_hostlist_create_bracketed`,
 * `_push_range_list`, `_parse_single_range`) and therefore `scontrol show hostnames`:
 *
 * - Top-level separators are commas and whitespace; repeated separators are skipped. Commas inside brackets
 *   separate the ranges of that bracket.
 * - A range is `N` or `N-M` in decimal with N <= M; its width is the number of digits written for N, and every
 *   number of the range is zero-padded to that width (`[08-11]` gives 08..11, `[9-11]` gives 9, 10, 11).
 * - Text may follow a bracket (`gpu[1-2]-ib`) and a name may hold several brackets (`rack[1-2]-node[01-02]`).
 *   Order is Slurm's: the last bracket varies fastest and the others nest from the second-to-last (outermost)
 *   back to the first, so two brackets give the plain cartesian product (rack1-node01, rack1-node02,
 *   rack2-node01, ...) and three give Slurm's odd order `a[1-2]b[3-4]c[5-6]` -> a1b3c5 a1b3c6 a2b3c5 ...
 * - Order and duplicates of the input are kept (Slurm does not sort or dedupe for `show hostnames`).
 *
 * Deliberately stricter than Slurm, each throwing HostlistError instead of guessing: an empty expression
 * (Slurm returns no hosts), `[1-]` (Slurm reads 1), a stray `]` or nested `[` (Slurm keeps them in a name),
 * signs or other non-digits in a range (Slurm's strtoul accepts `+1`). Whitespace around numbers inside a
 * bracket is ignored (Slurm would count a space into the padding width). Slurm's 65536-hosts-per-range limit
 * is not copied; instead the whole expression is capped (`maxHosts`, default 1,000,000) and every name at
 * 255 characters, both checked from the parsed ranges before any name is built, so hostile input cannot
 * exhaust memory.
 */

export class HostlistError extends Error {
  override readonly name = 'HostlistError';
  constructor(
    /** The expression (or, for compressHostlist, the host name) that was rejected. */
    readonly input: string,
    reason: string,
  ) {
    super(`invalid hostlist ${quote(input)}: ${reason}`);
  }
}

/** Default cap on the number of names one expression may expand to. */
export const MAX_HOSTS = 1_000_000;
/** Longest name an expansion may produce (DNS names stop at 253). */
export const MAX_NAME_LENGTH = 255;

export interface ExpandOptions {
  /** Throw instead of expanding to more names than this (default MAX_HOSTS). */
  maxHosts?: number;
}

export interface CompressOptions {
  /** Sort names naturally first (prefix, then number), like `scontrol show hostlistsorted`. Default false. */
  sort?: boolean;
  /** Drop repeated names (the first one stays). Default false. */
  unique?: boolean;
}

interface Range {
  lo: number;
  hi: number;
  width: number;
}

/** One top-level item: literal texts around k brackets (texts.length === groups.length + 1). */
interface Token {
  texts: string[];
  groups: Range[][];
}

/** Expand a Slurm hostlist expression to its names, in Slurm's order. Throws HostlistError on malformed input. */
export function expandHostlist(expr: string, options: ExpandOptions = {}): string[] {
  const maxHosts = options.maxHosts ?? MAX_HOSTS;
  if (typeof expr !== 'string') throw new HostlistError(String(expr), 'not a string');
  const tokens = tokenize(expr);
  if (tokens.length === 0) throw new HostlistError(expr, 'empty hostlist');

  // Count and measure everything before building a single name.
  let total = 0;
  for (const t of tokens) {
    let n = 1;
    let len = 0;
    for (const s of t.texts) len += s.length;
    for (const g of t.groups) {
      let inGroup = 0;
      let widest = 0;
      for (const r of g) {
        inGroup += r.hi - r.lo + 1;
        widest = Math.max(widest, r.width, String(r.hi).length);
      }
      n *= inGroup;
      len += widest;
      if (n > maxHosts) break;
    }
    total += n;
    if (total > maxHosts) throw new HostlistError(expr, `expands to more than ${maxHosts} hosts`);
    if (len > MAX_NAME_LENGTH) throw new HostlistError(expr, `a name would be longer than ${MAX_NAME_LENGTH} characters`);
  }

  const out: string[] = [];
  for (const t of tokens) emit(t, out);
  return out;
}

function emit(t: Token, out: string[]): void {
  const { texts, groups } = t;
  const k = groups.length;
  if (k === 0) {
    out.push(texts[0]!);
    return;
  }
  if (k === 1) {
    const pre = texts[0]!;
    const post = texts[1]!;
    for (const r of groups[0]!) for (let v = r.lo; v <= r.hi; v++) out.push(pre + pad(v, r.width) + post);
    return;
  }
  // Slurm's nesting (see the top comment): loops from group k-2 down to 0, then k-1 innermost.
  const order: number[] = [];
  for (let g = k - 2; g >= 0; g--) order.push(g);
  order.push(k - 1);
  const values = groups.map((g) => {
    const vs: string[] = [];
    for (const r of g) for (let v = r.lo; v <= r.hi; v++) vs.push(pad(v, r.width));
    return vs;
  });
  const at = new Array<number>(k).fill(0);
  for (;;) {
    let name = texts[0]!;
    for (let g = 0; g < k; g++) name += values[g]![at[g]!]! + texts[g + 1]!;
    out.push(name);
    // Advance the odometer, innermost (last in `order`) first.
    let d = k - 1;
    for (; d >= 0; d--) {
      const g = order[d]!;
      if (++at[g]! < values[g]!.length) break;
      at[g] = 0;
    }
    if (d < 0) return;
  }
}

const isSeparator = (c: string) => c === ',' || c === ' ' || c === '\t' || c === '\n' || c === '\r';

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let texts: string[] = [];
  let groups: Range[][] = [];
  let text = '';
  let inToken = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '[') {
      const close = expr.indexOf(']', i + 1);
      if (close < 0) throw new HostlistError(expr, `unbalanced "[" at offset ${i}`);
      const nested = expr.indexOf('[', i + 1);
      if (nested >= 0 && nested < close) throw new HostlistError(expr, `nested "[" at offset ${nested}`);
      texts.push(text);
      groups.push(parseRanges(expr, expr.slice(i + 1, close)));
      text = '';
      inToken = true;
      i = close;
    } else if (c === ']') {
      throw new HostlistError(expr, `unbalanced "]" at offset ${i}`);
    } else if (isSeparator(c)) {
      if (inToken) {
        texts.push(text);
        tokens.push({ texts, groups });
        texts = [];
        groups = [];
        text = '';
        inToken = false;
      }
    } else {
      text += c;
      inToken = true;
    }
  }
  if (inToken) {
    texts.push(text);
    tokens.push({ texts, groups });
  }
  return tokens;
}

function parseRanges(expr: string, body: string): Range[] {
  const ranges: Range[] = [];
  for (const raw of body.split(',')) {
    const item = raw.trim();
    const dash = item.indexOf('-');
    const loStr = (dash < 0 ? item : item.slice(0, dash)).trim();
    const hiStr = dash < 0 ? loStr : item.slice(dash + 1).trim();
    if (item === '') throw new HostlistError(expr, `empty range in "[${body}]"`);
    if (!isDigits(loStr) || !isDigits(hiStr)) throw new HostlistError(expr, `range "${item}" is not N or N-M in decimal`);
    const lo = Number(loStr);
    const hi = Number(hiStr);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) throw new HostlistError(expr, `range "${item}" is too large`);
    if (lo > hi) throw new HostlistError(expr, `descending range "${item}"`);
    ranges.push({ lo, hi, width: loStr.length });
  }
  return ranges;
}

const isDigits = (s: string) => /^[0-9]+$/.test(s);
const pad = (v: number, width: number) => String(v).padStart(width, '0');

const quote = (s: string) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s);

/** A name split at its last run of digits, the part a range can vary. */
interface Split {
  name: string;
  prefix: string;
  digits: string;
  num: number;
  suffix: string;
}

function split(name: string): Split {
  if (typeof name !== 'string' || name === '') throw new HostlistError(String(name), 'empty host name');
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '[' || c === ']' || isSeparator(c)) throw new HostlistError(name, `host name contains ${JSON.stringify(c)}`);
  }
  let end = name.length;
  while (end > 0 && !isDigit(name.charCodeAt(end - 1))) end--;
  let start = end;
  while (start > 0 && isDigit(name.charCodeAt(start - 1))) start--;
  const digits = name.slice(start, end);
  // No digits, or too many to count exactly: the name stays literal.
  if (digits === '' || digits.length > 15) return { name, prefix: name, digits: '', num: -1, suffix: '' };
  return { name, prefix: name.slice(0, start), digits, num: Number(digits), suffix: name.slice(end) };
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Compress names into a Slurm hostlist expression: runs of consecutive names that share the text around their
 * last number become one bracket (`gpu[001-016,020]`, `gpu[1-2]-ib`). By default the order and duplicates of the
 * input are kept, like `scontrol show hostlist`, so expandHostlist(compressHostlist(names)) returns `names`
 * exactly; with `sort`/`unique` it returns the sorted/deduplicated list. Throws HostlistError for an empty name
 * or one containing brackets, commas or whitespace (it could not be expanded back).
 */
export function compressHostlist(names: Iterable<string>, options: CompressOptions = {}): string {
  let parts = Array.from(names, split);
  if (options.unique) {
    const seen = new Set<string>();
    parts = parts.filter((p) => !seen.has(p.name) && seen.add(p.name));
  }
  if (options.sort) parts.sort(compareSplit);

  const out: string[] = [];
  for (let i = 0; i < parts.length; ) {
    const first = parts[i]!;
    if (first.num < 0) {
      out.push(first.name);
      i++;
      continue;
    }
    const ranges: Range[] = [];
    let j = i;
    for (; j < parts.length; j++) {
      const p = parts[j]!;
      if (p.num < 0 || p.prefix !== first.prefix || p.suffix !== first.suffix) break;
      const last = ranges[ranges.length - 1];
      // Extend a range only when expanding it would print this name exactly (same zero padding).
      if (last && p.num === last.hi + 1 && pad(p.num, last.width) === p.digits) last.hi = p.num;
      else ranges.push({ lo: p.num, hi: p.num, width: p.digits.length });
    }
    if (j - i === 1) out.push(first.name);
    else {
      const body = ranges.map((r) => (r.lo === r.hi ? pad(r.lo, r.width) : `${pad(r.lo, r.width)}-${pad(r.hi, r.width)}`));
      out.push(`${first.prefix}[${body.join(',')}]${first.suffix}`);
    }
    i = j;
  }
  return out.join(',');
}

function compareSplit(a: Split, b: Split): number {
  return natural(a.prefix, b.prefix) || natural(a.suffix, b.suffix) || a.num - b.num || cmp(a.digits, b.digits) || cmp(a.name, b.name);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Natural order: runs of digits compare by value, the rest by code unit (rack2 < rack10). */
function natural(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ei = i;
      let ej = j;
      while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
      while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
      const da = a.slice(i, ei).replace(/^0+(?=.)/, '');
      const db = b.slice(j, ej).replace(/^0+(?=.)/, '');
      const c = da.length - db.length || cmp(da, db);
      if (c) return c;
      i = ei;
      j = ej;
    } else {
      if (ca !== cb) return ca - cb;
      i++;
      j++;
    }
  }
  return a.length - i - (b.length - j);
}
