/** Error texts shared by the input parsers: zod issues as one line, and a short description of a value. */
import type { z } from 'zod';

/** `root` names an issue of the value itself (empty path); `max` keeps the first few issues. */
export function zodDetail(e: z.ZodError, root = '(root)', max = Infinity): string {
  return e.issues.slice(0, max).map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}

/** A short description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object with keys ${Object.keys(v).slice(0, 5).join(', ') || '(none)'}`;
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
  return typeof v === 'undefined' ? 'nothing' : `a ${typeof v}`;
}

/**
 * An error whose message tells the operator everything (a bad setting, an unreadable input file): the CLI
 * prints it as one line and exits 2, without a stack trace unless --debug is given.
 */
export class UserError extends Error {}

/** A UserError about something that does not exist (the API answers 404). */
export class NotFound extends UserError {}

/** A UserError about a change made against a version that is no longer current (the API answers 409). */
export class Conflict extends UserError {}
