/** The IPFIX information elements are generated from IANA's registry, never hand-typed: keep them in step. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ianaElements } from '../../scripts/gen-iana-ies';
import { IE } from '../../ingest/ipfix/encoder';
import { ianaElement } from '../../ingest/ipfix/template';

const ROOT = path.resolve(__dirname, '../..');
const CSV = path.join(ROOT, 'ingest/ipfix/iana/ipfix-information-elements.csv');

describe('IANA information elements', () => {
  it('ingest/ipfix/iana-ies.json is what the registry CSV generates', () => {
    const committed = JSON.parse(readFileSync(path.join(ROOT, 'ingest/ipfix/iana-ies.json'), 'utf8')) as unknown[];
    expect(committed).toEqual(ianaElements(readFileSync(CSV, 'utf8')));
    expect(committed.length).toBeGreaterThan(300);
  });

  it('knows the elements flow exporters send, with their abstract types', () => {
    expect(ianaElement(1)).toEqual({ name: 'octetDeltaCount', type: 'unsigned64' });
    expect(ianaElement(27)).toEqual({ name: 'sourceIPv6Address', type: 'ipv6Address' });
    expect(ianaElement(154)).toEqual({ name: 'flowStartMicroseconds', type: 'dateTimeMicroseconds' });
    expect(ianaElement(351)).toEqual({ name: 'layer2SegmentId', type: 'unsigned64' });
    // NetFlow v9 sampling types the registry now reserves.
    expect(ianaElement(34)).toEqual({ name: 'samplingInterval', type: 'unsigned32' });
    expect(ianaElement(9999)).toBeUndefined();
  });

  it('gives the encoder\'s element ids their registry names', () => {
    for (const [name, id] of Object.entries(IE)) expect([id, ianaElement(id)?.name]).toEqual([id, name]);
  });
});
