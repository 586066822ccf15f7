/**
 * Lines of a file that keeps growing, as `tail -F` reads it: from the current end (or the start), following
 * rotation (a new inode, or the file shrinking) and reading the rotated file to its end first. Polling rather
 * than fs.watch: inotify misses renames on some filesystems and does not exist on others; 250 ms is plenty for
 * access logs. A line longer than maxLine is cut and counted by the caller as bad input.
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export interface FollowOptions {
  fromStart?: boolean;
  pollMs?: number;
  maxLine?: number;
}

export interface Follower {
  stop(): Promise<void>;
}

export function followFile(path: string, onLine: (line: string) => void, opts: FollowOptions = {}, onError: (e: Error) => void = () => undefined): Follower {
  const pollMs = opts.pollMs ?? 250;
  const maxLine = opts.maxLine ?? 1 << 20;
  let handle: FileHandle | undefined;
  let inode = -1;
  let offset = 0;
  let partial = '';
  let stopped = false;
  let first = true;
  const buf = Buffer.alloc(1 << 16);

  const drain = async () => {
    if (!handle) return;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      const lines = (partial + buf.toString('utf8', 0, bytesRead)).split('\n');
      partial = lines.pop()!;
      if (partial.length > maxLine) {
        onLine(partial.slice(0, maxLine));
        partial = '';
      }
      for (const l of lines) onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
    }
  };

  const tick = async () => {
    try {
      const s = await stat(path).catch(() => undefined);
      if (s && (s.ino !== inode || s.size < offset)) {
        await drain(); // the rotated file's last lines
        await handle?.close();
        handle = await open(path, 'r');
        offset = first && !opts.fromStart ? s.size : 0;
        inode = s.ino;
        partial = '';
      }
      first = false;
      await drain();
    } catch (e) {
      onError(e as Error); // retried on the next poll, from a fresh open
      await handle?.close().catch(() => undefined);
      handle = undefined;
      inode = -1;
    } finally {
      if (!stopped) timer = setTimeout(() => void tick(), pollMs);
    }
  };
  let timer: NodeJS.Timeout = setTimeout(() => void tick(), 0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await drain().catch(() => undefined);
      await handle?.close();
    },
  };
}
