/**
 * The Pub/Sub message inside a `google.cloud.pubsub.topic.v1.messagePublished`
 * CloudEvent, as Eventarc delivers it (and the local stack's bridge):
 * data `{message: {data: base64, attributes, messageId, publishTime},
 * subscription}`. Anything else throws InvalidArgumentError: such an event
 * can never succeed, so it is acknowledged, not retried.
 */
import {InvalidArgumentError} from '../errors.js';
import {
  decodeShardMessage,
  MESSAGE_PUBLISHED,
  type ShardMessage,
} from './shard-messages.js';

export interface PushedMessage {
  /** The published bytes, base64-decoded. */
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string | undefined;
  publishTime: string | undefined;
}

/** Standard base64 (RFC 4648 §4) with its padding, as Pub/Sub writes it. */
const BASE64 =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The message of a messagePublished event; throws InvalidArgumentError otherwise. */
export function pushedMessageOf(type: string, data: unknown): PushedMessage {
  if (type !== MESSAGE_PUBLISHED) {
    throw new InvalidArgumentError(
      `expected a ${MESSAGE_PUBLISHED} event, got type ${JSON.stringify(type.slice(0, 100))}`,
    );
  }
  const message = isRecord(data) ? data.message : undefined;
  if (!isRecord(message)) {
    throw new InvalidArgumentError(
      'the event data has no Pub/Sub message object',
      'message',
    );
  }
  const encoded = message.data;
  if (typeof encoded !== 'string' || !BASE64.test(encoded)) {
    throw new InvalidArgumentError(
      'message.data must be the base64 of the published bytes',
      'message.data',
    );
  }
  const attributes: Record<string, string> = {};
  if (isRecord(message.attributes)) {
    for (const [key, value] of Object.entries(message.attributes)) {
      if (typeof value === 'string') attributes[key] = value;
    }
  }
  return {
    data: Buffer.from(encoded, 'base64'),
    attributes,
    messageId: optionalString(message.messageId),
    publishTime: optionalString(message.publishTime),
  };
}

/** The shard message a messagePublished event carries; throws InvalidArgumentError otherwise. */
export function shardMessageOfEvent(
  type: string,
  data: unknown,
): {message: ShardMessage; pushed: PushedMessage} {
  const pushed = pushedMessageOf(type, data);
  return {message: decodeShardMessage(pushed.data), pushed};
}
