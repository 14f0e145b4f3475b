/**
 * The shard fan-out's message (docs/design.md §7): one per shard of a sharded
 * version, published by generateDataset to the Pub/Sub topic
 * `dataset-shards` and delivered by Eventarc (locally: the local stack's
 * bridge) to generateShard as a `google.cloud.pubsub.topic.v1.messagePublished`
 * CloudEvent. The message names the work and nothing else: the config comes
 * from the version's allocation in the catalogue, so a forged message can at
 * most ask for a shard of a version that is ours and generating.
 */
import {InvalidArgumentError} from '../errors.js';
import {MAX_VERSION} from '../catalog/catalog.js';
import {MAX_SHARDS} from '../dataset/shard-plan.js';

/** The CloudEvent type Eventarc delivers a Pub/Sub message as. */
export const MESSAGE_PUBLISHED =
  'google.cloud.pubsub.topic.v1.messagePublished';

/** "Write shard `shard` (0-based) of the `shards` shards of version `version`." */
export interface ShardMessage {
  version: number;
  shard: number;
  shards: number;
}

/** Publishes shard messages; resolves once Pub/Sub has taken every one. */
export interface ShardPublisher {
  publish(messages: readonly ShardMessage[]): Promise<void>;
}

/** A Pub/Sub message's payload: JSON data, and the same fields as attributes for filtering and logs. */
export interface EncodedShardMessage {
  data: Buffer;
  attributes: Record<string, string>;
}

export function encodeShardMessage(message: ShardMessage): EncodedShardMessage {
  const {version, shard, shards} = message;
  return {
    data: Buffer.from(JSON.stringify({version, shard, shards})),
    attributes: {
      version: String(version),
      shard: String(shard),
      shards: String(shards),
    },
  };
}

/** Every shard message of a version, in shard order. */
export function shardMessagesOf(
  version: number,
  shards: number,
): ShardMessage[] {
  return Array.from({length: shards}, (_, shard) => ({version, shard, shards}));
}

function isIntegerIn(
  value: unknown,
  min: number,
  max: number,
): value is number {
  return (
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= min &&
    value <= max
  );
}

/**
 * The message from a Pub/Sub message's data (the bytes published, already
 * base64-decoded). Throws InvalidArgumentError on anything else: such a
 * message can never succeed, so it is acknowledged, not retried.
 */
export function decodeShardMessage(data: Uint8Array): ShardMessage {
  if (data.byteLength > 1024) {
    throw new InvalidArgumentError(
      `a shard message is a small JSON object; got ${data.byteLength} bytes`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new InvalidArgumentError('a shard message must be JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('a shard message must be a JSON object');
  }
  const {version, shard, shards, ...rest} = parsed as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown field ${JSON.stringify(unknown[0])} in a shard message`,
      unknown[0],
    );
  }
  if (!isIntegerIn(version, 1, MAX_VERSION)) {
    throw new InvalidArgumentError(
      `version must be an integer in 1..${MAX_VERSION}, got ${JSON.stringify(version)}`,
      'version',
    );
  }
  if (!isIntegerIn(shards, 2, MAX_SHARDS)) {
    throw new InvalidArgumentError(
      `shards must be an integer in 2..${MAX_SHARDS}, got ${JSON.stringify(shards)}`,
      'shards',
    );
  }
  if (!isIntegerIn(shard, 0, shards - 1)) {
    throw new InvalidArgumentError(
      `shard must be an integer in 0..${shards - 1}, got ${JSON.stringify(shard)}`,
      'shard',
    );
  }
  return {version, shard, shards};
}
