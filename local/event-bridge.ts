/**
 * The local stand-in for Eventarc: pulls messages from a Pub/Sub emulator
 * subscription (streaming pull, flow control `maxPending`), turns each into
 * the CloudEvent Eventarc would deliver (cloud-event.ts: storage
 * notifications become `...storage.object.v1.finalized`, shard messages
 * `...pubsub.topic.v1.messagePublished`) and POSTs it, `maxInFlight` at a
 * time. A 2xx acknowledges; anything else is retried with backoff a bounded
 * number of times, then dropped and logged. A message keeps its delivery slot
 * through its backoff, so a retry starts when its log line says, never behind
 * messages received later. A failed stream is reopened.
 */
import type {Message, PubSub, Subscription} from '@google-cloud/pubsub';
import {setMaxListeners} from 'node:events';
import {setTimeout as sleep} from 'node:timers/promises';
import {
  finalizedCloudEvent,
  messagePublishedCloudEvent,
  OBJECT_FINALIZE,
  parseNotification,
  storageObjectData,
  type CloudEventRequest,
  type PubsubDelivery,
  type PubsubMessage,
  type StorageNotification,
} from './cloud-event.js';
import {pubsubClient} from './pubsub.js';

/** How a bridge makes a CloudEvent of a received message. */
export interface CloudEventTransform<Decoded = unknown> {
  /**
   * What the message holds; a throw or undefined acknowledges it without a
   * delivery (undecodable, or nothing Eventarc would deliver).
   */
  decode(message: PubsubMessage): Decoded | undefined;
  /** Names the message in log lines. */
  describe(decoded: Decoded): string;
  /** The request to POST; a throw counts as a failed attempt, retried. */
  toCloudEvent(
    decoded: Decoded,
    signal: AbortSignal,
  ): Promise<CloudEventRequest<unknown>> | CloudEventRequest<unknown>;
}

/**
 * fake-gcs-server's notifications as `google.cloud.storage.object.v1.finalized`
 * CloudEvents: OBJECT_FINALIZE only, with the object's metadata read from
 * the storage emulator at `storageUrl`; objects `ignore` names are skipped.
 */
export function storageFinalizedTransform(
  storageUrl: string,
  ignore?: (name: string) => boolean,
): CloudEventTransform<StorageNotification> {
  /** The emulator's metadata of that generation; undefined if it is gone. */
  async function objectMetadata(n: StorageNotification, signal: AbortSignal) {
    const url =
      `${storageUrl}/storage/v1/b/${encodeURIComponent(n.bucket)}` +
      `/o/${encodeURIComponent(n.name)}?generation=${n.generation}`;
    const res = await fetch(url, {signal});
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined; // the notification's payload will do
    }
    if (!res.ok) throw new Error(`object metadata: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }
  return {
    decode(message) {
      const n = parseNotification(message);
      return n.eventType !== OBJECT_FINALIZE || ignore?.(n.name)
        ? undefined
        : n;
    },
    describe: n => `gs://${n.bucket}/${n.name}#${n.generation}`,
    async toCloudEvent(n, signal) {
      const metadata = await objectMetadata(n, signal);
      return finalizedCloudEvent(n, storageObjectData(n, metadata, storageUrl));
    },
  };
}

/** Any message as the `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent Eventarc makes of it. */
export function messagePublishedTransform(
  delivery: PubsubDelivery,
): CloudEventTransform<PubsubMessage> {
  return {
    decode: message => message,
    describe: m => `${delivery.topic} message ${m.messageId}`,
    toCloudEvent: m => messagePublishedCloudEvent(m, delivery),
  };
}

