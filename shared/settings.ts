/**
 * Deployment settings, read once from the environment (docs/design.md §8), each with
 * its default and bounds. A bad value fails fast at start-up with one error.
 */
import {parseIntegerInRange} from './dataset/integer.js';
import {DEFAULT_LIMITS, type DatasetLimits} from './dataset/config.js';
import {ConfigurationError} from './errors.js';

export interface Settings {
  projectId: string | undefined;
  bucket: string | undefined;
  prefix: string;
  collection: string;
  limits: DatasetLimits;
  signedUrlTtlSeconds: number;
  signedUrlMaxTtlSeconds: number;
  /** generateDataset's timeout; a version's lease is this plus leaseMarginSeconds */
  generateTimeoutSeconds: number;
  /** what a lease adds to the generator's timeout: a killed instance's last writes, clock skew */
  leaseMarginSeconds: number;
  /** storage events older than this are acknowledged unrecorded (Eventarc retries for 24 h) */
  eventMaxAgeSeconds: number;
  /** The Pub/Sub topic a sharded generate publishes its shard messages to (docs/design.md §7). */
  shardTopic: string;
  /** generateShard's timeout: one shard's rows, uploads and (for the last) the metadata */
  generateShardTimeoutSeconds: number;
  /** generateShard's max_instance_count: how many shards run at once */
  shardMaxInstances: number;
  /** deliveries of one shard that fail before the shard fails its version */
  shardMaxAttempts: number;
}

/** How long a version stays `generating` before readers count it failed. */
export function leaseMsOf(settings: Settings): number {
  return (settings.generateTimeoutSeconds + settings.leaseMarginSeconds) * 1000;
}

/**
 * Runs of generateShard a sharded version's lease allows per shard: one
 * failed (transient) attempt and its redelivery, at every wave.
 */
export const SHARD_LEASE_RETRY_ALLOWANCE = 2;

/**
 * The lease of a sharded version (docs/design.md §6, §7): the fan-out runs in
 * waves of at most shardMaxInstances shards, each wave within one shard
 * timeout, SHARD_LEASE_RETRY_ALLOWANCE times over for redeliveries, plus
 * the margin. 16 shards on 64 instances: (1 x 540 x 2 + 60) s = 19 min;
 * 1,024 shards: (16 x 540 x 2 + 60) s = 4 h 49 min.
 */
export function shardedLeaseMsOf(settings: Settings, shards: number): number {
  const waves = Math.ceil(shards / settings.shardMaxInstances);
  return (
    (waves *
      settings.generateShardTimeoutSeconds *
      SHARD_LEASE_RETRY_ALLOWANCE +
      settings.leaseMarginSeconds) *
    1000
  );
}

export const SETTING_DEFAULTS = Object.freeze({
  DATASETS_PREFIX: 'datasets/',
  FIRESTORE_COLLECTION: 'datasets',
  MAX_SAMPLES: DEFAULT_LIMITS.maxSamples,
  SIGNED_URL_TTL_SECONDS: 3600,
  SIGNED_URL_MAX_TTL_SECONDS: 7 * 24 * 3600,
  // terraform's generateDataset timeout_seconds (variables.tf)
  GENERATE_TIMEOUT_SECONDS: 540,
  // a lease is the timeout plus this: a killed instance's last writes, clock skew
  GENERATE_LEASE_MARGIN_SECONDS: 60,
  // Eventarc's 24 h retry window plus an hour of margin
  EVENT_MAX_AGE_SECONDS: 25 * 3600,
  // the Pub/Sub topic of the shard fan-out (terraform's google_pubsub_topic.shards)
  SHARD_TOPIC: 'dataset-shards',
  // terraform's generateShard timeout: the 9-minute limit of event functions
  GENERATE_SHARD_TIMEOUT_SECONDS: 540,
  // terraform's generateShard max_instance_count
  SHARD_MAX_INSTANCES: 64,
  // a shard whose message failed this many deliveries fails its version
  SHARD_MAX_ATTEMPTS: 5,
});

/**
 * The largest value each integer setting accepts (the smallest is 1): upper
 * bounds of what a deployment may set, not what it gets by default.
 */
