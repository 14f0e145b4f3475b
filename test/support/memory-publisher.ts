/** A ShardPublisher in memory: keeps what was published, or fails as told. */
import type {
  ShardMessage,
  ShardPublisher,
} from '../../shared/messaging/shard-messages.js';

export class MemoryPublisher implements ShardPublisher {
  /** every message published, in order */
  readonly published: ShardMessage[] = [];
  /** publish calls made */
  calls = 0;
  private failure: unknown;

  /** Every later publish rejects with `error`. */
  failWith(error: unknown): this {
    this.failure = error;
    return this;
  }

  async publish(messages: readonly ShardMessage[]): Promise<void> {
    this.calls++;
    if (this.failure !== undefined) throw this.failure;
    this.published.push(...messages.map(m => ({...m})));
  }
}
