/**
 * The dead-letter topic: a sample of rejected input with the reason, for operators to inspect. Every
 * rejection is counted in metrics; at most `perSecond` a second per (stage, reason) are also sent here, so a
 * hostile or broken source cannot flood Kafka.
 */
import { IHeaders, Producer } from 'kafkajs';
import { deadLettered } from './metrics';
import type { Logger } from './log';

export interface DeadLetterRecord {
  stage: string;
  source: string;
  /** Short stable category (a metric label); the sample budget is per stage and reason. */
  reason: string;
  detail: string;
  payload: Buffer;
  /** Where the input came from, e.g. topic/partition/offset or exporter address. */
  origin?: string;
}

export class DeadLetter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly log: Logger,
    private readonly perSecond = 20,
    private readonly burst = 100,
  ) {}

  private admit(key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Sends the record if the sample budget allows; resolves when Kafka acknowledged it (or it was skipped). */
  async send(r: DeadLetterRecord): Promise<boolean> {
    if (!this.admit(`${r.stage}\0${r.reason}`, Date.now())) return false;
    const headers: IHeaders = { stage: r.stage, source: r.source, reason: `${r.reason}: ${r.detail}`, time: String(Date.now()) };
    if (r.origin) headers.origin = r.origin;
    try {
      await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: r.source, value: r.payload, headers }] });
      deadLettered.inc({ stage: r.stage, reason: r.reason });
      return true;
    } catch (e) {
      this.log.error({ err: e, reason: r.reason }, 'dead-letter send failed');
      return false;
    }
  }
}
