import { decodeAllocationEvent, eventRows } from '../../allocations/stream';
import { AllocationTimeline, addressKey, type Span } from '../../allocations/timeline';
import { WireError } from '../../core/codec';
import { AllocationSchema, type Allocation } from '../../core/records';

const at = (hhmm: string, day = '2025-11-24') => Date.parse(`${day}T${hhmm}:00Z`);

function row(job_id: string, node: string, start: number, end: number | undefined, updated_at = end ?? start, extra: Partial<Allocation> = {}): Allocation {
  return AllocationSchema.parse({
    job_id, node, start, ...(end !== undefined ? { end } : {}), pattern: 'unknown', source: 'test', updated_at, ...extra,
  });
}
const podRow = (job_id: string, node: string, pod: string, pod_ip: string | undefined, start: number, end?: number, updated_at = end ?? start) =>
  row(job_id, node, start, end, updated_at, { pod, ...(pod_ip ? { pod_ip } : {}) });

const span = (job: string, node: string, start: number, end: number, updated: number, pod?: string): Span => ({
  job, node, start, end, pattern: 'unknown', updated, ...(pod ? { pod } : {}),
});

describe('AllocationTimeline: nodes', () => {
  // gpu001 held by A 09:00-12:00, then by B from 12:00 (open); gpu002 held by A only.
  const A = row('A', 'gpu001', at('09:00'), at('12:00'));
  const B = row('B', 'gpu001', at('12:00'), undefined);
  const A2 = row('A', 'gpu002', at('09:00'), at('12:00'));

  function check(t: AllocationTimeline): void {
    expect(t.nodeAt('gpu001', at('08:59'))).toBeUndefined();
    expect(t.nodeAt('gpu001', at('09:00'))).toStrictEqual(span('A', 'gpu001', at('09:00'), at('12:00'), at('12:00')));
    expect(t.nodeAt('gpu001', at('11:59'))).toStrictEqual(span('A', 'gpu001', at('09:00'), at('12:00'), at('12:00')));
    expect(t.nodeAt('gpu001', at('12:00') - 1)?.job).toBe('A');
    expect(t.nodeAt('gpu001', at('12:00'))).toStrictEqual(span('B', 'gpu001', at('12:00'), Infinity, at('12:00')));
    expect(t.nodeAt('gpu001', at('12:01'))?.job).toBe('B');
    expect(t.nodeAt('gpu001', at('12:00', '2026-06-01'))?.job).toBe('B');
    // An allocation ends at its end: the node is free then.
    expect(t.nodeAt('gpu002', at('11:59'))?.job).toBe('A');
    expect(t.nodeAt('gpu002', at('12:00'))).toBeUndefined();
    expect(t.nodeAt('gpu002', at('12:01'))).toBeUndefined();
    expect(t.nodeAt('gpu003', at('10:00'))).toBeUndefined();
  }

  it('answers by the flow time: the job before the hand-over, the next one from it', () => {
    const t = new AllocationTimeline();
    t.apply([A, B, A2]);
    check(t);
  });

  it('gives the same answers whatever order the rows arrive in', () => {
    const rows = [A, B, A2];
    const orders = [[0, 1, 2], [1, 0, 2], [2, 1, 0], [1, 2, 0]];
    for (const order of orders) {
      const t = new AllocationTimeline();
      for (const i of order) t.apply([rows[i]!]);
      check(t);
    }
  });

  it('still attributes a flow long in the past to the job that held the node then', () => {
    const t = new AllocationTimeline();
    const history = Array.from({ length: 30 }, (_, d) => {
      const day = `2025-10-${String(d + 1).padStart(2, '0')}`;
      return row(`daily-${d + 1}`, 'gpu001', at('01:00', day), at('23:00', day));
    });
    t.apply([B, ...history.reverse(), A]);
    expect(t.nodeAt('gpu001', at('12:00', '2025-10-03'))?.job).toBe('daily-3');
    expect(t.nodeAt('gpu001', at('23:30', '2025-10-03'))).toBeUndefined();
    expect(t.nodeAt('gpu001', at('01:00', '2025-10-30'))?.job).toBe('daily-30');
    expect(t.nodeAt('gpu001', at('10:00'))?.job).toBe('A');
    expect(t.nodeAt('gpu001', at('13:00'))?.job).toBe('B');
  });

  it('lets an end supersede the open start, and never lets an older version win', () => {
    const start = row('A', 'gpu001', at('09:00'), undefined, at('09:00'));
    const end = row('A', 'gpu001', at('09:00'), at('12:00'), at('12:00'));

    const t = new AllocationTimeline();
    t.apply([start]);
    expect(t.nodeAt('gpu001', at('13:00'))?.job).toBe('A');
    t.apply([end]);
    expect(t.nodeAt('gpu001', at('13:00'))).toBeUndefined();
    expect(t.nodeAt('gpu001', at('11:00'))).toStrictEqual(span('A', 'gpu001', at('09:00'), at('12:00'), at('12:00')));
    // The start replayed (older updated_at) does not reopen it.
    t.apply([start]);
    expect(t.nodeAt('gpu001', at('13:00'))).toBeUndefined();

    // The end first, the start late: the end stays.
    const late = new AllocationTimeline();
    late.apply([end, start]);
    expect(late.nodeAt('gpu001', at('13:00'))).toBeUndefined();
    expect(late.nodeAt('gpu001', at('11:00'))?.end).toBe(at('12:00'));

    // A newer correction (an extended end) wins over the first end.
    const extended = row('A', 'gpu001', at('09:00'), at('14:00'), at('14:00'));
    late.apply([extended]);
    expect(late.nodeAt('gpu001', at('13:00'))).toStrictEqual(span('A', 'gpu001', at('09:00'), at('14:00'), at('14:00')));
    late.apply([end]);
    expect(late.nodeAt('gpu001', at('13:00'))?.end).toBe(at('14:00'));
  });

  it('keeps a requeued job (same id, new start) as a separate span', () => {
    const t = new AllocationTimeline();
    t.apply([row('A', 'gpu001', at('09:00'), at('10:00')), row('A', 'gpu001', at('11:00'), undefined)]);
    expect(t.nodeAt('gpu001', at('09:30'))?.start).toBe(at('09:00'));
    expect(t.nodeAt('gpu001', at('10:30'))).toBeUndefined();
    expect(t.nodeAt('gpu001', at('11:30'))?.start).toBe(at('11:00'));
  });

  it('does not use pod rows for nodes', () => {
    const t = new AllocationTimeline();
    t.apply([podRow('k8s-job', 'gpu017', 'trainer-0', '10.244.3.17', at('09:00'))]);
    expect(t.nodeAt('gpu017', at('10:00'))).toBeUndefined();
    expect(t.podAt('10.244.3.17', at('10:00'))?.job).toBe('k8s-job');
  });
});

