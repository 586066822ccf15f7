/**
 * The RowBinary encoder checks what the bytes need, since the writer no longer parses every row with zod: a row
 * a column cannot hold is refused with the column's name and leaves the payload as it was, so one bad record
 * is dead-lettered instead of failing the whole insert in chDB.
 */
import { columnsOf } from '../../core/columns';
import { FlowSchema } from '../../core/flow';
import { AlertSchema } from '../../core/records';
import { RowBinaryError, rowBinaryEncoder } from '../../core/row-binary';
import { sampleFlows } from '../../simulator/sample';
import { fullFlow } from '../fixtures';

describe('RowBinary encoder checks', () => {
  const flows = rowBinaryEncoder(columnsOf(FlowSchema));
  const { exporter_address: _exporter, ...noExporter } = fullFlow;

  it.each([
    ['protocol 300', { ...fullFlow, protocol: 300 }, /^protocol: not an integer in 0\.\.255: 300$/],
    ['a fractional port', { ...fullFlow, src_port: 80.5 }, /^src_port: not an integer in 0\.\.65535/],
    ['a port as text', { ...fullFlow, dst_port: '443' }, /^dst_port: not an integer/],
    ['negative bytes', { ...fullFlow, bytes: -1 }, /^bytes: not an integer in 0\.\.9007199254740991/],
    ['an unsafe integer', { ...fullFlow, packets: 2 ** 53 + 2 }, /^packets: not an integer/],
    ['a bad address', { ...fullFlow, src_addr: 'not-an-ip' }, /^src_addr: /],
    ['an address as a number', { ...fullFlow, dst_addr: 167772161 }, /^dst_addr: not an IP address/],
    ['names not an array', { ...fullFlow, src_names: 'gpu001' }, /^src_names: not an array/],
    ['labels not a map', { ...fullFlow, src_labels: ['a'] }, /^src_labels: not a map/],
    ['a required field absent', noExporter, /^exporter_address: required, absent$/],
    ['null where a string goes', { ...fullFlow, observation_point: null }, /^observation_point: not a string: null$/],
  ])('refuses %s and keeps the payload', (_what, bad, message) => {
    const batch = flows.batch();
    batch.add(fullFlow);
    const before = Buffer.from(batch.bytes());
    let error: unknown;
    try {
      batch.add(bad as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RowBinaryError);
    expect((error as Error).message).toMatch(message);
    expect(batch.rows).toBe(1);
    expect(batch.bytes()).toEqual(before);
    batch.add(fullFlow); // and goes on
    expect(batch.rows).toBe(2);
  });

  it('refuses a malformed UUID', () => {
    const alerts = rowBinaryEncoder(columnsOf(AlertSchema));
    expect(() => alerts.batch().add({ alert_id: 'not-a-uuid' })).toThrow(/^alert_id: not a UUID/);
  });

  it('gives the same bytes row by row as for the whole batch', () => {
    const sample = sampleFlows(500, { seed: 31 });
    const batch = flows.batch();
    for (const f of sample) batch.add(f);
    expect(batch.rows).toBe(500);
    expect(batch.bytes()).toEqual(flows.encode(sample));
  });
});
