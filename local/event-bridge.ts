/**
 * The local stand-in for Eventarc: pulls the Cloud Storage notifications
 * that fake-gcs-server publishes to the Pub/Sub emulator, turns each
 * OBJECT_FINALIZE into the `google.cloud.storage.object.v1.finalized`
 * CloudEvent (cloud-event.ts) and POSTs it to the target URL. A 2xx
 * acknowledges the message; anything else (or no answer) is retried with
 * exponential backoff, a bounded number of times, then dropped and logged.
 *
 * Throughput: each call to the emulator costs 10-30 ms, so messages are
 * pulled in batches (up to `maxPending` held at once, within their ack
 * deadline), delivered `maxInFlight` at a time, and acknowledged in batches.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import {
  finalizedCloudEvent,
  OBJECT_FINALIZE,
  parseNotification,
  storageObjectData,
  type CloudEventRequest,
  type StorageNotification,
} from './cloud-event.js';
import type {PubsubRestClient, ReceivedMessage} from './pubsub-rest.js';

export interface EventBridgeOptions {
  pubsub: PubsubRestClient;
  /** A pull subscription whose ack deadline covers `requestTimeoutMs`. */
  subscription: string;
  /** Where events are POSTed, e.g. http://127.0.0.1:8080/recordDatasetMetadata. */
  targetUrl: string;
  /** STORAGE_EMULATOR_HOST: object metadata is read from here. */
  storageUrl: string;
  /** Delivery attempts per event before it is dropped; default 8. */
  maxAttempts?: number;
  /** First retry delay, doubled each time; default 250 ms. */
  initialBackoffMs?: number;
  /** Longest retry delay; default 10 s. */
  maxBackoffMs?: number;
  /** Events POSTed at once; default 8. */
  maxInFlight?: number;
  /** Messages pulled and not yet done, at most; default 100. */
  maxPending?: number;
  /** Deadline of one POST; default 60 s. */
  requestTimeoutMs?: number;
  /** Objects whose events are acknowledged without delivery. */
  ignore?: (name: string) => boolean;
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
  /** Not OBJECT_FINALIZE, ignored, or undecodable: acknowledged, not delivered. */
  skipped: number;
}

export interface EventBridge {
  readonly stats: Readonly<EventBridgeStats>;
  /**
   * Stops pulling, aborts deliveries in progress and nacks what is not
   * delivered (the subscription is not meant to be pulled again: the
   * emulator may hand messages to the aborted pull until their deadline).
   * Idempotent.
   */
  stop(): Promise<void>;
}

/** Longest ack deadline Pub/Sub accepts. */
const MAX_ACK_DEADLINE_S = 600;
const ACK_FLUSH_MS = 20;