describe('AllocationTimeline: pods', () => {
  const t = new AllocationTimeline();
  t.apply([
    podRow('llm', 'gpu017', 'trainer-0', '10.244.3.17', at('09:00'), at('12:00')),
    podRow('eval', 'gpu017', 'eval-3', '10.244.3.17', at('12:30')),
    podRow('v6', 'gpu018', 'bench-0', 'fd00::1', at('09:00')),
    podRow('v6b', 'gpu018', 'bench-1', 'FD00:10:244:1C:0:0:0:2A', at('09:00')),
    podRow('pending', 'gpu019', 'waiting-0', undefined, at('09:00')),
  ]);

  it('finds the pod by its IPv4 address, also written IPv4-mapped (dotted or hex)', () => {
    expect(t.podAt('10.244.3.17', at('10:00'))).toStrictEqual(span('llm', 'gpu017', at('09:00'), at('12:00'), at('12:00'), 'trainer-0'));
    expect(t.podAt('::ffff:10.244.3.17', at('10:00'))?.pod).toBe('trainer-0');
    expect(t.podAt('::ffff:af4:311', at('10:00'))?.pod).toBe('trainer-0');
    expect(t.podAt('::FFFF:10.244.3.17', at('10:00'))?.pod).toBe('trainer-0');
    // The address was reused by another job's pod later on.
    expect(t.podAt('10.244.3.17', at('12:10'))).toBeUndefined();
    expect(t.podAt('10.244.3.17', at('13:00'))).toStrictEqual(span('eval', 'gpu017', at('12:30'), Infinity, at('12:30'), 'eval-3'));
    expect(t.podAt('10.244.3.18', at('10:00'))).toBeUndefined();
  });

  it('finds the pod by its IPv6 address in any spelling', () => {
    for (const a of ['fd00::1', 'fd00:0:0::1', 'FD00::0001', 'fd00:0:0:0:0:0:0:1']) {
      expect([a, t.podAt(a, at('10:00'))?.pod]).toStrictEqual([a, 'bench-0']);
    }
    for (const a of ['fd00:10:244:1c::2a', 'fd00:10:244:1c:0:0:0:2a']) {
      expect([a, t.podAt(a, at('10:00'))?.pod]).toStrictEqual([a, 'bench-1']);
    }
    expect(t.podAt('fd00::2', at('10:00'))).toBeUndefined();
    expect(t.podAt('fd00::1', at('08:00'))).toBeUndefined();
  });

  it('keys addresses canonically', () => {
    expect(addressKey('10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(addressKey('::ffff:a01:203')).toBe('10.1.2.3');
    expect(addressKey('FD00:0:0::1')).toBe('fd00::1');
    expect(addressKey('not an address')).toBe('not an address');
  });

  it('ignores pods without an address', () => {
    expect(t.nodeAt('gpu019', at('10:00'))).toBeUndefined();
  });
});

describe('AllocationTimeline.prune', () => {
  it('drops spans that ended before the cut and keeps open ones', () => {
    const t = new AllocationTimeline();
    t.apply([
      row('old', 'gpu001', at('01:00'), at('02:00')),
      row('edge', 'gpu001', at('02:00'), at('03:00')),
      row('open', 'gpu001', at('04:00'), undefined),
      row('gone', 'gpu002', at('01:00'), at('02:00')),
      row('open-long-ago', 'gpu003', at('01:00', '2025-01-01'), undefined),
      podRow('pod-old', 'gpu004', 'p-0', '10.244.0.1', at('01:00'), at('02:00')),
      podRow('pod-open', 'gpu004', 'p-1', '10.244.0.2', at('01:00')),
    ]);
    t.prune(at('03:00'));
    expect(t.nodeAt('gpu001', at('01:30'))).toBeUndefined();
    expect(t.nodeAt('gpu001', at('02:30'))?.job).toBe('edge'); // ended exactly at the cut: not before it
    expect(t.nodeAt('gpu001', at('05:00'))?.job).toBe('open');
    expect(t.nodeAt('gpu002', at('01:30'))).toBeUndefined();
    expect(t.nodeAt('gpu003', at('12:00'))?.job).toBe('open-long-ago');
    expect(t.podAt('10.244.0.1', at('01:30'))).toBeUndefined();
    expect(t.podAt('10.244.0.2', at('05:00'))?.job).toBe('pod-open');

    t.prune(at('03:01'));
    expect(t.nodeAt('gpu001', at('02:30'))).toBeUndefined();
    expect(t.nodeAt('gpu001', at('05:00'))?.job).toBe('open');
    // A pruned node still takes new rows.
    t.apply([row('new', 'gpu002', at('06:00'), undefined)]);
    expect(t.nodeAt('gpu002', at('07:00'))?.job).toBe('new');
  });
});

describe('allocation events on the wire', () => {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const decodeError = (buf: Buffer): string => {
    try {
      decodeAllocationEvent(buf);
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      return (e as Error).message;
    }
    throw new Error('event was accepted');
  };

  it('expands a hostlist event into one row per node, versioned by its latest time', () => {
    const e = decodeAllocationEvent(json({ job_id: '88213', nodes: 'gpu[001-003,010]', start: at('09:00'), pattern: 'ring', source: 'slurm' }));
    expect(e).toStrictEqual({ job_id: '88213', nodes: 'gpu[001-003,010]', start: at('09:00'), pattern: 'ring', source: 'slurm' });
    const rows = eventRows(e);
    expect(rows).toStrictEqual(['gpu001', 'gpu002', 'gpu003', 'gpu010'].map((node) => ({
      job_id: '88213', node, start: at('09:00'), pattern: 'ring', source: 'slurm', updated_at: at('09:00'),
    })));
    for (const r of rows) expect(AllocationSchema.parse(r)).toStrictEqual(r);

    const ended = eventRows(decodeAllocationEvent(json({ job_id: '88213', nodes: ['gpu001'], start: at('09:00'), end: at('14:30') })));
    expect(ended).toStrictEqual([{
      job_id: '88213', node: 'gpu001', start: at('09:00'), end: at('14:30'), pattern: 'unknown', source: 'kafka', updated_at: at('14:30'),
    }]);
    // Through the timeline: the end event supersedes the start event.
    const t = new AllocationTimeline();
    t.apply(ended);
    t.apply(rows);
    expect(t.nodeAt('gpu001', at('15:00'))).toBeUndefined();
    expect(t.nodeAt('gpu002', at('15:00'))?.job).toBe('88213');
  });

  it('reads ISO times, with any offset, as milliseconds', () => {
    const e = decodeAllocationEvent(json({
      job_id: 'k8s/llm', start: '2025-11-24T09:00:00Z', end: '2025-11-24T16:30:00.250+02:00',
      pods: [{ name: 'trainer-0', node: 'gpu017', ip: 'fd00:0:0::1' }, { name: 'trainer-1', node: 'gpu018' }],
    }));
    expect(e.start).toBe(at('09:00'));
    expect(e.end).toBe(at('14:30') + 250);
    expect(eventRows(e)).toStrictEqual([
      { job_id: 'k8s/llm', node: 'gpu017', pod: 'trainer-0', pod_ip: 'fd00:0:0::1', start: at('09:00'), end: at('14:30') + 250, pattern: 'unknown', source: 'kafka', updated_at: at('14:30') + 250 },
      { job_id: 'k8s/llm', node: 'gpu018', pod: 'trainer-1', start: at('09:00'), end: at('14:30') + 250, pattern: 'unknown', source: 'kafka', updated_at: at('14:30') + 250 },
    ]);
    expect(decodeAllocationEvent(json({ job_id: 'j', nodes: 'n1', start: at('09:00'), end: null })).end).toBeNull();
  });

  it('rejects what is not an event, saying why', () => {
    expect(decodeError(Buffer.from('{"job_id": "1", '))).toMatch(/^allocation event is not JSON: /);
    expect(decodeError(json({ job_id: '1', start: at('09:00') }))).toBe(
      'invalid allocation event: (root): an allocation names its nodes or its pods',
    );
    expect(decodeError(json({ job_id: '1', nodes: 'gpu1', start: at('10:00'), end: at('09:00') }))).toBe(
      'invalid allocation event: (root): end is before start',
    );
    expect(decodeError(json({ job_id: '1', nodes: 'gpu1', start: 'yesterday' }))).toMatch(/^invalid allocation event: start: /);
    expect(decodeError(json({ job_id: '1', nodes: 'gpu1', start: '2025-11-24T09:00:00' }))).toMatch(/^invalid allocation event: start: /);
    expect(decodeError(json({ job_id: '', nodes: 'gpu1', start: 1, pattern: 'butterfly' }))).toMatch(
      /^invalid allocation event: job_id: .*; pattern: /,
    );
    expect(decodeError(json({ job_id: '1', pods: [{ name: 'p', node: 'n', ip: '10.0.0.300' }], start: 1 }))).toBe(
      'invalid allocation event: pods.0.ip: not an IP address',
    );
    expect(decodeError(json({ job_id: '1', nodes: 'gpu1', start: 1, user: 'alice' }))).toBe(
      'invalid allocation event: (root): Unrecognized key: "user"',
    );
    expect(decodeError(json([]))).toMatch(/^invalid allocation event: \(root\): /);
  });

  it('turns a bad hostlist into a WireError', () => {
    const e = decodeAllocationEvent(json({ job_id: '1', nodes: 'gpu[001-', start: 1 }));
    expect(() => eventRows(e)).toThrow(WireError);
    expect(() => eventRows(e)).toThrow('invalid hostlist "gpu[001-": unbalanced "[" at offset 3');
    expect(() => eventRows(decodeAllocationEvent(json({ job_id: '1', nodes: 'gpu[3-1]', start: 1 })))).toThrow(
      new WireError('invalid hostlist "gpu[3-1]": descending range "3-1"'),
    );
  });
});
