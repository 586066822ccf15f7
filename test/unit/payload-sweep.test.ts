/** Payload files a killed writer left in tmpfs are removed when the next process opens the store; live ones stay. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sweepPayloads } from '../../core/clickhouse';

describe('sweepPayloads', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-sweep-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('removes the files of dead processes only', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const files = {
      dead: `eastwatch-${dead}-7.rowbinary`, live: `eastwatch-${process.pid}-3.rowbinary`,
      other: 'eastwatch-notes.txt', lookalike: `eastwatch-${dead}-7.rowbinary.keep`,
    };
    for (const f of Object.values(files)) writeFileSync(path.join(dir, f), 'x');
    sweepPayloads(dir);
    expect(Object.fromEntries(Object.entries(files).map(([k, f]) => [k, existsSync(path.join(dir, f))])))
      .toEqual({ dead: false, live: true, other: true, lookalike: true });
  });
});