export function startEventBridge(options: EventBridgeOptions): EventBridge {
  const maxAttempts = options.maxAttempts ?? 8;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const maxInFlight = options.maxInFlight ?? 8;
  const maxPending = Math.max(maxInFlight, options.maxPending ?? 100);
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const log = options.log ?? (() => {});
  const {pubsub, subscription} = options;
  const stats: EventBridgeStats = {
    received: 0,
    delivered: 0,
    retries: 0,
    dropped: 0,
    skipped: 0,
  };
  const abort = new AbortController();
  const pending = new Set<Promise<void>>();
  const acks = new Batcher(ids => pubsub.acknowledge(subscription, ids), log);
  const nacks = new Batcher(
    ids => pubsub.modifyAckDeadline(subscription, ids, 0),
    log,
  );
  const slots = new Semaphore(maxInFlight);

  const backoff = (attempt: number) =>
    Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));

  async function post(event: CloudEventRequest): Promise<string | undefined> {
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

  /** The emulator's metadata of that generation; undefined if it is gone. */
  async function objectMetadata(n: StorageNotification) {
    const url =
      `${options.storageUrl}/storage/v1/b/${encodeURIComponent(n.bucket)}` +
      `/o/${encodeURIComponent(n.name)}?generation=${n.generation}`;
    const res = await fetch(url, {signal: abort.signal});
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined; // the notification's payload will do
    }
    if (!res.ok) throw new Error(`object metadata: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }

  async function attempt(n: StorageNotification): Promise<string | undefined> {
    await slots.acquire();
    try {
      if (abort.signal.aborted) return 'stopped';
      const metadata = await objectMetadata(n);
      return await post(
        finalizedCloudEvent(
          n,
          storageObjectData(n, metadata, options.storageUrl),
        ),
      );
    } catch (err) {
      return (err as Error).message;
    } finally {
      slots.release();
    }
  }

  async function handle({ackId, message}: ReceivedMessage): Promise<void> {
    stats.received++;
    let n: StorageNotification;
    try {
      n = parseNotification(message);
    } catch (err) {
      log(
        `event bridge: skipping message ${message.messageId}: ${(err as Error).message}`,
      );
      stats.skipped++;
      return acks.add(ackId);
    }
    if (n.eventType !== OBJECT_FINALIZE || options.ignore?.(n.name)) {
      stats.skipped++;
      return acks.add(ackId);
    }
    const what = `gs://${n.bucket}/${n.name}#${n.generation}`;
    for (let i = 1; ; i++) {
      const failure = await attempt(n);
      if (abort.signal.aborted) return nacks.add(ackId);
      if (failure === undefined) {
        stats.delivered++;
        log(`event bridge: delivered ${what} (attempt ${i})`);
        return acks.add(ackId);
      }
      if (i >= maxAttempts) {
        stats.dropped++;
        log(`event bridge: DROPPED ${what} after ${i} attempts: ${failure}`);
        return acks.add(ackId);
      }
      stats.retries++;
      const delay = backoff(i);
      log(
        `event bridge: ${what} attempt ${i} failed (${failure}); retry in ${delay} ms`,
      );
      // Keep the message ours through the wait and the next attempt.
      await pubsub
        .modifyAckDeadline(
          subscription,
          [ackId],
          Math.min(
            MAX_ACK_DEADLINE_S,
            Math.ceil((delay + requestTimeoutMs) / 1000) + 30,
          ),
        )
        .catch(err => log(`event bridge: ${(err as Error).message}`));
      await sleep(delay, undefined, {signal: abort.signal}).catch(() => {});
    }
  }

  function track(received: ReceivedMessage): void {
    const p = handle(received)
      .catch(err => log(`event bridge: ${(err as Error).message}`))
      .finally(() => pending.delete(p));
    pending.add(p);
  }

  async function loop(): Promise<void> {
    let pullFailures = 0;
    while (!abort.signal.aborted) {
      if (pending.size >= maxPending) {
        await Promise.race(pending);
        continue;
      }
      let messages: ReceivedMessage[];
      try {
        // Long poll: the emulator answers as soon as messages are there.
        messages = await pubsub.pull(subscription, {
          maxMessages: maxPending - pending.size,
          signal: abort.signal,
        });
        pullFailures = 0;
      } catch (err) {
        if (abort.signal.aborted) break;
        pullFailures++;
        log(`event bridge: pull failed: ${(err as Error).message}`);
        await sleep(backoff(Math.min(pullFailures, 6)), undefined, {
          signal: abort.signal,
        }).catch(() => {});
        continue;
      }
      messages.forEach(track);
    }
  }

  const looping = loop();
  let stopping: Promise<void> | undefined;
  return {
    stats,
    stop() {
      stopping ??= (async () => {
        abort.abort();
        await looping;
        await Promise.allSettled([...pending]);
        await Promise.allSettled([acks.flush(), nacks.flush()]);
      })();
      return stopping;
    },
  };
}

/** Collects ack ids and sends them in one call every few milliseconds. */
class Batcher {
  private ids: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (ids: string[]) => Promise<void>,
    private readonly log: (line: string) => void,
  ) {}

  add(id: string): void {
    this.ids.push(id);
    this.timer ??= setTimeout(() => void this.flush(), ACK_FLUSH_MS);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const ids = this.ids;
    this.ids = [];
    if (ids.length > 0) {
      this.inFlight = this.inFlight
        .then(() => this.send(ids))
        .catch(err => this.log(`event bridge: ${(err as Error).message}`));
    }
    return this.inFlight;
  }
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
