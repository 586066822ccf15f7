/** What every part of the model reads: the cluster, its jobs, the egress proxy, and the scenario's knobs. */
import type { Egress } from './egress';
import type { ClusterView } from './hosts';
import type { JobSchedule } from './jobs';

export interface World {
  seed: number;
  view: ClusterView;
  schedule: JobSchedule;
  egress: Egress;
  /** Active timeout of long-lived flows, divided by the rate option. */
  exportInterval: number;
  /** The rate option: multiplies how many records normal traffic makes, not the bytes it carries. */
  rate: number;
}

/** The model's time slots: every source generates one slot at a time, from a generator seeded by the slot. */
export const SLOT_MS = 10_000;
