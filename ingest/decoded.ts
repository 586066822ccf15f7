/**
 * What a flow-protocol decoder returns for one packet. Decoders never throw on bad input: a packet they
 * cannot read yields `errors` (each counted per exporter and reason, a sample dead-lettered) and whatever
 * records were readable before the damage.
 */
import type { Flow } from '../core/flow';
import type { InterfaceCounter } from '../core/records';

/** Reasons are short stable identifiers (metric label values); details are for humans. */
export interface DecodeError {
  reason: string;
  detail: string;
}

export interface Decoded {
  flows: Flow[];
  counters: InterfaceCounter[];
  errors: DecodeError[];
  /** Records the exporter sent that never arrived, from sequence-number gaps. */
  lost: number;
}

export const emptyDecoded = (): Decoded => ({ flows: [], counters: [], errors: [], lost: 0 });
