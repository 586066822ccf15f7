/** Command-line time arguments: ms since the epoch or an ISO 8601 time. */
import { InvalidArgumentError } from 'commander';

export const time = (v: string): number => {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected ms since the epoch or an ISO 8601 time with offset');
  return ms;
};
