/**
 * The dataset request: fields, defaults and bounds of docs/design.md §2, validated
 * before anything is generated or written.
 */
import {randomInt} from 'node:crypto';
import {InvalidArgumentError} from '../errors.js';
import {
  inResolvedOrder,
  parseLoggingPolicy,
  type LoggingPolicy,
} from '../policy/spec.js';
import {resolveShardCount} from './shard-plan.js';

export const FORMATS = ['parquet', 'tfrecord'] as const;
export type Format = (typeof FORMATS)[number];

export const TFRECORD_COMPRESSIONS = ['NONE', 'GZIP'] as const;
export type TfrecordCompression = (typeof TFRECORD_COMPRESSIONS)[number];

export function isFormat(value: unknown): value is Format {
  return (FORMATS as readonly unknown[]).includes(value);
}

export function isTfrecordCompression(
  value: unknown,
): value is TfrecordCompression {
  return (TFRECORD_COMPRESSIONS as readonly unknown[]).includes(value);
}

/** A fully resolved request: every field present, seed included. */
export interface DatasetConfig {
  nSamples: number;
  /** how many shards the data files are split into (1: one file per format; docs/design.md §2, §3) */
  shards: number;
  nTargetStoreIds: number;
  nCreativePackIds: number;
  seed: number;
  formats: Format[];
  tfrecordCompression: TfrecordCompression;
  /**
   * How each row's creative is drawn (docs/design.md §12), resolved. Absent
   * (no such key): the uniform draw of §2 and no `pscore` column, the bytes
   * of a dataset made before logging policies existed.
   */
  loggingPolicy?: LoggingPolicy;
}

/** What a caller may send: any subset of the fields (a policy as JSON, not yet resolved). */
export type DatasetRequest = Partial<Omit<DatasetConfig, 'loggingPolicy'>> & {
  loggingPolicy?: unknown;
};

/**
 * The shard count of a config as stored: records and metadata written
 * before `shards` existed lack it, and were one file per format.
 */
export function shardCountOf(
  config: Omit<DatasetConfig, 'shards'> & {shards?: number},
): number {
  return config.shards ?? 1;
}

/** Upper bounds that deployments may lower or raise (env `MAX_SAMPLES`). */
export interface DatasetLimits {
  maxSamples: number;
  maxTargetStoreIds: number;
  maxCreativePackIds: number;
}

export const DEFAULT_LIMITS: DatasetLimits = Object.freeze({
  maxSamples: 1_000_000_000,
  maxTargetStoreIds: 10_000,
  maxCreativePackIds: 1_000_000,
});

/** The notebook's defaults (seed excluded: drawn per request, then recorded). */
export const DEFAULTS = Object.freeze({
  nSamples: 10_000_000,
  nTargetStoreIds: 10,
  nCreativePackIds: 100,
  formats: [...FORMATS] as Format[],
  tfrecordCompression: 'NONE' as TfrecordCompression,
});

export const MAX_SEED = Number.MAX_SAFE_INTEGER; // 2^53 - 1

const FIELDS = [
  'nSamples',
  'shards',
  'nTargetStoreIds',
  'nCreativePackIds',
  'seed',
  'formats',
  'tfrecordCompression',
  'loggingPolicy',
] as const;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function integerIn(
  input: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
  fallback: () => number,
): number {
  // Defaults are held to the same bounds: a deployment whose MAX_SAMPLES is
  // below the default must be asked for an explicit nSamples.
  const value = input[field] === undefined ? fallback() : input[field];
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(
      `${field} must be an integer in ${min}..${max}, got ${describe(value)}`,
      field,
    );
  }
  if (value < min || value > max) {
    throw new InvalidArgumentError(
      `${field} must be an integer in ${min}..${max}, got ${value}`,
      field,
    );
  }
  return value;
}

