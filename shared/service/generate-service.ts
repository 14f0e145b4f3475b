/**
 * generateDataset's domain: allocate a version under a lease, stream the
 * files into the bucket (metadata last), and on any failure leave the
 * version `failed` at once (bounded: a catalogue that is down cannot hold
 * the request; the lease ends the version then).
 *
 * A sharded request (config.shards > 1, docs/design.md §5, §7) is allocated with a
 * lease over the whole fan-out, its shard messages are published to the
 * shard topic, and it is answered at once, `generating`; generateShard
 * (shard-service.ts) writes the shards and the last one the metadata.
 */
import {describeFailure, isTransient} from '../catalog/failures.js';
import type {DatasetConfig, Format} from '../dataset/config.js';
import {planOf, type ShardPlan} from '../dataset/shard-plan.js';
import type {ObjectDigests} from '../digest/digests.js';
import {
  AlreadyExistsError,
  DatasetError,
  InvalidArgumentError,
  UnavailableError,
} from '../errors.js';
import {generateDataset} from '../generation/orchestrator.js';
import {objectName, type DatasetFileKind} from '../dataset/object-names.js';
import {leaseMsOf, shardedLeaseMsOf} from '../settings.js';
import {gsUri} from '../storage/object-store.js';
import type {ServiceContext} from './service-context.js';
import {markFailedBounded} from './lifecycle.js';
import {shardMessagesOf} from '../messaging/shard-messages.js';

export interface GenerateResponse {
  version: number;
  objects: Partial<Record<DatasetFileKind, string>>;
  rows: number;
  seed: number;
  checksums: Partial<
    Record<
      DatasetFileKind,
      Pick<ObjectDigests, 'crc32c' | 'md5' | 'sha256'> & {bytes: number}
    >
  >;
  durationMs: number;
}

/** A sharded request's answer (202): the version is generating; follow loadMetadata. */
export interface AcceptedResponse {
  version: number;
  status: 'generating';
  shards: number;
  rows: number;
  seed: number;
}

export type GenerateOutcome = GenerateResponse | AcceptedResponse;

/** True for a sharded request's 202 answer. */
export function isAccepted(
  outcome: GenerateOutcome,
): outcome is AcceptedResponse {
  return (outcome as Partial<AcceptedResponse>).status === 'generating';
}

/** How long a publish may take before the version is failed and the client told 503. */
export const PUBLISH_TIMEOUT_MS = 60_000;

/**
 * A sharded version: allocated once under a lease over every wave of the
 * fan-out, its S shard messages published, answered `generating`. Without a
 * publisher nothing is allocated; a failed publish fails the version (the
 * messages already out are acknowledged unwritten by generateShard) -> 503.
 */
export async function fanOutVersion(
  config: DatasetConfig,
  plan: ShardPlan,
  context: ServiceContext,
): Promise<AcceptedResponse> {
  const shards = plan.count;
  const publisher = context.shardPublisher;
  if (!publisher) {
    throw new InvalidArgumentError(
      `this deployment writes one file per dataset (it has no shard topic): ask for shards 1, got ${shards}`,
      'shards',
    );
  }
  const record = await context.catalog.allocate({
    config,
    now: context.now(),
    leaseMs: shardedLeaseMsOf(context.settings, shards),
  });
  const version = record.version;
  const log = context.log.with({version});
  log.log('INFO', 'fanning out a sharded dataset', {
    rows: config.nSamples,
    shards,
    seed: config.seed,
    leaseExpiresAt: record.leaseExpiresAt,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      publisher.publish(shardMessagesOf(version, shards)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `publishing took longer than ${PUBLISH_TIMEOUT_MS / 1000} s`,
              ),
            ),
          PUBLISH_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    const reason = `publishing the shard messages failed: ${describeFailure(error)}`;
    log.log('ERROR', 'shard messages not published; version failed', {
      error: reason,
    });
    await markFailedBounded({...context, log}, version, reason);
    throw new UnavailableError(
      `the shard topic did not take version ${version}'s ${shards} shard messages (${describeFailure(error)}); version ${version} is failed, retry`,
      5,
      error,
    );
  } finally {
    clearTimeout(timer);
  }
  log.log('INFO', 'shard messages published', {shards});
  return {
    version,
    status: 'generating',
    shards,
    rows: config.nSamples,
    seed: config.seed,
  };
}

