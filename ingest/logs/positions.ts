/**
 * Saved positions of followed files, so a restart resumes where the last run stopped instead of at the end
 * (losing what was written meanwhile). A position is saved only after the flows of the lines before it were
 * acknowledged by Kafka: a graceful stop saves the final one (no loss, no repeats); after a crash the lines
 * since the last checkpoint (one second) are read again (no loss, a few repeats).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { FilePosition } from './follow';

const PositionsSchema = z.record(z.string(), z.object({ ino: z.number().int().min(0), offset: z.number().int().min(0) }));

export class PositionStore {
  private readonly file: string;
  private positions: Record<string, FilePosition> = {};

  constructor(dir: string) {
    this.file = path.join(dir, 'follow-positions.json');
    try {
      const parsed = PositionsSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (parsed.success) this.positions = parsed.data;
    } catch {
      // no saved positions yet (or unreadable): files are followed from their end, as on a first start
    }
  }

  get(file: string): FilePosition | undefined {
    return this.positions[file];
  }

  /** Records positions and writes the file atomically (write beside, rename over). */
  save(updates: Iterable<[string, FilePosition]>): void {
    for (const [f, p] of updates) this.positions[f] = p;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.positions));
    renameSync(tmp, this.file);
  }
}
