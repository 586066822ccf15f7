/**
 * Writes the ground truth: one TruthLabel per line (JSON lines), as simulator/truth-file.ts reads it back. The
 * labels come from ClusterModel.truth(from, to) over the range the runner emitted.
 */
import { writeFileSync } from 'node:fs';
import type { TruthLabel } from './events';

export function truthLines(labels: readonly TruthLabel[]): string {
  return labels.map((l) => `${JSON.stringify(l)}\n`).join('');
}

export function writeTruth(file: string, labels: readonly TruthLabel[]): void {
  writeFileSync(file, truthLines(labels));
}
