/**
 * Suppressions as the detectors see them: followed from the suppressions topic (compacted, every
 * suppression's latest version), consulted before an alert is raised. A suppression holds back the alerts of
 * one detector whose entity fields all equal its own, until it expires or is revoked; an episode it held back
 * that is still going on then is raised.
 */
import type { KafkaContext } from '../core/kafka';
import type { Logger } from '../core/log';
import { type Alert, SUPPRESSION_FIELDS, type Suppression, SuppressionSchema } from '../core/records';
import { TopicFollower } from '../core/topic-follower';
import { jsonRecordCodec } from '../core/json-record';
import { countSuppressionsWith } from './metrics';
import { canonicalAddr } from './view';


export const isActive = (s: Suppression, now: number): boolean => s.revoked_at === undefined && s.expires_at > now;

export function suppresses(s: Suppression, a: Alert, now: number): boolean {
  if (!isActive(s, now) || s.detector !== a.detector) return false;
  for (const f of SUPPRESSION_FIELDS) {
    const want = s[f];
    if (want === undefined) continue;
    const have = a[f];
    if (have === undefined) return false;
    if (f === 'src_addr' || f === 'dst_addr' ? canonicalAddr(String(have)) !== canonicalAddr(String(want)) : have !== want) return false;
  }
  return true;
}

const codec = jsonRecordCodec('suppression', SuppressionSchema);
export const decodeSuppression = codec.decode;
export const encodeSuppression = codec.encode;

/** The suppressions of a detectors process, kept current from the topic. */
export class SuppressionFeed {
  private readonly byId = new Map<string, Suppression>();
  private readonly follower: TopicFollower;

  constructor(kafka: KafkaContext, private readonly log: Logger) {
    this.follower = new TopicFollower(kafka, kafka.topics.suppressions, 'suppressions', log);
  }

  start(fatal: (e: Error) => void): Promise<void> {
    countSuppressionsWith(() => [...this.byId.values()].filter((s) => isActive(s, Date.now())).length);
    return this.follower.start((messages) => {
      for (const m of messages) {
        try {
          const s = decodeSuppression(m.value ?? Buffer.alloc(0));
          const have = this.byId.get(s.suppression_id);
          if (have && s.updated_at < have.updated_at) continue;
          // Only active ones are kept: the memory is bounded by what the API lets be active at once.
          if (isActive(s, Date.now())) this.byId.set(s.suppression_id, s);
          else this.byId.delete(s.suppression_id);
        } catch (e) {
          this.log.warn({ err: e, offset: m.offset }, 'skipped an unreadable suppression');
        }
      }
    }, fatal);
  }

  /** The active suppression that holds this alert back, if any. */
  holding(a: Alert, now: number): Suppression | undefined {
    for (const s of this.byId.values()) if (suppresses(s, a, now)) return s;
    return undefined;
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }
}
