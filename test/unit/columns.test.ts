import { avroTypeOf, columnDdl, columnsOf } from '../../core/columns';
import { FlowSchema } from '../../core/flow';
import { createTableSql } from '../../core/migrations/migration';
import { partitionOf } from '../../core/record-producer';

describe('schema as code', () => {
  const cols = columnsOf(FlowSchema);

  it('derives every flows column, with its type and doc, from the Flow schema', () => {
    expect(cols.map((c) => c.name)).toEqual(Object.keys(FlowSchema.shape));
    const byName = Object.fromEntries(cols.map((c) => [c.name, c]));
    expect(byName.src_addr!.ch).toBe('IPv6');
    expect(byName.bytes!.ch).toBe('Nullable(UInt64)');
    expect(byName.src_labels!.ch).toBe('Map(LowCardinality(String), String)');
    for (const side of ['src', 'dst']) {
      for (const e of ['node', 'zone', 'rail', 'job', 'fabric']) expect(byName[`${side}_${e}`]).toBeDefined();
    }
    expect(byName.verdict!.optional).toBe(true);
    expect(byName.src_addr!.optional).toBe(false);
    const ddl = createTableSql('`eastwatch`.`flows`', FlowSchema, 'ENGINE = Memory');
    for (const c of cols) expect(ddl).toContain(columnDdl(c));
    expect(columnDdl(byName.src_addr!)).toBe("`src_addr` IPv6 COMMENT 'Source address (IPv4 stored IPv4-mapped)'");
  });

  it('maps ClickHouse types to Avro', () => {
    expect(avroTypeOf('Nullable(UInt64)')).toEqual(['null', 'long']);
    expect(avroTypeOf('LowCardinality(String)')).toBe('string');
    expect(avroTypeOf('Array(String)')).toEqual({ type: 'array', items: 'string' });
    expect(avroTypeOf('UInt32')).toBe('long');
    expect(avroTypeOf('UInt16')).toBe('int');
    expect(() => avroTypeOf('Decimal(9,2)')).toThrow(/no Avro mapping/);
  });

  it('places a source on a stable partition', () => {
    expect(partitionOf('10.101.0.17', 6)).toBe(partitionOf('10.101.0.17', 6));
    const spread = new Set(Array.from({ length: 256 }, (_, i) => partitionOf(`10.1.0.${i}`, 6)));
    expect(spread.size).toBe(6);
  });
});
