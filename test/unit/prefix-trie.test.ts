import { isIP } from 'node:net';
import { CidrError, PrefixTrie } from '../../inventory/prefix-trie';
import { mulberry32 } from '../../simulator/model/random';

describe('PrefixTrie', () => {
  const zones = new PrefixTrie<string>([
    ['10.0.0.0/8', 'cluster'],
    ['10.4.0.0/16', 'rail-4'],
    ['10.4.7.12/32', 'bmc-gw'],
    ['10.4.7.0/24', 'rack-7'],
    ['192.168.0.0/16', 'mgmt'],
    ['fd00::/8', 'ula'],
    ['2001:db8::/32', 'doc'],
    ['2001:db8:0:1::/64', 'doc-1'],
    ['2001:db8::7/128', 'doc-host'],
  ]);

  it('finds the longest matching IPv4 prefix, whatever the insertion order', () => {
    expect(zones.lookup('10.1.2.3')).toBe('cluster');
    expect(zones.lookup('10.4.0.0')).toBe('rail-4');
    expect(zones.lookup('10.4.255.255')).toBe('rail-4');
    expect(zones.lookup('10.4.7.11')).toBe('rack-7');
    expect(zones.lookup('10.4.7.12')).toBe('bmc-gw');
    expect(zones.lookup('10.4.7.13')).toBe('rack-7');
    expect(zones.lookup('10.4.8.0')).toBe('rail-4');
    expect(zones.lookup('10.5.0.0')).toBe('cluster');
    expect(zones.lookup('10.255.255.255')).toBe('cluster');
    expect(zones.lookup('11.0.0.0')).toBeUndefined();
    expect(zones.lookup('9.255.255.255')).toBeUndefined();
    expect(zones.lookup('192.168.3.4')).toBe('mgmt');
    expect(zones.lookup('8.8.8.8')).toBeUndefined();
    expect(zones.lookupEntry('10.4.7.12')).toEqual({ prefix: '10.4.7.12/32', family: 4, length: 32, value: 'bmc-gw' });
    expect(zones.lookupEntry('10.4.9.1')).toEqual({ prefix: '10.4.0.0/16', family: 4, length: 16, value: 'rail-4' });
    expect(zones.lookupEntry('8.8.8.8')).toBeUndefined();
  });

  it('finds the longest matching IPv6 prefix', () => {
    expect(zones.lookup('fd12:3456::1')).toBe('ula');
    expect(zones.lookup('FDFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF')).toBe('ula');
    expect(zones.lookup('fc00::1')).toBeUndefined();
    expect(zones.lookup('2001:db8::1')).toBe('doc');
    expect(zones.lookup('2001:db8::7')).toBe('doc-host');
    expect(zones.lookup('2001:db8:0:1:ffff::')).toBe('doc-1');
    expect(zones.lookup('2001:db8:0:2::')).toBe('doc');
    expect(zones.lookup('2001:db9::')).toBeUndefined();
    expect(zones.lookup('fe80::1%eth0')).toBeUndefined();
    expect(zones.lookupEntry('2001:0db8:0000:0001:0000:0000:0000:0001')).toEqual({
      prefix: '2001:db8:0:1::/64',
      family: 6,
      length: 64,
      value: 'doc-1',
    });
  });

  it('matches IPv4-mapped IPv6 addresses against IPv4 prefixes only', () => {
    expect(zones.lookup('::ffff:10.4.7.12')).toBe('bmc-gw');
    expect(zones.lookup('::FFFF:10.4.7.13')).toBe('rack-7');
    expect(zones.lookup('::ffff:a04:70c')).toBe('bmc-gw'); // the hex spelling of the same address
    expect(zones.lookup('0:0:0:0:0:ffff:0a04:0901')).toBe('rail-4');
    expect(zones.lookup('::ffff:8.8.8.8')).toBeUndefined();
    const t = new PrefixTrie<string>([['::/0', 'v6-default']]);
    expect(t.lookup('::ffff:10.0.0.1')).toBeUndefined();
    expect(t.lookup('10.0.0.1')).toBeUndefined();
    expect(t.lookup('::10.0.0.1')).toBe('v6-default'); // IPv4-compatible, not mapped: plain IPv6
    t.insert('0.0.0.0/0', 'v4-default');
    expect(t.lookup('::ffff:10.0.0.1')).toBe('v4-default');
    expect(t.lookup('64:ff9b::10.0.0.1')).toBe('v6-default');
  });

  it('stores an IPv6 CIDR inside ::ffff:0:0/96 as the IPv4 CIDR it is', () => {
    const t = new PrefixTrie<string>().insert('::ffff:10.0.0.0/104', 'mapped').insert('::ffff:0:0/96', 'all-v4');
    expect(t.lookupEntry('10.9.9.9')).toEqual({ prefix: '10.0.0.0/8', family: 4, length: 8, value: 'mapped' });
    expect(t.lookupEntry('11.0.0.1')?.prefix).toBe('0.0.0.0/0');
    expect(t.lookupEntry('::ffff:11.0.0.1')?.prefix).toBe('0.0.0.0/0');
    t.insert('10.0.0.0/8', 'replaced');
    expect(t.size).toBe(2);
    expect(t.lookup('10.9.9.9')).toBe('replaced');
  });

  it('handles /0, /32 and /128 at the edges of the address space', () => {
    const t = new PrefixTrie<string>([
      ['0.0.0.0/0', 'v4'],
      ['255.255.255.255/32', 'bcast'],
      ['0.0.0.0/32', 'zero'],
      ['::/0', 'v6'],
      ['::/128', 'unspec'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 'last'],
      ['8000::/1', 'top-half'],
      ['255.255.255.254/32', 'last-but-one'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd/128', 'last-but-two'],
    ]);
    expect(t.lookup('0.0.0.0')).toBe('zero');
    expect(t.lookup('0.0.0.1')).toBe('v4');
    expect(t.lookup('255.255.255.253')).toBe('v4');
    expect(t.lookup('255.255.255.254')).toBe('last-but-one');
    expect(t.lookup('255.255.255.255')).toBe('bcast');
    expect(t.lookup('::')).toBe('unspec');
    expect(t.lookup('::1')).toBe('v6');
    expect(t.lookup('7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('v6');
    expect(t.lookup('8000::')).toBe('top-half');
    expect(t.lookup('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffd')).toBe('last-but-two');
    expect(t.lookup('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe')).toBe('top-half');
    expect(t.lookup('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('last');
    const top = new PrefixTrie<string>([
      ['128.0.0.0/1', 'upper'],
      ['255.255.255.254/32', 'last-but-one'],
      ['ffff::/16', 'upper'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128', 'last-but-one'],
    ]);
    expect(top.lookup('255.255.255.254')).toBe('last-but-one');
    expect(top.lookup('255.255.255.255')).toBe('upper');
    expect(top.lookup('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe')).toBe('last-but-one');
    expect(top.lookup('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('upper');
    expect(new PrefixTrie<number>().lookup('10.0.0.1')).toBeUndefined();
    expect(new PrefixTrie<number>().lookup('::1')).toBeUndefined();
  });

  it('returns undefined for anything that is not an address, and never throws', () => {
    const t = new PrefixTrie<string>([
      ['0.0.0.0/0', 'v4'],
      ['::/0', 'v6'],
    ]);
    const junk: unknown[] = [
      '', ' ', '10.0.0', '10.0.0.1.2', '10.0.0.256', '010.0.0.1', '10.0.0.1 ', ' 10.0.0.1', '10.0.0.-1', '1e1.0.0.1',
      '10.0.0.1/32', '10.0.0.1%eth0', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '::1%', '[::1]',
      '1:2:3:4:5:6:7:1.2.3.4', '::ffff:1.2.3', '::ffff:1.2.3.4.5', 'fe80::1%et h0', 'localhost', '0x0a000001',
      undefined, null, 167772161, {},
    ];
    for (const s of junk) expect(t.lookup(s as string)).toBeUndefined();
    expect(t.lookup('fe80::1%eth0')).toBe('v6');
    expect(t.lookup('1:2:3:4:5:6:7::')).toBe('v6');
    expect(t.lookup('::1.2.3.4')).toBe('v6');
  });

  it('accepts exactly the addresses node:net isIP accepts', () => {
    const rnd = mulberry32(11);
    const t = new PrefixTrie<number>([
      ['0.0.0.0/0', 4],
      ['::/0', 6],
    ]);
    const alphabet = '0123456789abcdefABCDEF:.%-xz ';
    const valid = [
      '10.1.2.3', '255.255.255.255', '::ffff:10.1.2.3', '2001:db8::1', '1:2:3:4:5:6:7:8', '::', 'fe80::1%eth0', '1::', '::%lo', '::ffff:1.2.3.4%a.b',
    ];
    let seen = 0;
    const wrong: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      let s: string;
      if (i % 2 === 0) {
        // Mutate a valid address: insert, delete or replace one or two characters.
        s = valid[Math.floor(rnd() * valid.length)]!;
        for (let m = 1 + Math.floor(rnd() * 2); m > 0; m--) {
          const at = Math.floor(rnd() * (s.length + 1));
          const c = alphabet[Math.floor(rnd() * alphabet.length)]!;
          const op = rnd();
          s = op < 0.4 ? s.slice(0, at) + c + s.slice(at) : op < 0.7 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at + 1);
        }
      } else {
        s = Array.from({ length: Math.floor(rnd() * 16) }, () => alphabet[Math.floor(rnd() * 12) + (rnd() < 0.3 ? 16 : 0)] ?? ':').join('');
      }
      const family = isIP(s);
      const got = t.lookup(s);
      if (family === 0) {
        if (got !== undefined) wrong.push(`${JSON.stringify(s)} accepted`);
        continue;
      }
      seen++;
      // An IPv4-mapped address is IPv4 here. The WHATWG URL parser spells IPv6 canonically (RFC 5952).
      const canonical = family === 6 ? new URL(`http://[${s.replace(/%.*/, '')}]`).hostname : '';
      const expected = /^\[::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}\]$/.test(canonical) ? 4 : family;
      if (got !== expected) wrong.push(`${JSON.stringify(s)}: ${got} instead of ${expected}`);
    }
    expect(wrong).toEqual([]);
    expect(seen).toBeGreaterThan(10_000);
  });

  it('validates CIDRs on insert', () => {
    const t = new PrefixTrie<string>();
    expect(() => t.insert('10.4.7.12/16', 'x')).toThrow(new CidrError('10.4.7.12/16', 'host bits are set (the network is 10.4.0.0/16)'));
    expect(() => t.insert('2001:db8::1/32', 'x')).toThrow('host bits are set (the network is 2001:db8::/32)');
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0/8', '::/129', 'fe80::%eth0/64', 'x/8', '', '10.0.0.0/a']) {
      expect(() => t.insert(bad, 'x')).toThrow(CidrError);
    }
    expect(t.size).toBe(0);
    t.insert(' 10.0.0.1 ', 'host').insert('2001:DB8:0:0::1', 'host6');
    expect([...t.entries()].map((e) => e.prefix)).toEqual(['10.0.0.1/32', '2001:db8::1/128']);
  });

  it('agrees with a brute-force scan over random prefixes and addresses', () => {
    const rnd = mulberry32(2024);
    const u32 = () => Math.floor(rnd() * 2 ** 32);
    const wrong: string[] = [];
    let checked = 0;
    for (let round = 0; round < 20; round++) {
      // A few hundred prefixes clustered in a small part of the space, so that they nest and overlap often.
      const base4 = u32() & 0xff000000;
      const base6 = BigInt(u32()) << 96n;
      const four: { net: number; len: number; v: string }[] = [];
      const six: { net: bigint; len: number; v: string }[] = [];
      const t = new PrefixTrie<string>();
      const seen = new Set<string>();
      for (let i = 0; i < 300; i++) {
        const len4 = Math.floor(rnd() * 33);
        const net4 = len4 === 0 ? 0 : Number(BigInt((base4 | (u32() & 0x00ffffff & (rnd() < 0.5 ? 0x000f0f0f : 0xffffff))) >>> 0) & (((1n << 32n) - 1n) ^ ((1n << BigInt(32 - len4)) - 1n)));
        const len6 = Math.floor(rnd() * 129);
        const raw6 = base6 | (BigInt(u32() & 0xffff) << 80n) | (BigInt(u32()) << 32n) | BigInt(u32() & 0xff);
        const net6 = raw6 & (((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len6)) - 1n));
        const k4 = `${net4}/${len4}`;
        const k6 = `${net6}/${len6}`;
        if (!seen.has(k4)) {
          seen.add(k4);
          four.push({ net: net4, len: len4, v: `v4:${k4}` });
          t.insert(`${ip4(net4)}/${len4}`, `v4:${k4}`);
        }
        if (!seen.has(k6)) {
          seen.add(k6);
          six.push({ net: net6, len: len6, v: `v6:${k6}` });
          t.insert(`${ip6(net6)}/${len6}`, `v6:${k6}`);
        }
      }
      const best4 = (a: number) => {
        let found: (typeof four)[number] | undefined;
        for (const p of four) {
          const mask = p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0;
          if (((a & mask) >>> 0) === p.net && (!found || p.len > found.len)) found = p;
        }
        return found?.v;
      };
      const best6 = (a: bigint) => {
        let found: (typeof six)[number] | undefined;
        for (const p of six) if (a >> BigInt(128 - p.len) === p.net >> BigInt(128 - p.len) && (!found || p.len > found.len)) found = p;
        return found?.v;
      };
      for (let i = 0; i < 400; i++) {
        // Addresses near the prefixes: a prefix start, its last address, one past it, or a random neighbour.
        const p4 = four[Math.floor(rnd() * four.length)]!;
        const end4 = p4.net + 2 ** (32 - p4.len) - 1;
        const a4 = [p4.net, end4, (end4 + 1) % 2 ** 32, (p4.net + Math.floor(rnd() * 2 ** (32 - p4.len))) >>> 0, u32()][i % 5]!;
        const want4 = best4(a4);
        if (t.lookup(ip4(a4)) !== want4) wrong.push(`${ip4(a4)}: ${t.lookup(ip4(a4))} instead of ${want4}`);
        if (t.lookup(`::ffff:${ip4(a4)}`) !== want4) wrong.push(`::ffff:${ip4(a4)}: ${t.lookup(`::ffff:${ip4(a4)}`)}`);
        checked++;
        const p6 = six[Math.floor(rnd() * six.length)]!;
        const end6 = p6.net + (1n << BigInt(128 - p6.len)) - 1n;
        const noise = (BigInt(u32()) << 64n) | BigInt(u32());
        const a6 = [p6.net, end6, (end6 + 1n) & ((1n << 128n) - 1n), p6.net | (noise & ((1n << BigInt(128 - p6.len)) - 1n))][i % 4]!;
        if (a6 >> 32n === 0xffffn) continue; // that one is an IPv4 address
        const want6 = best6(a6);
        if (t.lookup(ip6(a6)) !== want6) wrong.push(`${ip6(a6)}: ${t.lookup(ip6(a6))} instead of ${want6}`);
        checked++;
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(15_000);
  });
});

const ip4 = (x: number) => `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
/** Uncompressed hex groups: independent of the code under test's formatter. */
const ip6 = (v: bigint) => Array.from({ length: 8 }, (_, k) => ((v >> BigInt(112 - 16 * k)) & 0xffffn).toString(16)).join(':');
