import { compressHostlist, expandHostlist, HostlistError, MAX_HOSTS } from '../../inventory/hostlist';
import { mulberry32 } from '../../simulator/model/random';

const seq = (pre: string, from: number, to: number, width = 0, post = '') =>
  Array.from({ length: to - from + 1 }, (_, i) => `${pre}${String(from + i).padStart(width, '0')}${post}`);

describe('expandHostlist', () => {
  it('expands lists of ranges, several prefixes and plain hosts, in order', () => {
    expect(expandHostlist('gpu[001-016,020],cpu-[1-3],login1')).toEqual([
      ...seq('gpu', 1, 16, 3),
      'gpu020',
      'cpu-1',
      'cpu-2',
      'cpu-3',
      'login1',
    ]);
    expect(expandHostlist('login1')).toEqual(['login1']);
    expect(expandHostlist('a,b,c')).toEqual(['a', 'b', 'c']);
    expect(expandHostlist('n[1]')).toEqual(['n1']);
    expect(expandHostlist('[1-3]')).toEqual(['1', '2', '3']);
  });

  it('keeps the zero padding of the low end', () => {
    expect(expandHostlist('gpu[08-11]')).toEqual(['gpu08', 'gpu09', 'gpu10', 'gpu11']);
    expect(expandHostlist('n[9-11]')).toEqual(['n9', 'n10', 'n11']);
    expect(expandHostlist('n[98-101]')).toEqual(['n98', 'n99', 'n100', 'n101']);
    expect(expandHostlist('n[098-101]')).toEqual(['n098', 'n099', 'n100', 'n101']);
    expect(expandHostlist('n[0-2]')).toEqual(['n0', 'n1', 'n2']);
    expect(expandHostlist('n[00-01,5,007]')).toEqual(['n00', 'n01', 'n5', 'n007']);
  });

  it('expands several brackets in Slurm order', () => {
    expect(expandHostlist('rack[1-2]-node[01-02]')).toEqual(['rack1-node01', 'rack1-node02', 'rack2-node01', 'rack2-node02']);
    expect(expandHostlist('r[1,3]n[1-2]-ib')).toEqual(['r1n1-ib', 'r1n2-ib', 'r3n1-ib', 'r3n2-ib']);
    // Three brackets: Slurm's _push_range_list loops the second bracket outermost, then the first, then the last.
    expect(expandHostlist('a[1-2]b[3-4]c[5-6]')).toEqual([
      'a1b3c5', 'a1b3c6', 'a2b3c5', 'a2b3c6', 'a1b4c5', 'a1b4c6', 'a2b4c5', 'a2b4c6',
    ]);
  });

  it('keeps text after a bracket', () => {
    expect(expandHostlist('gpu[1-2]-ib')).toEqual(['gpu1-ib', 'gpu2-ib']);
    expect(expandHostlist('gpu[1-2].cluster.local,x')).toEqual(['gpu1.cluster.local', 'gpu2.cluster.local', 'x']);
  });

  it('tells top-level commas from commas inside brackets, and tolerates whitespace', () => {
    expect(expandHostlist('a[1,3],b[2-3]')).toEqual(['a1', 'a3', 'b2', 'b3']);
    expect(expandHostlist('  gpu[1 - 2 , 4] ,\tcpu1\n cpu2 ,, ')).toEqual(['gpu1', 'gpu2', 'gpu4', 'cpu1', 'cpu2']);
    expect(expandHostlist('a b')).toEqual(['a', 'b']);
  });

  it('keeps duplicates and input order like scontrol show hostnames', () => {
    expect(expandHostlist('n3,n[1-2],n1')).toEqual(['n3', 'n1', 'n2', 'n1']);
  });

  it.each([
    ['', 'empty hostlist'],
    [' , ,', 'empty hostlist'],
    ['gpu[1-3', 'unbalanced "["'],
    ['gpu1-3]', 'unbalanced "]"'],
    ['gpu[1-[2]]', 'nested "["'],
    ['gpu[5-3]', 'descending range "5-3"'],
    ['gpu[a-c]', 'range "a-c" is not N or N-M'],
    ['gpu[1-x]', 'range "1-x"'],
    ['gpu[-1]', 'range "-1"'],
    ['gpu[1-]', 'range "1-"'],
    ['gpu[+1]', 'range "+1"'],
    ['gpu[1-2-3]', 'range "1-2-3"'],
    ['gpu[]', 'empty range'],
    ['gpu[1,,2]', 'empty range'],
    ['gpu[99999999999999999999]', 'too large'],
  ])('rejects %j', (input, reason) => {
    expect(() => expandHostlist(input)).toThrow(HostlistError);
    expect(() => expandHostlist(input)).toThrow(reason);
    expect(() => expandHostlist(input)).toThrow(`invalid hostlist ${JSON.stringify(input)}`);
  });

  it('caps the expansion before building anything', () => {
    expect(MAX_HOSTS).toBe(1_000_000);
    expect(expandHostlist('n[1-1000000]')).toHaveLength(1_000_000);
    expect(() => expandHostlist('n[1-1000001]')).toThrow('expands to more than 1000000 hosts');
    expect(() => expandHostlist('n[1-600000],m[1-600000]')).toThrow('more than 1000000');
    expect(() => expandHostlist('a[0-999999999]b[0-999999999]c[0-999999999]')).toThrow('more than 1000000');
    expect(() => expandHostlist(`${'x'.repeat(300)}[1-2]`)).toThrow('longer than 255 characters');
    expect(() => expandHostlist('n[1-11]', { maxHosts: 10 })).toThrow('more than 10 hosts');
    expect(expandHostlist('n[1-10]', { maxHosts: 10 })).toHaveLength(10);
  });
});

