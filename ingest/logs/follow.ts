/**
 * Lines of a file that keeps growing, as `tail -F` reads it: from the current end (or the start, or a saved
 * position), following rotation (a new inode, or the file shrinking) and reading the rotated file to its end
 * first. Polling rather
 * than fs.watch: inotify misses renames on some filesystems and does not exist on others; 250 ms is plenty for
 * access logs. A line longer than maxLine is cut and counted by the caller as bad input.
 *
 * Bytes are split at newlines and only whole lines decoded: a character split across two reads stays whole,
 * and positions are byte offsets in the file.
 */
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

/** Where a follower stands: the file (inode) and the byte offset after the last complete line handed on. */
export interface FilePosition {
  ino: number;
  offset: number;
}

/**
 * Backpressure from where the lines go: a line is handed on only while there is room, else the follower
 * pauses, the file holding the rest, so no line is dropped for want of room.
 */
export interface Room {
  hasRoom(): boolean;
  /** Resolves when there may be room again. */
  room(): Promise<void>;
}

export interface FollowOptions {
  fromStart?: boolean;
  /**
   * Resume here (a position saved before a restart): the same inode continues from the offset. A different
   * one means the file was rotated meanwhile: the rest of the saved inode is read from FILE.1 (logrotate's
   * rename) if it is there, then the new file from its start.
   */
  resume?: FilePosition;
  /** The saved inode is neither the file nor FILE.1 (or the file shrank below the offset): what followed it is lost. */
  onLost?: (from: FilePosition) => void;
  room?: Room;
  pollMs?: number;
  maxLine?: number;
}

export interface Follower {
  /** The position after the last line handed to onLine; undefined until the file was opened. */
  position(): FilePosition | undefined;
  stop(): Promise<void>;
}

const NEWLINE = 0x0a;
const READ_BYTES = 1 << 16;

export function followFile(path: string, onLine: (line: string) => void, opts: FollowOptions = {}, onError: (e: Error) => void = () => undefined): Follower {
  const pollMs = opts.pollMs ?? 250;
  const maxLine = opts.maxLine ?? 1 << 20;
  const { room } = opts;
  let handle: FileHandle | undefined;
  let inode = -1;
  /** Bytes read up to `offset` and not handed on yet: the start of a line whose newline has not come. */
  let partial = Buffer.alloc(0);
  let offset = 0;
  let stopped = false;
  let starting = true;
  let wakeStop!: () => void;
  const stopping = new Promise<void>((r) => (wakeStop = r));
  const buf = Buffer.alloc(READ_BYTES);

  /** Opens `file` at `at`; its inode from the open handle, so a rename between stat and open cannot mix two files. */
  const openAt = async (file: string, at: (size: number) => number) => {
    await handle?.close();
    handle = undefined;
    const h = await open(file, 'r');
    const s = await h.stat();
    handle = h;
    inode = s.ino;
    offset = at(s.size);
    partial = Buffer.alloc(0);
    return s;
  };

  const blocked = () => stopped || (room !== undefined && !room.hasRoom());
  /** Waits until the next line may be handed on; false when the follower stopped first. */
  const unblocked = async () => {
    while (!stopped && room && !room.hasRoom()) await Promise.race([room.room(), stopping]);
    return !stopped;
  };

  const drain = async () => {
    while (handle) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) return;
      const data = partial.length > 0 ? Buffer.concat([partial, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(NEWLINE); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
        if (blocked() && !(await unblocked())) {
          partial = Buffer.from(data.subarray(start)); // unread: the position stays before this line
          offset += bytesRead;
          return;
        }
        const end = nl > start && data[nl - 1] === 0x0d ? nl - 1 : nl;
        onLine(data.toString('utf8', start, end));
        start = nl + 1;
      }
      // Copied: `data` may be `buf`, which the next read overwrites.
      partial = Buffer.from(data.subarray(start));
      offset += bytesRead;
      if (partial.length > maxLine) {
        if (blocked() && !(await unblocked())) return;
        onLine(partial.toString('utf8', 0, maxLine));
        partial = Buffer.alloc(0);
      }
    }
  };

  /** Opens the file where this follower starts, if there is one yet. */
  const start = async (s: Stats | undefined) => {
    const r = opts.resume;
    if (!r) {
      if (s) await openAt(path, (size) => (opts.fromStart ? 0 : size));
      return;
    }
    if (s?.ino === r.ino && r.offset <= s.size) {
      await openAt(path, () => r.offset);
      return;
    }
    // Rotated (or truncated) while away: the old inode's unread tail, if logrotate's rename kept it at FILE.1.
    // The tick reads it to its end, then sees the new inode of FILE and reads that from its start.
    const rotated = await open(`${path}.1`, 'r').catch(() => undefined);
    const rs = await rotated?.stat();
    await rotated?.close();
    if (rs?.ino === r.ino && r.offset <= rs.size) await openAt(`${path}.1`, () => r.offset);
    else opts.onLost?.(r);
  };

  const tick = async () => {
    try {
      const s = await stat(path).catch(() => undefined);
      if (starting) {
        await start(s);
        starting = false;
      }
      if (s && (s.ino !== inode || s.size < offset)) {
        await drain(); // the rotated file's last lines
        if (stopped) return;
        await openAt(path, () => 0);
      }
      await drain();
    } catch (e) {
      onError(e as Error); // retried on the next poll, from a fresh open
      await handle?.close().catch(() => undefined);
      handle = undefined;
      inode = -1;
    } finally {
      if (!stopped) timer = setTimeout(() => (running = tick()), pollMs);
    }
  };
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout = setTimeout(() => (running = tick()), 0);

  return {
    position: () => (inode >= 0 ? { ino: inode, offset: offset - partial.length } : undefined),
    async stop() {
      stopped = true;
      wakeStop();
      clearTimeout(timer);
      await running;
      await handle?.close();
    },
  };
}
