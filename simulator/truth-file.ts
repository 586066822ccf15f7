/**
 * Reads the ground-truth file the simulator writes: JSON lines of TruthLabel, each validated, every error naming
 * the file and line. A truth file that reads wrong would make every score wrong, so nothing is guessed or skipped
 * except blank lines.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { UserError, zodDetail } from '../core/error-text';
import { ATTACK_KINDS, TRAP_KINDS, type TruthLabel } from './events';

export class TruthFileError extends UserError {}

const millis = () => z.number().int().min(0).max(8.64e15);

const TruthLabelSchema = z.strictObject({
  id: z.string().min(1),
  class: z.enum(['attack', 'benign']),
  kind: z.enum([...ATTACK_KINDS, ...TRAP_KINDS] as const),
  nodes: z.array(z.string().min(1)),
  addresses: z.array(z.string().refine((s) => isIP(s) !== 0, { message: 'not an IPv4 or IPv6 address' })),
  start: millis(),
  end: millis(),
  job: z.string().min(1).optional(),
  detectors: z.array(z.string().min(1)).optional(),
  description: z.string(),
}).superRefine((l, ctx) => {
  const kinds: readonly string[] = l.class === 'attack' ? ATTACK_KINDS : TRAP_KINDS;
  if (!kinds.includes(l.kind)) ctx.addIssue({ code: 'custom', path: ['kind'], message: `${l.kind} is not ${l.class === 'attack' ? 'an attack' : 'a benign trap'} kind` });
  if (l.end < l.start) ctx.addIssue({ code: 'custom', path: ['end'], message: 'before start' });
  // An alert matches a label by its nodes or addresses: a label with neither could never be detected.
  if (l.nodes.length === 0 && l.addresses.length === 0) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'no nodes and no addresses: no alert could match' });
});

/** Parses the text of a truth file; `file` only names it in errors. */
export function parseTruth(text: string, file: string): TruthLabel[] {
  const labels: TruthLabel[] = [];
  const lineOf = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new TruthFileError(`${where}: not JSON: ${(e as Error).message.replace(/\s+/g, ' ')}`);
    }
    const parsed = TruthLabelSchema.safeParse(value);
    if (!parsed.success) throw new TruthFileError(`${where}: ${zodDetail(parsed.error, '(label)', 3)}`);
    const label: TruthLabel = parsed.data;
    const first = lineOf.get(label.id);
    if (first !== undefined) throw new TruthFileError(`${where}: id ${JSON.stringify(label.id)} already used on line ${first}`);
    lineOf.set(label.id, i + 1);
    labels.push(label);
  });
  return labels;
}

export function readTruth(file: string): TruthLabel[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TruthFileError(`${file}: ${(e as Error).message}`);
  }
  return parseTruth(text, file);
}