/** What the client is told when writing failed: transient trouble is a 503. */
function clientErrorOf(error: unknown, version: number): unknown {
  if (error instanceof DatasetError) return error;
  if (isTransient(error)) {
    return new UnavailableError(
      `the bucket failed while version ${version} was written (${describeFailure(error)}); version ${version} is failed, retry`,
      2,
      error,
    );
  }
  return error;
}

/**
 * Versions tried when a version's names are taken by objects this service
 * did not write (a stranger's upload, or a bucket that outlived its
 * catalogue): each such version is failed, never overwritten, and the next
 * one is allocated.
 */
export const VERSION_ATTEMPTS = 3;

/**
 * One file per format written here (201), or a sharded version fanned out
 * (202); `config` is resolved (resolveConfig), its plan derived once here.
 */
export async function generateOrFanOut(
  config: DatasetConfig,
  context: ServiceContext,
): Promise<GenerateOutcome> {
  const plan = planOf(config);
  if (plan.count > 1) return fanOutVersion(config, plan, context);
  return generateToBucket(config, plan, context);
}

/**
 * Writes a one-shard dataset in this request (one file per format, then
 * the metadata): what generateDataset answers 201 for.
 */
export async function generateToBucket(
  config: DatasetConfig,
  plan: ShardPlan,
  context: ServiceContext,
): Promise<GenerateResponse> {
  if (plan.count !== 1)
    throw new RangeError(
      `generateToBucket writes one file per format; ${plan.count} shards go through fanOutVersion`,
    );
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await generateVersion(config, plan, context, started);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError) || attempt >= VERSION_ATTEMPTS)
        throw error;
      context.log.log(
        'WARNING',
        'a name of the allocated version is taken; allocating another',
        {attempt, error: error.message},
      );
    }
  }
}

async function generateVersion(
  config: DatasetConfig,
  plan: ShardPlan,
  context: ServiceContext,
  started: number,
): Promise<GenerateResponse> {
  const {settings, store, catalog} = context;
  const allocating = performance.now();
  const record = await catalog.allocate({
    config,
    now: context.now(),
    leaseMs: leaseMsOf(settings),
  });
  const version = record.version;
  const log = context.log.with({version});
  log.log('INFO', 'generating dataset', {
    rows: config.nSamples,
    seed: config.seed,
    formats: config.formats.join(','),
    leaseExpiresAt: record.leaseExpiresAt,
    allocationMs: Math.round(performance.now() - allocating),
  });

  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const) {
    names[kind] = objectName(
      settings.prefix,
      kind,
      version,
      config.tfrecordCompression,
    );
  }
  try {
    const result = await generateDataset({
      config,
      plan,
      version,
      names,
      destination: store,
      now: context.now,
    });
    const objects: GenerateResponse['objects'] = {};
    const checksums: GenerateResponse['checksums'] = {};
    for (const [format, object] of Object.entries(
      result.metadata.objects,
    ) as Array<[Format, ObjectDigests & {name: string}]>) {
      objects[format] = gsUri(store.bucketName, object.name);
      checksums[format] = {
        bytes: object.bytes,
        crc32c: object.crc32c,
        md5: object.md5,
        sha256: object.sha256,
      };
    }
    objects.metadata = gsUri(store.bucketName, names.metadata);
    const {bytes, crc32c, md5, sha256} = result.metadataObject;
    checksums.metadata = {bytes, crc32c, md5, sha256};
    const durationMs = Math.round(performance.now() - started);
    log.log('INFO', 'dataset written', {
      rows: config.nSamples,
      durationMs,
      rowsMs: Math.round(result.stages.rowsMs),
    });
    return {
      version,
      objects,
      rows: config.nSamples,
      seed: config.seed,
      checksums,
      durationMs,
    };
  } catch (error) {
    const reason = describeFailure(error);
    log.log('ERROR', 'dataset generation failed', {error: reason});
    await markFailedBounded({...context, log}, version, reason);
    throw clientErrorOf(error, version);
  }
}
