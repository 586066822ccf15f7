/**
 * The allocations topic as the writer stores it: each message is one allocation event in JSON (what a
 * scheduler hook can send with any Kafka client), expanded into Allocation rows. The row version is the
 * event's own latest time, so replays are deterministic and an end supersedes its start.
 */
import { WireError } from '../core/codec';
import { zodDetail } from '../core/error-text';
import { AllocationSchema } from '../core/records';
import type { StoredStream } from '../core/streams';
import { HostlistError } from '../inventory/hostlist';
import { AllocationEvent, AllocationEventSchema, allocationRows } from './event';

/** Reads one event message; throws WireError with the reason when it is not a valid event. */
export function decodeAllocationEvent(buf: Buffer): AllocationEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new WireError(`allocation event is not JSON: ${(e as Error).message}`);
  }
  const parsed = AllocationEventSchema.safeParse(raw);
  if (!parsed.success) {
    throw new WireError(`invalid allocation event: ${zodDetail(parsed.error, '(root)', 3)}`);
  }
  return parsed.data;
}

/** An event's rows; a bad hostlist is a WireError like any other unreadable event. */
export function eventRows(e: AllocationEvent): ReturnType<typeof allocationRows> {
  try {
    return allocationRows(e, e.end ?? e.start);
  } catch (err) {
    if (err instanceof HostlistError) throw new WireError(err.message);
    throw err;
  }
}

export const ALLOCATIONS: StoredStream = {
  name: 'allocations',
  table: 'allocations',
  topic: 'allocations',
  codec: {
    schema: AllocationSchema,
    decode: (buf) => eventRows(decodeAllocationEvent(buf)),
  },
};