function formatsOf(value: unknown): Format[] {
  if (value === undefined) return [...DEFAULTS.formats];
  const expected = `formats must be a non-empty array of distinct values from ${FORMATS.join(', ')}`;
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidArgumentError(
      `${expected}, got ${describe(value)}`,
      'formats',
    );
  }
  const seen = new Set<Format>();
  for (const item of value) {
    if (!isFormat(item)) {
      throw new InvalidArgumentError(
        `${expected}, got ${describe(item)}`,
        'formats',
      );
    }
    if (seen.has(item)) {
      throw new InvalidArgumentError(
        `${expected}, got ${describe(item)} twice`,
        'formats',
      );
    }
    seen.add(item);
  }
  // Canonical order, so the same set of formats is recorded the same way.
  return FORMATS.filter(f => seen.has(f));
}

function compressionOf(value: unknown): TfrecordCompression {
  if (value === undefined) return DEFAULTS.tfrecordCompression;
  if (!isTfrecordCompression(value)) {
    throw new InvalidArgumentError(
      `tfrecordCompression must be one of ${TFRECORD_COMPRESSIONS.join(', ')}, got ${describe(value)}`,
      'tfrecordCompression',
    );
  }
  return value;
}

/**
 * A recorded config with its members in resolveConfig's order, its logging
 * policy's too (Firestore hands maps back in its own order; the metadata a
 * service writes from the record must read as the CLI's does). Members it
 * does not know (none today) are kept, after the known ones.
 */
export function inConfigOrder(config: DatasetConfig): DatasetConfig {
  const given = config as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const key of FIELDS)
    if (given[key] !== undefined) ordered[key] = given[key];
  for (const key of Object.keys(given))
    if (!(key in ordered)) ordered[key] = given[key];
  if (config.loggingPolicy !== undefined)
    ordered.loggingPolicy = inResolvedOrder(config.loggingPolicy);
  return ordered as unknown as DatasetConfig;
}

/** A fresh seed for a request that gave none; recorded with the dataset. */
export function randomSeed(): number {
  // randomInt takes at most 48 bits per call; combine two draws for 53.
  return randomInt(0, 2 ** 26) * 2 ** 27 + randomInt(0, 2 ** 27);
}

/**
 * Validates an untrusted request (a parsed JSON body, CLI flags) and resolves
 * defaults. Unknown fields, wrong types and out-of-bound values are rejected
 * with an error naming the field, the bound and the value.
 */
export function resolveConfig(
  input: unknown,
  limits: DatasetLimits = DEFAULT_LIMITS,
  drawSeed: () => number = randomSeed,
): DatasetConfig {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidArgumentError(
      `the request must be a JSON object, got ${describe(input)}`,
    );
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `unknown field ${JSON.stringify(key)}; allowed: ${FIELDS.join(', ')}`,
        key,
      );
    }
  }
  const nSamples = integerIn(
    record,
    'nSamples',
    1,
    limits.maxSamples,
    () => DEFAULTS.nSamples,
  );
  // 1 up to 33,554,432 rows, else ceil(nSamples / 16,777,216); bounds in shard-plan.ts
  const shards = resolveShardCount(nSamples, record.shards, 'shards');
  const nTargetStoreIds = integerIn(
    record,
    'nTargetStoreIds',
    1,
    limits.maxTargetStoreIds,
    () => DEFAULTS.nTargetStoreIds,
  );
  const nCreativePackIds = integerIn(
    record,
    'nCreativePackIds',
    1,
    limits.maxCreativePackIds,
    () => DEFAULTS.nCreativePackIds,
  );
  const config: DatasetConfig = {
    nSamples,
    shards,
    nTargetStoreIds,
    nCreativePackIds,
    seed: integerIn(record, 'seed', 0, MAX_SEED, drawSeed),
    formats: formatsOf(record.formats),
    tfrecordCompression: compressionOf(record.tfrecordCompression),
  };
  // Only when given: a config without the key is a dataset without a policy.
  if (record.loggingPolicy !== undefined) {
    config.loggingPolicy = parseLoggingPolicy(record.loggingPolicy, {
      nCreativePackIds,
    });
  }
  return config;
}
