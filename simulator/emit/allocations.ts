/**
 * Allocation events onto the allocations topic, through the same publisher scheduler hooks and
 * `eastwatch allocations add` use (validated, keyed by job). Each is sent and acknowledged before the runner
 * goes on, so an allocation is on the topic before the flows that follow it in simulated time are emitted.
 */
import type { AllocationEventInput } from '../../allocations/event';
import { AllocationPublisher } from '../../allocations/publish';
import type { KafkaContext } from '../../core/kafka';
import { newStats } from './emitter';

export class AllocationEmitter {
  readonly name = 'allocations';
  readonly stats = newStats();

  private constructor(private readonly publisher: AllocationPublisher) {}

  static async open(kafka: KafkaContext): Promise<AllocationEmitter> {
    const publisher = new AllocationPublisher(kafka);
    await publisher.connect();
    return new AllocationEmitter(publisher);
  }

  async allocation(event: AllocationEventInput): Promise<void> {
    await this.publisher.publish([event]);
    this.stats.records++;
    this.stats.messages++;
  }

  close(): Promise<void> {
    return this.publisher.disconnect();
  }
}
