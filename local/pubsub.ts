/**
 * The Pub/Sub emulator through @google-cloud/pubsub: a client pointed at a
 * given emulator (not at whatever PUBSUB_EMULATOR_HOST says in this
 * process), and the few administrative calls the local stack makes, each
 * tolerant of what exists already (a restarted emulator has forgotten
 * everything; calling them again is how it is set up anew).
 */
import type {Message, PubSub} from '@google-cloud/pubsub';
import {LocalStackError} from './errors.js';

type PubsubLibrary = typeof import('@google-cloud/pubsub');
let loading: Promise<PubsubLibrary> | undefined;
let library: PubsubLibrary | undefined;

/**
 * Loads @google-cloud/pubsub (0.4 s of CPU when idle, seconds on a loaded
 * machine): started early, it overlaps the emulators' own start instead of
 * delaying everything. pubsubClient() needs it loaded.
 */
export function loadPubsub(): Promise<PubsubLibrary> {
  return (loading ??= import('@google-cloud/pubsub').then(
    loaded => (library = loaded),
  ));
}

/** gRPC status codes the admin calls tolerate. */
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;

function grpcCode(err: unknown): number | undefined {
  const code = (err as {code?: unknown})?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A client of the emulator at `host` (host:port), plain-text gRPC, no credentials. */
export function pubsubClient(host: string, projectId: string): PubSub {
  if (!library) {
    throw new LocalStackError(
      'the Pub/Sub library is not loaded yet: await loadPubsub() first',
    );
  }
  return new library.PubSub({projectId, apiEndpoint: host, emulatorMode: true});
}

export async function ensureTopic(client: PubSub, topic: string) {
  try {
    await client.createTopic(topic);
  } catch (err) {
    if (grpcCode(err) !== ALREADY_EXISTS)
      throw wrap('create topic', topic, err);
  }
}

/** A pull subscription of `topic`; one that exists already is fine. */
export async function ensureSubscription(
  client: PubSub,
  topic: string,
  subscription: string,
  ackDeadlineSeconds: number,
) {
  try {
    await client.topic(topic).createSubscription(subscription, {
      ackDeadlineSeconds,
    });
  } catch (err) {
    if (grpcCode(err) !== ALREADY_EXISTS)
      throw wrap('create subscription', subscription, err);
  }
}

export async function deleteSubscription(client: PubSub, subscription: string) {
  try {
    await client.subscription(subscription).delete();
  } catch (err) {
    if (grpcCode(err) !== NOT_FOUND)
      throw wrap('delete subscription', subscription, err);
  }
}

/**
 * Waits up to `timeoutMs` for a message of `subscription` that `matches`,
 * acknowledging everything it sees; false when none came.
 */
export async function awaitMessage(
  client: PubSub,
  subscription: string,
  matches: (message: Message) => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const sub = client.subscription(subscription, {
    streamingOptions: {maxStreams: 1},
  });
  try {
    return await new Promise<boolean>((resolve, reject) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      sub.on('message', (message: Message) => {
        message.ack();
        if (matches(message)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      sub.on('error', err => {
        clearTimeout(timer);
        reject(wrap('pull', subscription, err));
      });
    });
  } finally {
    await sub.close().catch(() => {});
  }
}

function wrap(what: string, name: string, err: unknown): LocalStackError {
  return new LocalStackError(
    `Pub/Sub emulator: ${what} ${name}: ${(err as Error).message}`,
    {cause: err},
  );
}
