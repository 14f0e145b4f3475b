/**
 * The ShardPublisher of the functions (docs/design.md §7): publishes shard
 * messages to the topic SHARD_TOPIC with @google-cloud/pubsub (the emulator
 * through PUBSUB_EMULATOR_HOST), loaded on the first publish (importing it
 * costs ~0.4 s of CPU and only a sharded generate publishes). Resolves once
 * Pub/Sub has taken every message; an UnavailableError when any is refused
 * or not taken within `timeoutMs`.
 */
import type {PubSub, Topic} from '@google-cloud/pubsub';
import {UnavailableError} from '../errors.js';
import {
  encodeShardMessage,
  type ShardMessage,
  type ShardPublisher,
} from './shard-messages.js';

type PubsubLibrary = typeof import('@google-cloud/pubsub');

export interface PubsubShardPublisherOptions {
  /** The topic's id in the project (SHARD_TOPIC). */
  topic: string;
  /** Default: the library's (GOOGLE_CLOUD_PROJECT, or the metadata server in the cloud). */
  projectId?: string;
  /** Deadline of one publish call, all of its messages; default 30 s. */
  timeoutMs?: number;
  /** Messages per batch (Pub/Sub allows 1,000); default 100. */
  maxMessagesPerBatch?: number;
  /** Loads the library; default a dynamic import. */
  load?: () => Promise<PubsubLibrary>;
}

export const PUBLISH_DEFAULTS = Object.freeze({
  timeoutMs: 30_000,
  maxMessagesPerBatch: 100,
});

export class PubsubShardPublisher implements ShardPublisher {
  private readonly timeoutMs: number;
  private readonly maxMessagesPerBatch: number;
  private readonly load: () => Promise<PubsubLibrary>;
  private opened: Promise<{client: PubSub; topic: Topic}> | undefined;

  constructor(private readonly options: PubsubShardPublisherOptions) {
    this.timeoutMs = options.timeoutMs ?? PUBLISH_DEFAULTS.timeoutMs;
    this.maxMessagesPerBatch =
      options.maxMessagesPerBatch ?? PUBLISH_DEFAULTS.maxMessagesPerBatch;
    this.load = options.load ?? (() => import('@google-cloud/pubsub'));
  }

  /** The client and topic, made once; a failed load is tried again next time. */
  private open(): Promise<{client: PubSub; topic: Topic}> {
    this.opened ??= this.load().then(
      ({PubSub}) => {
        const client = new PubSub(
          this.options.projectId ? {projectId: this.options.projectId} : {},
        );
        const topic = client.topic(this.options.topic, {
          batching: {
            maxMessages: this.maxMessagesPerBatch,
            // Every message of a call is published at once: a short wait
            // fills the batches without holding the first one back.
            maxMilliseconds: 10,
          },
          gaxOpts: {timeout: this.timeoutMs},
        });
        return {client, topic};
      },
      error => {
        this.opened = undefined;
        throw error;
      },
    );
    return this.opened;
  }

  async publish(messages: readonly ShardMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const what = `${messages.length} shard message(s) to topic ${this.options.topic}`;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UnavailableError(
              `publishing ${what} took over ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      await Promise.race([this.publishAll(messages, what), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async publishAll(
    messages: readonly ShardMessage[],
    what: string,
  ): Promise<void> {
    let topic: Topic;
    try {
      ({topic} = await this.open());
    } catch (error) {
      throw new UnavailableError(
        `could not load the Pub/Sub client: ${(error as Error).message}`,
        1,
        error,
      );
    }
    // Every publish is started before any is awaited, so they share
    // batches; allSettled so that no rejection is left unobserved.
    const results = await Promise.allSettled(
      messages.map(message =>
        topic.publishMessage(encodeShardMessage(message)),
      ),
    );
    const failed = results.find(
      (r): r is PromiseRejectedResult => r.status === 'rejected',
    );
    if (failed) {
      const refused = results.filter(r => r.status === 'rejected').length;
      throw new UnavailableError(
        `Pub/Sub refused ${refused} of ${what}: ${(failed.reason as Error).message}`,
        1,
        failed.reason,
      );
    }
  }

  /** Flushes and closes the client (tests, shutdown); idempotent. */
  async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (!opened) return;
    const {client, topic} = await opened.catch(() => ({
      client: undefined,
      topic: undefined,
    }));
    await topic?.flush().catch(() => {});
    await client?.close().catch(() => {});
  }
}
