import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { followFile } from '../../ingest/logs/follow';
import { PositionStore } from '../../ingest/logs/positions';
import { until } from '../until';

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

describe('followFile positions', () => {
  it('resumes a restarted follower after the last whole line, and reads a file replaced meanwhile from its start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ew-follow-'));
    const file = path.join(dir, 'access.log');
    writeFileSync(file, 'a\nb\nhalf');
    const first: string[] = [];
    const f1 = followFile(file, (l) => first.push(l), { pollMs: 20, fromStart: true });
    await until(() => first.length === 2);
    await f1.stop();
    const saved = f1.position()!;
    expect(saved.offset).toBe(4); // after "b\n": the half line is not consumed yet
    const store = new PositionStore(dir);
    store.save([[file, saved]]);

    appendFileSync(file, ' line\nc\n'); // written while nobody followed
    const second: string[] = [];
    const f2 = followFile(file, (l) => second.push(l), { pollMs: 20, resume: new PositionStore(dir).get(file)! });
    await until(() => second.length === 2);
    await f2.stop();
    expect(second).toEqual(['half line', 'c']);

    // Rotated while away: the saved inode is gone, the new file is all new.
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'new 1\nnew 2\n');
    const third: string[] = [];
    const f3 = followFile(file, (l) => third.push(l), { pollMs: 20, resume: f2.position()! });
    await until(() => third.length === 2);
    await f3.stop();
    expect(third).toEqual(['new 1', 'new 2']);
  });
});
