/**
 * Lines of a file that keeps growing, as `tail -F` reads it: from the current end (or the start, or a saved
 * position), following rotation (a new inode, or the file shrinking) and reading the rotated file to its end
 * first. Polling rather
 * than fs.watch: inotify misses renames on some filesystems and does not exist on others; 250 ms is plenty for
 * access logs. A line longer than maxLine is cut and counted by the caller as bad input.
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Where a follower stands: the file (inode) and the byte offset after the last complete line handed on. */
export interface FilePosition {
  ino: number;
  offset: number;
}

export interface FollowOptions {
  fromStart?: boolean;
  /**
   * Resume here (a position saved before a restart): the same inode continues from the offset; a different
   * one was created while the follower was away, so it is read from its start.
   */
  resume?: FilePosition;
  pollMs?: number;
  maxLine?: number;
}

export interface Follower {
  /** The position after the last line handed to onLine; undefined until the file was opened. */
  position(): FilePosition | undefined;
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
        offset = !first ? 0 : opts.resume ? (opts.resume.ino === s.ino && opts.resume.offset <= s.size ? opts.resume.offset : 0) : opts.fromStart ? 0 : s.size;
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
    position: () => (handle ? { ino: inode, offset: offset - Buffer.byteLength(partial) } : undefined),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await drain().catch(() => undefined);
      await handle?.close();
    },
  };
}
