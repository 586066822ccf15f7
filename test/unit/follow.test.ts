import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { followFile } from '../../ingest/logs/follow';

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('followFile', () => {
  it('reads appended lines from the end, across rename rotation and copytruncate, joining partial lines', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, 'before the follower\n');
    const lines: string[] = [];
    const f = followFile(file, (l) => lines.push(l), { pollMs: 20 });
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, 'one\ntw');
    await until(() => lines.length === 1);
    appendFileSync(file, 'o\r\n');
    await until(() => lines.length === 2);
    // logrotate's default: the old file is renamed (its last line still unread), a new one created.
    appendFileSync(file, 'last of the old file\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'first of the new file\n');
    await until(() => lines.length === 4);
    // copytruncate: the same inode shrinks to nothing and grows again.
    truncateSync(file, 0);
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(file, 'after truncate\n');
    await until(() => lines.length === 5);
    await f.stop();
    expect(lines).toEqual(['one', 'two', 'last of the old file', 'first of the new file', 'after truncate']);
  });

  it('reads a file that appears later from its start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'later.log');
    const lines: string[] = [];
    const f = followFile(file, (l) => lines.push(l), { pollMs: 20 });
    await new Promise((r) => setTimeout(r, 60));
    writeFileSync(file, 'a\nb\n');
    await until(() => lines.length === 2);
    await f.stop();
    expect(lines).toEqual(['a', 'b']);
  });
});
