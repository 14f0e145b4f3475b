/**
 * What makes the small members of a metadata_v{N}.json (docs/design.md §4) a typed
 * MetadataHead: schemaVersion, version, createdAt, generator, a fully
 * resolved config, objects (one file per format, or `shards: [...]`) and
 * empirical. Each error names the member at fault and what it holds
 * (`metadata's objects.parquet.shards[2].rows must be a whole number >= 0,
 * got -1`). Used by read.ts, the one parser; nothing else turns
 * metadata JSON into a typed value.
 */
import {canonicalJson} from '../canonical-json.js';
import {FORMATS, resolveConfig, type DatasetConfig} from '../dataset/config.js';
import {InvalidArgumentError, MalformedMetadataError} from '../errors.js';
import {
  METADATA_SCHEMA_VERSION,
  type Empirical,
  type FormatObjects,
  type MetadataHead,
  type ObjectRecord,
} from './document.js';
import type {LoggingHead} from './logging.js';

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(path: string, wanted: string, value: unknown): never {
  throw new MalformedMetadataError(
    `metadata's ${path} must be ${wanted}, got ${shown(value)}`,
  );
}

function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(path, 'an object', value);
  return value as Record<string, unknown>;
}

function countAt(value: unknown, path: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    fail(path, 'a whole number >= 0', value);
  return value as number;
}

function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'a string', value);
  return value;
}

function rateAt(value: unknown, path: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    fail(path, 'a number in 0..1 or null', value);
  return value;
}

const BOUNDLESS = {
  maxSamples: Number.MAX_SAFE_INTEGER,
  maxTargetStoreIds: Number.MAX_SAFE_INTEGER,
  maxCreativePackIds: Number.MAX_SAFE_INTEGER,
};

/** The config as the generator records it: every field present and valid. */
function configAt(value: unknown): DatasetConfig {
  const given = objectAt(value, 'config');
  let resolved: DatasetConfig;
  try {
    // The deployment's bounds are policy, not shape: any size it took is kept.
    resolved = resolveConfig(given, BOUNDLESS, () =>
      fail('config.seed', 'a whole number', undefined),
    );
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new MalformedMetadataError(`metadata's config: ${error.message}`);
  }
  for (const [key, field] of Object.entries(resolved)) {
    // Metadata written before `shards` was part of the config lacks it (shardCountOf: 1).
    if (key === 'shards' && given.shards === undefined) continue;
    if (canonicalJson(given[key]) !== canonicalJson(field))
      fail(`config.${key}`, 'given (a resolved config)', given[key]);
  }
  return given as unknown as DatasetConfig;
}

function fileAt(value: unknown, path: string): ObjectRecord {
  const file = objectAt(value, path);
  stringAt(file.name, `${path}.name`);
  countAt(file.rows, `${path}.rows`);
  countAt(file.bytes, `${path}.bytes`);
  for (const digest of ['crc32c', 'sha256'])
    stringAt(file[digest], `${path}.${digest}`);
  // md5 is optional: the CLI writes it only with --md5 (docs/design.md §4).
  if (file.md5 !== undefined) stringAt(file.md5, `${path}.md5`);
  return file as unknown as ObjectRecord;
}

function formatAt(value: unknown, path: string): FormatObjects {
  const object = objectAt(value, path);
  if (!('shards' in object)) return fileAt(object, path);
  countAt(object.rows, `${path}.rows`);
  countAt(object.bytes, `${path}.bytes`);
  if (!Array.isArray(object.shards) || object.shards.length === 0)
    fail(`${path}.shards`, 'a non-empty array', object.shards);
  object.shards.forEach((shard, i) => fileAt(shard, `${path}.shards[${i}]`));
  return object as unknown as FormatObjects;
}

function objectsAt(value: unknown): MetadataHead['objects'] {
  const objects = objectAt(value, 'objects');
  for (const [format, object] of Object.entries(objects)) {
    if (!(FORMATS as readonly string[]).includes(format))
      fail('objects', `keyed by ${FORMATS.join(' or ')}`, format);
    formatAt(object, `objects.${format}`);
  }
  return objects as MetadataHead['objects'];
}

