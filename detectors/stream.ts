/**
 * The streaming detectors' stage: a consumer group on the flows topic (scale out by adding processes; the
 * topic is partitioned by source node, so one node's flows meet in one process). Each flow is judged a settle
 * delay after it reached Kafka, by its own event time, against the inventory and the detectors' own allocation
 * timeline. A batch's offsets are committed only once the alerts its findings made are on the alerts topic.
 */
import type { Consumer } from 'kafkajs';
import { WireError } from '../core/codec';
import { failpoint } from '../core/failpoint';
import type { Flow } from '../core/flow';
import { type KafkaContext, runConsumer } from '../core/kafka';
import type { Logger } from '../core/log';
import { kafkaLag, recordsFailed, recordsIn } from '../core/metrics';
import type { Stage, StageContext } from '../core/stage';
import { FLOWS } from '../core/streams';
import { AllocationFeed } from '../allocations/feed';
import type { Inventory } from '../inventory/inventory';
import type { DetectorsConfig } from './config';
import { sidesOf } from './context';
import { DpuCoverage } from './dpu-coverage';
import type { FindingSink, StreamingDetector } from './detector';
import type { Finding } from './finding';
import { EgressMeter } from './egress-meter';
import { detectorLag, findingsTotal } from './metrics';

const STAGE = 'detectors';
const EXPIRE_EVERY_MS = 10_000;

export interface StreamingDeps {
  kafka: KafkaContext;
  /** The current inventory (undefined: none configured, nothing is judged). */
  inventory: () => Inventory | undefined;
  detectors: StreamingDetector[];
  sink: FindingSink;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StreamingDetectors implements Stage {
  readonly name = 'streaming-detectors';
  readonly feed: AllocationFeed;
  private readonly consumer: Consumer;
  /** The newest event time judged; sFlow samples (stamped on arrival) count only while nothing else came. */
  private watermark = 0;
  private sflowWatermark = 0;
  private lastExpire = 0;
  private readonly dpus = new DpuCoverage();
  private readonly egress = new EgressMeter();
  private running = false;

  constructor(private readonly cfg: DetectorsConfig, private readonly deps: StreamingDeps) {
    this.feed = new AllocationFeed(deps.kafka, deps.log, 'detectors');
    this.consumer = deps.kafka.client.consumer({
      groupId: cfg.groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 3000, rebalanceTimeout: 60_000, allowAutoTopicCreation: false,
    });
  }

  health(): void {
    if (!this.running) throw new Error('streaming detectors are not consuming');
  }

  async start(ctx: StageContext): Promise<void> {
    if (!this.deps.inventory()) this.deps.log.warn('no inventory configured (EASTWATCH_INVENTORY): the detectors judge nothing until one is');
    await this.feed.start((e) => ctx.fatal(e));
    this.running = true;
    const fatal = (e: Error) => {
      this.running = false;
      ctx.fatal(e);
    };
    await runConsumer(this.consumer, [this.deps.kafka.topics.flows], 'detectors', this.deps.log, fatal, {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, heartbeat, resolveOffset, isRunning, isStale }) => {
        const findings: Finding[] = [];
        let last: string | undefined;
        let lastTimestamp = 0;
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) break;
          // Settle: allocation events published up to settleMs after the flow are in the timeline first.
          for (let wait = Number(m.timestamp) + this.cfg.settleMs - Date.now(); wait > 0; wait = Number(m.timestamp) + this.cfg.settleMs - Date.now()) {
            await sleep(Math.min(wait, 1000));
            await heartbeat();
          }
          this.judgeMessage(m.value, findings);
          last = m.offset;
          lastTimestamp = Number(m.timestamp);
        }
        if (last === undefined) return;
        detectorLag.set((Date.now() - lastTimestamp) / 1000);
        for (const f of findings) this.deps.sink.observe(f);
        await this.deps.sink.flush(this.watermark || this.sflowWatermark);
        failpoint('detectors-before-commit'); // alerts out, offsets not committed: the worst moment for duplicates
        resolveOffset(last);
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last) + 1) }]);
        kafkaLag.set({ group: this.cfg.groupId, topic: batch.topic, partition: batch.partition }, Number(batch.offsetLag()));
        await heartbeat();
      },
    });
  }

  private judgeMessage(value: Buffer | null, out: Finding[]): void {
    let flows: Flow[];
    try {
      flows = FLOWS.codec.decode(value ?? Buffer.alloc(0)) as Flow[];
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      // The writer dead-letters it with the reason; here it is only counted.
      recordsFailed.inc({ stage: STAGE, source: 'kafka', reason: 'undecodable-message' });
      return;
    }
    recordsIn.inc({ stage: STAGE, source: 'kafka' }, flows.length);
    const inv = this.deps.inventory();
    if (!inv) return;
    const before = out.length;
    for (const flow of flows) {
      if (this.dpus.covered(flow)) continue;
      if (flow.source_kind === 'sflow') {
        if (flow.time_end > this.sflowWatermark) this.sflowWatermark = flow.time_end;
      } else if (flow.time_end > this.watermark) this.watermark = flow.time_end;
      const [src, dst] = sidesOf(inv, this.feed.timeline, flow, this.cfg.graceMs);
      this.egress.count(flow, src, dst, inv);
      const judged = { flow, src, dst, inv };
      for (const d of this.deps.detectors) d.judge(judged, out);
    }
    for (let i = before; i < out.length; i++) findingsTotal.inc({ detector: out[i]!.detector });
    const watermark = this.watermark || this.sflowWatermark;
    if (watermark - this.lastExpire > EXPIRE_EVERY_MS) {
      this.lastExpire = watermark;
      for (const d of this.deps.detectors) d.expire?.(watermark);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
    await this.feed.stop();
  }
}
