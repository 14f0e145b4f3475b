import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {InvalidArgumentError} from '../../shared/errors.js';
import {
  pushedMessageOf,
  shardMessageOfEvent,
} from '../../shared/messaging/pushed-message.js';
import {
  encodeShardMessage,
  MESSAGE_PUBLISHED,
} from '../../shared/messaging/shard-messages.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function eventData(data: unknown, extra: Record<string, unknown> = {}) {
  return {
    message: {
      data,
      attributes: {version: '3'},
      messageId: '42',
      publishTime: '2026-11-25T15:00:00.000Z',
      ...extra,
    },
    subscription: 'projects/p/subscriptions/s',
  };
}

describe('pushedMessageOf', () => {
  it('decodes the message of a messagePublished event', () => {
    const pushed = pushedMessageOf(
      MESSAGE_PUBLISHED,
      eventData(b64('{"a":1}')),
    );
    assert.equal(pushed.data.toString('utf8'), '{"a":1}');
    assert.deepEqual(pushed.attributes, {version: '3'});
    assert.equal(pushed.messageId, '42');
    assert.equal(pushed.publishTime, '2026-11-25T15:00:00.000Z');
  });

  it('keeps only string attributes', () => {
    const pushed = pushedMessageOf(
      MESSAGE_PUBLISHED,
      eventData(b64('x'), {attributes: {a: 'b', n: 1, o: {}}}),
    );
    assert.deepEqual(pushed.attributes, {a: 'b'});
  });

  const bad: Array<[string, string, unknown, RegExp]> = [
    [
      'another event type',
      'google.cloud.storage.object.v1.finalized',
      eventData(b64('{}')),
      /expected a google\.cloud\.pubsub\.topic\.v1\.messagePublished event/,
    ],
    ['no data', MESSAGE_PUBLISHED, undefined, /no Pub\/Sub message/],
    ['data an array', MESSAGE_PUBLISHED, [], /no Pub\/Sub message/],
    ['no message', MESSAGE_PUBLISHED, {subscription: 's'}, /no Pub\/Sub/],
    ['message a string', MESSAGE_PUBLISHED, {message: 'x'}, /no Pub\/Sub/],
    ['no message.data', MESSAGE_PUBLISHED, eventData(undefined), /base64/],
    ['message.data a number', MESSAGE_PUBLISHED, eventData(7), /base64/],
    [
      'message.data not base64',
      MESSAGE_PUBLISHED,
      eventData('{"version":1}'),
      /base64/,
    ],
    ['message.data base64url', MESSAGE_PUBLISHED, eventData('ab-_'), /base64/],
    ['message.data unpadded', MESSAGE_PUBLISHED, eventData('YWJjZA'), /base64/],
  ];
  for (const [name, type, data, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => pushedMessageOf(type, data),
        (e: unknown) =>
          e instanceof InvalidArgumentError && message.test(e.message),
      );
    });
  }
});

describe('shardMessageOfEvent', () => {
  it('round-trips what the publisher encodes', () => {
    const encoded = encodeShardMessage({version: 9, shard: 2, shards: 4});
    const {message, pushed} = shardMessageOfEvent(
      MESSAGE_PUBLISHED,
      eventData(encoded.data.toString('base64'), {
        attributes: encoded.attributes,
      }),
    );
    assert.deepEqual(message, {version: 9, shard: 2, shards: 4});
    assert.deepEqual(pushed.attributes, {
      version: '9',
      shard: '2',
      shards: '4',
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', b64('hello'), /must be JSON/],
    [
      'a shard past the last',
      b64('{"version":1,"shard":4,"shards":4}'),
      /shard must be/,
    ],
    ['one shard', b64('{"version":1,"shard":0,"shards":1}'), /shards must be/],
    [
      'an unknown field',
      b64('{"version":1,"shard":0,"shards":2,"x":1}'),
      /unknown field/,
    ],
    ['empty data', '', /must be JSON/],
  ];
  for (const [name, data, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => shardMessageOfEvent(MESSAGE_PUBLISHED, eventData(data)),
        (e: unknown) =>
          e instanceof InvalidArgumentError && message.test(e.message),
      );
    });
  }
});
