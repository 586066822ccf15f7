/**
 * Generates ingest/ipfix/iana-ies.json from IANA's IPFIX Information Elements registry (CSV export), so no
 * element is hand-typed: `npm run gen:iana [path/to/ipfix-information-elements.csv]`.
 * Kept: every element with a data type, as [id, name, dataType, units]; reserved and unassigned rows go.
 *
 * The registry's copy in the repository, ingest/ipfix/iana/ipfix-information-elements.csv, is IANA's
 * https://www.iana.org/assignments/ipfix/ipfix-information-elements.csv as downloaded; test/unit/iana.test.ts
 * checks the JSON against it. To refresh, download it over the copy, regenerate, and commit both files:
 *   curl -fsSo ingest/ipfix/iana/ipfix-information-elements.csv https://www.iana.org/assignments/ipfix/ipfix-information-elements.csv
 *   npm run gen:iana
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';

export type IanaRow = [id: number, name: string, type: string, units: string];

export function ianaElements(csv: string): IanaRow[] {
  const rows = parse(csv, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
  return rows
    .filter((r) => /^\d+$/.test(r.ElementID ?? '') && r['Data Type'] && r.Name)
    .map((r): IanaRow => [Number(r.ElementID), r.Name!.trim(), r['Data Type']!.trim(), (r.Units ?? '').trim()])
    .sort((a, b) => a[0] - b[0]);
}

export const IANA_JSON = path.resolve(__dirname, '../../ingest/ipfix/iana-ies.json');
export const IANA_CSV = path.resolve(__dirname, '../../ingest/ipfix/iana/ipfix-information-elements.csv');

if (require.main === module) {
  const csvPath = process.argv[2] ?? IANA_CSV;
  const rows = ianaElements(readFileSync(csvPath, 'utf8'));
  writeFileSync(IANA_JSON, `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
  console.log(`${rows.length} information elements written to ${IANA_JSON}`);
}