export interface EventBridgeOptions {
  /** host:port of the Pub/Sub emulator (PUBSUB_EMULATOR_HOST). */
  pubsubHost: string;
  projectId: string;
  /** A pull subscription. */
  subscription: string;
  /** Where events are POSTed, e.g. http://127.0.0.1:8080/recordDatasetMetadata. */
  targetUrl: string;
  /**
   * What each message becomes; default storageFinalizedTransform(storageUrl,
   * ignore).
   */
  transform?: CloudEventTransform<unknown>;
  /** STORAGE_EMULATOR_HOST, for the default transform. */
  storageUrl?: string;
  /** Objects whose events the default transform acknowledges without delivery. */
  ignore?: (name: string) => boolean;
  /** Delivery attempts per event before it is dropped; default 8. */
  maxAttempts?: number;
  /** First retry delay, doubled each time; default 250 ms. */
  initialBackoffMs?: number;
  /** Longest retry delay; default 10 s. */
  maxBackoffMs?: number;
  /**
   * Messages being delivered at once, each from its first attempt to its
   * ack (retries and their backoff included); default 8.
   */
  maxInFlight?: number;
  /** Messages received and not yet done, at most; default 100. */
  maxPending?: number;
  /** Deadline of one POST; default 60 s. */
  requestTimeoutMs?: number;
  /** Progress and failure lines; default none. */
  log?: (line: string) => void;
}

export interface EventBridgeStats {
  received: number;
  delivered: number;
  /** Failed attempts that were retried. */
  retries: number;
  /** Given up after maxAttempts. */
  dropped: number;
  /** Not for delivery (e.g. not OBJECT_FINALIZE), or undecodable: acknowledged, not delivered. */
  skipped: number;
  /** Times the subscription stream was opened again after failing. */
  reopened: number;
  /**
   * The latest any retry started after the time its log line announced
   * (event-loop lag; nothing queues between a failure and its retry).
   */
  maxRetryLagMs: number;
}

export interface EventBridge {
  readonly stats: Readonly<EventBridgeStats>;
  /** Receives from the emulator at `pubsubHost` from now on (it moved). */
  reconnect(pubsubHost: string): Promise<void>;
  /**
   * Stops receiving, aborts deliveries in progress and nacks what is not
   * delivered. Idempotent.
   */
  stop(): Promise<void>;
}