export const SETTING_UPPER_BOUNDS = Object.freeze({
  MAX_SAMPLES: Number.MAX_SAFE_INTEGER,
  // V4 signed URLs cannot live longer than seven days.
  SIGNED_URL_MAX_TTL_SECONDS: 7 * 24 * 3600,
  // Cloud Functions (2nd gen) HTTP functions run at most 60 minutes.
  GENERATE_TIMEOUT_SECONDS: 3600,
  GENERATE_LEASE_MARGIN_SECONDS: 3600,
  EVENT_MAX_AGE_SECONDS: 30 * 24 * 3600,
  GENERATE_SHARD_TIMEOUT_SECONDS: 3600,
  SHARD_MAX_INSTANCES: 1000,
  SHARD_MAX_ATTEMPTS: 100,
});

type Env = Record<string, string | undefined>;

function positiveInteger(
  env: Env,
  name: keyof typeof SETTING_DEFAULTS,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return SETTING_DEFAULTS[name] as number;
  return parseIntegerInRange(
    raw,
    name,
    {min: 1, max},
    {error: message => new ConfigurationError(message)},
  );
}

export function settingsFromEnv(env: Env = process.env): Settings {
  const prefix = env.DATASETS_PREFIX ?? SETTING_DEFAULTS.DATASETS_PREFIX;
  if (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/'))) {
    throw new ConfigurationError(
      `DATASETS_PREFIX must be empty or a folder like "datasets/", got ${JSON.stringify(prefix)}`,
    );
  }
  const collection =
    env.FIRESTORE_COLLECTION || SETTING_DEFAULTS.FIRESTORE_COLLECTION;
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(collection)) {
    throw new ConfigurationError(
      `FIRESTORE_COLLECTION must be a collection id of letters, digits, _ or -, got ${JSON.stringify(collection)}`,
    );
  }
  const shardTopic = env.SHARD_TOPIC || SETTING_DEFAULTS.SHARD_TOPIC;
  // Pub/Sub's rule for a topic id.
  if (
    !/^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/.test(shardTopic) ||
    shardTopic.startsWith('goog')
  ) {
    throw new ConfigurationError(
      `SHARD_TOPIC must be a Pub/Sub topic id (3-255 letters, digits or -._~+%, starting with a letter, not "goog"), got ${JSON.stringify(shardTopic)}`,
    );
  }
  const signedUrlMaxTtlSeconds = positiveInteger(
    env,
    'SIGNED_URL_MAX_TTL_SECONDS',
    SETTING_UPPER_BOUNDS.SIGNED_URL_MAX_TTL_SECONDS,
  );
  const signedUrlTtlSeconds = positiveInteger(
    env,
    'SIGNED_URL_TTL_SECONDS',
    signedUrlMaxTtlSeconds,
  );
  return {
    projectId: env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT || undefined,
    bucket: env.DATASETS_BUCKET || undefined,
    prefix,
    collection,
    limits: {
      ...DEFAULT_LIMITS,
      maxSamples: positiveInteger(
        env,
        'MAX_SAMPLES',
        SETTING_UPPER_BOUNDS.MAX_SAMPLES,
      ),
    },
    signedUrlTtlSeconds,
    signedUrlMaxTtlSeconds,
    generateTimeoutSeconds: positiveInteger(
      env,
      'GENERATE_TIMEOUT_SECONDS',
      SETTING_UPPER_BOUNDS.GENERATE_TIMEOUT_SECONDS,
    ),
    leaseMarginSeconds: positiveInteger(
      env,
      'GENERATE_LEASE_MARGIN_SECONDS',
      SETTING_UPPER_BOUNDS.GENERATE_LEASE_MARGIN_SECONDS,
    ),
    eventMaxAgeSeconds: positiveInteger(
      env,
      'EVENT_MAX_AGE_SECONDS',
      SETTING_UPPER_BOUNDS.EVENT_MAX_AGE_SECONDS,
    ),
    shardTopic,
    generateShardTimeoutSeconds: positiveInteger(
      env,
      'GENERATE_SHARD_TIMEOUT_SECONDS',
      SETTING_UPPER_BOUNDS.GENERATE_SHARD_TIMEOUT_SECONDS,
    ),
    shardMaxInstances: positiveInteger(
      env,
      'SHARD_MAX_INSTANCES',
      SETTING_UPPER_BOUNDS.SHARD_MAX_INSTANCES,
    ),
    shardMaxAttempts: positiveInteger(
      env,
      'SHARD_MAX_ATTEMPTS',
      SETTING_UPPER_BOUNDS.SHARD_MAX_ATTEMPTS,
    ),
  };
}