describe('compressHostlist', () => {
  it('writes Slurm ranges', () => {
    expect(compressHostlist([...seq('gpu', 1, 16, 3), 'gpu020', 'cpu-1', 'cpu-2', 'cpu-3', 'login1'])).toBe(
      'gpu[001-016,020],cpu-[1-3],login1',
    );
    expect(compressHostlist(['n9', 'n10', 'n11'])).toBe('n[9-11]');
    expect(compressHostlist(['n08', 'n09', 'n10'])).toBe('n[08-10]');
    expect(compressHostlist(['n9', 'n010'])).toBe('n[9,010]');
    expect(compressHostlist(['gpu1-ib', 'gpu2-ib'])).toBe('gpu[1-2]-ib');
    expect(compressHostlist(['rack1-node01', 'rack1-node02', 'rack2-node01'])).toBe('rack1-node[01-02],rack2-node01');
    expect(compressHostlist(['login'])).toBe('login');
    expect(compressHostlist([])).toBe('');
  });

  it('keeps order and duplicates unless asked to sort or dedupe', () => {
    expect(compressHostlist(['n1', 'n3', 'n2'])).toBe('n[1,3,2]');
    expect(compressHostlist(['n1', 'n1'])).toBe('n[1,1]');
    expect(compressHostlist(['n1', 'm1', 'n2'])).toBe('n1,m1,n2');
    expect(compressHostlist(['n3', 'n1', 'm1', 'n2', 'n1'], { sort: true, unique: true })).toBe('m1,n[1-3]');
    expect(compressHostlist(['rack10-n1', 'rack2-n1', 'b', 'a'], { sort: true })).toBe('a,b,rack2-n1,rack10-n1');
  });

  it('refuses names it could not expand back', () => {
    for (const bad of ['', 'a,b', 'a b', 'a[1]', 'x]']) expect(() => compressHostlist([bad])).toThrow(HostlistError);
  });

  it('round-trips through expandHostlist', () => {
    const rnd = mulberry32(7);
    const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)]!;
    for (let round = 0; round < 300; round++) {
      const names: string[] = [];
      const count = 1 + Math.floor(rnd() * 40);
      for (let i = 0; i < count; i++) {
        const num = Math.floor(rnd() * 120);
        const width = pick([0, 0, 2, 3]);
        names.push(`${pick(['gpu', 'cpu-', 'r1n', ''])}${String(num).padStart(width, '0')}${pick(['', '', '-ib'])}`);
        if (rnd() < 0.1) names.push(pick(['login', 'mgmt-a']));
      }
      expect(expandHostlist(compressHostlist(names))).toEqual(names);
      const sorted = compressHostlist(names, { sort: true, unique: true });
      expect(new Set(expandHostlist(sorted))).toEqual(new Set(names));
      expect(expandHostlist(sorted)).toHaveLength(new Set(names).size);
      expect(compressHostlist(expandHostlist(sorted))).toBe(sorted);
    }
  });
});