export function startEventBridge(options: EventBridgeOptions): EventBridge {
  const maxAttempts = options.maxAttempts ?? 8;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const maxInFlight = options.maxInFlight ?? 8;
  const maxPending = Math.max(maxInFlight, options.maxPending ?? 100);
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const log = options.log ?? (() => {});
  const transform = transformOf(options);
  const stats: EventBridgeStats = {
    received: 0,
    delivered: 0,
    retries: 0,
    dropped: 0,
    skipped: 0,
    reopened: 0,
    maxRetryLagMs: 0,
  };
  const abort = new AbortController();
  // Each delivery in flight listens on it (its POST, its backoff).
  setMaxListeners(2 * maxInFlight + 10, abort.signal);
  const pending = new Set<Promise<void>>();
  const slots = new Semaphore(maxInFlight);
  let host = options.pubsubHost;
  let client: PubSub | undefined;
  let subscription: Subscription | undefined;
  let reopenFailures = 0;
  let reopening: Promise<void> | undefined;

  const backoff = (attempt: number) =>
    Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));

  async function post(
    event: CloudEventRequest<unknown>,
  ): Promise<string | undefined> {
    try {
      const res = await fetch(options.targetUrl, {
        method: 'POST',
        headers: event.headers,
        body: event.body,
        signal: AbortSignal.any([
          abort.signal,
          AbortSignal.timeout(requestTimeoutMs),
        ]),
      });
      const text = await res.text().catch(() => '');
      return res.ok ? undefined : `HTTP ${res.status} ${text.slice(0, 200)}`;
    } catch (err) {
      return (err as Error).message;
    }
  }

  async function attempt(decoded: unknown): Promise<string | undefined> {
    try {
      if (abort.signal.aborted) return 'stopped';
      return await post(await transform.toCloudEvent(decoded, abort.signal));
    } catch (err) {
      return (err as Error).message;
    }
  }

  async function handle(message: Message): Promise<void> {
    stats.received++;
    let decoded: unknown;
    try {
      decoded = transform.decode({
        messageId: message.id,
        publishTime: message.publishTime.toISOString(),
        data: message.data,
        attributes: message.attributes,
      });
    } catch (err) {
      log(
        `event bridge: skipping message ${message.id}: ${(err as Error).message}`,
      );
      stats.skipped++;
      return message.ack();
    }
    if (decoded === undefined) {
      stats.skipped++;
      return message.ack();
    }
    // One slot from the first attempt to the ack: a retry that gave its
    // slot up during the backoff would queue behind every message received
    // meanwhile (a whole fan-out's worth), not start when it says.
    await slots.acquire();
    try {
      await deliver(message, decoded);
    } finally {
      slots.release();
    }
  }

  /** Attempts until a 2xx, maxAttempts or stop; acks or nacks. */
  async function deliver(message: Message, decoded: unknown): Promise<void> {
    const what = transform.describe(decoded);
    let retryAt: number | undefined;
    for (let i = 1; ; i++) {
      const started = Date.now();
      const late = retryAt === undefined ? '' : lateness(started - retryAt);
      const failure = await attempt(decoded);
      const took = Date.now() - started;
      if (abort.signal.aborted) return message.nack();
      if (failure === undefined) {
        stats.delivered++;
        log(
          `event bridge: delivered ${what} (attempt ${i}, took ${took} ms${late})`,
        );
        return message.ack();
      }
      if (i >= maxAttempts) {
        stats.dropped++;
        log(
          `event bridge: DROPPED ${what} after ${i} attempts (the last took ${took} ms${late}): ${failure}`,
        );
        return message.ack();
      }
      stats.retries++;
      const delay = backoff(i);
      log(
        `event bridge: ${what} attempt ${i} failed (took ${took} ms${late}: ${failure}); retry in ${delay} ms`,
      );
      retryAt = Date.now() + delay;
      // The library keeps extending the message's lease meanwhile.
      await sleep(delay, undefined, {signal: abort.signal}).catch(() => {});
    }
  }

  /** Records how late a retry started; words for its log line when it was. */
  function lateness(lagMs: number): string {
    stats.maxRetryLagMs = Math.max(stats.maxRetryLagMs, lagMs);
    return lagMs >= LATE_RETRY_MS
      ? `, started ${lagMs} ms later than announced`
      : '';
  }

  function open(): void {
    client ??= pubsubClient(host, options.projectId);
    const sub = client.subscription(options.subscription, {
      flowControl: {maxMessages: maxPending, allowExcessMessages: false},
      streamingOptions: {maxStreams: 1},
    });
    subscription = sub;
    sub.on('message', (message: Message) => {
      reopenFailures = 0;
      const p = handle(message)
        .catch(err => log(`event bridge: ${(err as Error).message}`))
        .finally(() => pending.delete(p));
      pending.add(p);
    });
    sub.on('error', err => {
      if (abort.signal.aborted || subscription !== sub) return;
      log(`event bridge: subscription stream failed: ${err.message}`);
      reopening ??= reopen(sub).finally(() => (reopening = undefined));
    });
  }

  /** Closes a failed stream and opens a new one, after a growing pause. */
  async function reopen(failed: Subscription): Promise<void> {
    reopenFailures++;
    await failed.close().catch(() => {});
    await sleep(backoff(Math.min(reopenFailures, 6)), undefined, {
      signal: abort.signal,
    }).catch(() => {});
    if (abort.signal.aborted || subscription !== failed) return;
    stats.reopened++;
    open();
  }

  open();
  let stopping: Promise<void> | undefined;
  return {
    stats,
    async reconnect(pubsubHost: string) {
      if (abort.signal.aborted) return;
      const old = subscription;
      const oldClient = client;
      subscription = undefined;
      host = pubsubHost;
      client = undefined;
      await old?.close().catch(() => {});
      await oldClient?.close().catch(() => {});
      stats.reopened++;
      open();
    },
    stop() {
      stopping ??= (async () => {
        abort.abort();
        await Promise.allSettled([...pending]);
        await subscription?.close().catch(() => {});
        await client?.close().catch(() => {});
      })();
      return stopping;
    },
  };
}

/** A retry this much later than its log line said gets that written on its next line. */
const LATE_RETRY_MS = 1_000;

/** The transform given, else the storage one (which needs storageUrl). */
function transformOf(
  options: EventBridgeOptions,
): CloudEventTransform<unknown> {
  if (options.transform) return options.transform;
  if (!options.storageUrl) {
    throw new TypeError(
      'an event bridge needs a transform, or storageUrl for storage events',
    );
  }
  return storageFinalizedTransform(options.storageUrl, options.ignore);
}

/** At most `size` holders at once. */
class Semaphore {
  private waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>(resolve => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
