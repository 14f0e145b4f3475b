import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  leaseMsOf,
  settingsFromEnv,
  shardedLeaseMsOf,
} from '../../shared/settings.js';
import {ConfigurationError} from '../../shared/errors.js';

describe('settingsFromEnv', () => {
  it('has the documented defaults', () => {
    const settings = settingsFromEnv({});
    assert.deepEqual(
      {...settings, limits: settings.limits.maxSamples},
      {
        projectId: undefined,
        bucket: undefined,
        prefix: 'datasets/',
        collection: 'datasets',
        limits: 1_000_000_000,
        signedUrlTtlSeconds: 3600,
        signedUrlMaxTtlSeconds: 604_800,
        generateTimeoutSeconds: 540,
        leaseMarginSeconds: 60,
        eventMaxAgeSeconds: 90_000,
        shardTopic: 'dataset-shards',
        generateShardTimeoutSeconds: 540,
        shardMaxInstances: 64,
        shardMaxAttempts: 5,
      },
    );
  });

  it('reads every variable', () => {
    const settings = settingsFromEnv({
      GOOGLE_CLOUD_PROJECT: 'p',
      DATASETS_BUCKET: 'b',
      DATASETS_PREFIX: 'x/y/',
      FIRESTORE_COLLECTION: 'cat_2',
      MAX_SAMPLES: '5000',
      SIGNED_URL_TTL_SECONDS: '60',
      SIGNED_URL_MAX_TTL_SECONDS: '120',
      GENERATE_TIMEOUT_SECONDS: '30',
      GENERATE_LEASE_MARGIN_SECONDS: '5',
      EVENT_MAX_AGE_SECONDS: '600',
      SHARD_TOPIC: 'shards-2',
      GENERATE_SHARD_TIMEOUT_SECONDS: '100',
      SHARD_MAX_INSTANCES: '4',
      SHARD_MAX_ATTEMPTS: '3',
    });
    assert.equal(settings.projectId, 'p');
    assert.equal(settings.bucket, 'b');
    assert.equal(settings.prefix, 'x/y/');
    assert.equal(settings.collection, 'cat_2');
    assert.equal(settings.limits.maxSamples, 5000);
    assert.equal(settings.signedUrlTtlSeconds, 60);
    assert.equal(settings.signedUrlMaxTtlSeconds, 120);
    assert.equal(settings.generateTimeoutSeconds, 30);
    assert.equal(settings.leaseMarginSeconds, 5);
    assert.equal(leaseMsOf(settings), 35_000);
    assert.equal(settings.eventMaxAgeSeconds, 600);
    assert.equal(settings.shardTopic, 'shards-2');
    assert.equal(settings.generateShardTimeoutSeconds, 100);
    assert.equal(settings.shardMaxInstances, 4);
    assert.equal(settings.shardMaxAttempts, 3);
    assert.equal(settingsFromEnv({DATASETS_PREFIX: ''}).prefix, '');
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{MAX_SAMPLES: '0'}, /MAX_SAMPLES must be an integer/],
    [{MAX_SAMPLES: '1e6'}, /MAX_SAMPLES/],
    [{SIGNED_URL_MAX_TTL_SECONDS: '604801'}, /1\.\.604800/],
    [
      {SIGNED_URL_TTL_SECONDS: '7200', SIGNED_URL_MAX_TTL_SECONDS: '3600'},
      /SIGNED_URL_TTL_SECONDS must be an integer in 1\.\.3600/,
    ],
    [{DATASETS_PREFIX: 'datasets'}, /DATASETS_PREFIX/],
    [{DATASETS_PREFIX: '/datasets/'}, /DATASETS_PREFIX/],
    [{FIRESTORE_COLLECTION: 'a/b'}, /FIRESTORE_COLLECTION/],
    [
      {GENERATE_TIMEOUT_SECONDS: '0'},
      /GENERATE_TIMEOUT_SECONDS must be an integer in 1\.\.3600/,
    ],
    [{GENERATE_TIMEOUT_SECONDS: '3601'}, /GENERATE_TIMEOUT_SECONDS/],
    [{GENERATE_LEASE_MARGIN_SECONDS: '0'}, /GENERATE_LEASE_MARGIN_SECONDS/],
    [{EVENT_MAX_AGE_SECONDS: 'day'}, /EVENT_MAX_AGE_SECONDS/],
    [{SHARD_TOPIC: 'ab'}, /SHARD_TOPIC must be a Pub\/Sub topic id/],
    [{SHARD_TOPIC: '1shards'}, /SHARD_TOPIC/],
    [{SHARD_TOPIC: 'googshards'}, /SHARD_TOPIC/],
    [{SHARD_TOPIC: 'projects/p/topics/t'}, /SHARD_TOPIC/],
    [
      {GENERATE_SHARD_TIMEOUT_SECONDS: '0'},
      /GENERATE_SHARD_TIMEOUT_SECONDS must be an integer in 1\.\.3600/,
    ],
    [{SHARD_MAX_INSTANCES: '1001'}, /SHARD_MAX_INSTANCES/],
    [{SHARD_MAX_ATTEMPTS: 'x'}, /SHARD_MAX_ATTEMPTS/],
  ];
  it('gives a sharded version a lease over every wave of its fan-out, with a retry each', () => {
    const defaults = settingsFromEnv({});
    // 1 wave of 64: 540 s x 2 + 60 s
    assert.equal(shardedLeaseMsOf(defaults, 2), 1_140_000);
    assert.equal(shardedLeaseMsOf(defaults, 64), 1_140_000);
    // 2 waves: (2 x 540 x 2 + 60) s
    assert.equal(shardedLeaseMsOf(defaults, 65), 2_220_000);
    // 1,024 shards: 16 waves
    assert.equal(shardedLeaseMsOf(defaults, 1024), 17_340_000);
    const small = settingsFromEnv({
      GENERATE_SHARD_TIMEOUT_SECONDS: '10',
      SHARD_MAX_INSTANCES: '3',
      GENERATE_LEASE_MARGIN_SECONDS: '5',
    });
    assert.equal(shardedLeaseMsOf(small, 7), (3 * 10 * 2 + 5) * 1000);
  });

  for (const [env, message] of bad) {
    it(`refuses ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => settingsFromEnv(env),
        (e: unknown) =>
          e instanceof ConfigurationError && message.test(e.message),
      );
    });
  }
});