function empiricalAt(value: unknown): Empirical {
  const empirical = objectAt(value, 'empirical');
  countAt(empirical.rows, 'empirical.rows');
  countAt(empirical.positives, 'empirical.positives');
  rateAt(empirical.rate, 'empirical.rate');
  const perTarget = objectAt(
    empirical.perTargetStore,
    'empirical.perTargetStore',
  );
  for (const [id, raw] of Object.entries(perTarget)) {
    const path = `empirical.perTargetStore[${JSON.stringify(id)}]`;
    const observation = objectAt(raw, path);
    countAt(observation.rows, `${path}.rows`);
    countAt(observation.positives, `${path}.positives`);
    rateAt(observation.rate, `${path}.rate`);
    rateAt(observation.expectedRate, `${path}.expectedRate`);
  }
  return empirical as unknown as Empirical;
}

/** The members of a metadata object other than the four maps, checked and typed. */
export function checkHead(head: Record<string, unknown>): MetadataHead {
  if (head.schemaVersion !== METADATA_SCHEMA_VERSION)
    fail('schemaVersion', String(METADATA_SCHEMA_VERSION), head.schemaVersion);
  if (!Number.isSafeInteger(head.version) || (head.version as number) < 1)
    fail('version', 'a positive whole number', head.version);
  const createdAt = stringAt(head.createdAt, 'createdAt');
  if (Number.isNaN(Date.parse(createdAt)))
    fail('createdAt', 'an ISO 8601 time', createdAt);
  const generator = objectAt(head.generator, 'generator');
  stringAt(generator.name, 'generator.name');
  stringAt(generator.version, 'generator.version');
  const config = configAt(head.config);
  return {
    schemaVersion: METADATA_SCHEMA_VERSION,
    version: head.version as number,
    createdAt,
    generator: head.generator as MetadataHead['generator'],
    config,
    objects: objectsAt(head.objects),
    empirical: empiricalAt(head.empirical),
    ...loggingAt(head, config),
  };
}

function numberAt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(path, 'a finite number', value);
  return value;
}

/**
 * The logging members (docs/design.md §12): present exactly when the config
 * has a logging policy, logging_policy equal to it, policy_epochs exactly
 * when it is adaptive. Their values are checked by verify, not here.
 */
function loggingAt(
  head: Record<string, unknown>,
  config: DatasetConfig,
): Partial<LoggingHead> {
  const policy = config.loggingPolicy;
  if (policy === undefined) {
    for (const key of LOGGING_HEAD_KEYS)
      if (head[key] !== undefined)
        fail(key, 'absent (the config has no loggingPolicy)', head[key]);
    return {};
  }
  if (canonicalJson(head.logging_policy) !== canonicalJson(policy))
    fail(
      'logging_policy',
      `config.loggingPolicy, ${JSON.stringify(policy)}`,
      head.logging_policy,
    );
  const values = objectAt(head.policy_values, 'policy_values');
  const policy_values = {
    logging: numberAt(values.logging, 'policy_values.logging'),
    uniform: numberAt(values.uniform, 'policy_values.uniform'),
    best: numberAt(values.best, 'policy_values.best'),
  };
  const best = objectAt(head.best_creative, 'best_creative');
  for (const [id, creative] of Object.entries(best))
    stringAt(creative, `best_creative[${JSON.stringify(id)}]`);
  const logging: LoggingHead = {
    logging_policy: policy,
    policy_values,
    best_creative: best as Record<string, string>,
  };
  const adaptive = policy.type !== 'uniform' && policy.adaptive !== undefined;
  if (!adaptive) {
    if (head.policy_epochs !== undefined)
      fail(
        'policy_epochs',
        'absent (the policy is not adaptive)',
        head.policy_epochs,
      );
    return logging;
  }
  if (!Array.isArray(head.policy_epochs))
    fail(
      'policy_epochs',
      'an array (the policy is adaptive)',
      head.policy_epochs,
    );
  logging.policy_epochs = head.policy_epochs.map((raw: unknown, i: number) => {
    const path = `policy_epochs[${i}]`;
    const epoch = objectAt(raw, path);
    return {
      epoch: countAt(epoch.epoch, `${path}.epoch`),
      firstRow: countAt(epoch.firstRow, `${path}.firstRow`),
      rows: countAt(epoch.rows, `${path}.rows`),
      value: numberAt(epoch.value, `${path}.value`),
    };
  });
  return logging;
}

const LOGGING_HEAD_KEYS = [
  'logging_policy',
  'policy_values',
  'best_creative',
  'policy_epochs',
] as const;
