/**
 * PubsubShardPublisher's own logic over a stand-in of the library's two
 * calls it makes (new PubSub().topic(name, options).publishMessage): the
 * library loaded once and only when publishing, every message started
 * before any is awaited, refusals and the deadline as UnavailableError.
 * The real client against the Pub/Sub emulator: test/integration/shards-service.test.ts.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {UnavailableError} from '../../shared/errors.js';
import {PubsubShardPublisher} from '../../shared/messaging/pubsub-shard-publisher.js';
import {shardMessagesOf} from '../../shared/messaging/shard-messages.js';

interface Published {
  data: Buffer;
  attributes: Record<string, string>;
}

function fakeLibrary(
  answer: (message: Published, index: number) => Promise<string>,
) {
  const published: Published[] = [];
  const topics: Array<{name: string; options: unknown}> = [];
  let loads = 0;
  let closed = 0;
  class PubSub {
    constructor(readonly options: unknown) {}
    topic(name: string, options: unknown) {
      topics.push({name, options});
      return {
        publishMessage(message: Published) {
          published.push(message);
          return answer(message, published.length - 1);
        },
        flush: async () => {},
      };
    }
    async close() {
      closed++;
    }
  }
  const load = async () => {
    loads++;
    return {PubSub} as unknown as typeof import('@google-cloud/pubsub');
  };
  return {
    load,
    published,
    topics,
    get loads() {
      return loads;
    },
    get closed() {
      return closed;
    },
  };
}

describe('PubsubShardPublisher', () => {
  it('loads the library on the first publish only, and publishes every message with its attributes', async () => {
    const lib = fakeLibrary(async (_, i) => String(i));
    const publisher = new PubsubShardPublisher({
      topic: 'dataset-shards',
      projectId: 'p',
      load: lib.load,
    });
    assert.equal(lib.loads, 0);
    await publisher.publish(shardMessagesOf(7, 3));
    await publisher.publish(shardMessagesOf(8, 2));
    assert.equal(lib.loads, 1);
    assert.equal(lib.topics.length, 1);
    assert.equal(lib.topics[0].name, 'dataset-shards');
    assert.deepEqual((lib.topics[0].options as {batching: unknown}).batching, {
      maxMessages: 100,
      maxMilliseconds: 10,
    });
    assert.deepEqual(
      lib.published.map(m => JSON.parse(m.data.toString('utf8'))),
      [
        {version: 7, shard: 0, shards: 3},
        {version: 7, shard: 1, shards: 3},
        {version: 7, shard: 2, shards: 3},
        {version: 8, shard: 0, shards: 2},
        {version: 8, shard: 1, shards: 2},
      ],
    );
    assert.deepEqual(lib.published[1].attributes, {
      version: '7',
      shard: '1',
      shards: '3',
    });
    await publisher.close();
    assert.equal(lib.closed, 1);
  });

  it('starts every publish before awaiting any (they share batches)', async () => {
    const releases: Array<() => void> = [];
    const lib = fakeLibrary(
      () => new Promise<string>(resolve => releases.push(() => resolve('id'))),
    );
    const publisher = new PubsubShardPublisher({topic: 't-1', load: lib.load});
    const done = publisher.publish(shardMessagesOf(1, 5));
    while (releases.length < 5) await new Promise(r => setImmediate(r));
    assert.equal(lib.published.length, 5);
    for (const release of releases) release();
    await done;
  });

  it('publishing nothing loads nothing', async () => {
    const lib = fakeLibrary(async () => 'id');
    await new PubsubShardPublisher({topic: 't-1', load: lib.load}).publish([]);
    assert.equal(lib.loads, 0);
  });

  it('a refused message is an UnavailableError naming how many', async () => {
    const lib = fakeLibrary(async (_, i) => {
      if (i === 1) throw new Error('NOT_FOUND: topic');
      return 'id';
    });
    const publisher = new PubsubShardPublisher({topic: 't-1', load: lib.load});
    await assert.rejects(
      publisher.publish(shardMessagesOf(3, 4)),
      (e: unknown) =>
        e instanceof UnavailableError &&
        /refused 1 of 4 shard message\(s\) to topic t-1: NOT_FOUND/.test(
          e.message,
        ),
    );
  });

  it('messages not all taken within the deadline are an UnavailableError', async () => {
    const lib = fakeLibrary(() => new Promise<string>(() => {}));
    const publisher = new PubsubShardPublisher({
      topic: 't-1',
      load: lib.load,
      timeoutMs: 50,
    });
    const started = Date.now();
    await assert.rejects(
      publisher.publish(shardMessagesOf(3, 2)),
      (e: unknown) =>
        e instanceof UnavailableError && /took over 50 ms/.test(e.message),
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('a library that fails to load is an UnavailableError, and is tried again next time', async () => {
    let attempts = 0;
    const lib = fakeLibrary(async () => 'id');
    const publisher = new PubsubShardPublisher({
      topic: 't-1',
      load: async () => {
        attempts++;
        if (attempts === 1) throw new Error('cannot load');
        return lib.load();
      },
    });
    await assert.rejects(
      publisher.publish(shardMessagesOf(1, 2)),
      (e: unknown) =>
        e instanceof UnavailableError && /cannot load/.test(e.message),
    );
    await publisher.publish(shardMessagesOf(1, 2));
    assert.equal(attempts, 2);
    assert.equal(lib.published.length, 2);
  });
});
