/**
 * Whether a parsed metadata object is the one this service's generator wrote
 * for an allocation (docs/design.md §6): same version, same resolved config, same
 * generator, exactly the data objects that config names (one per format,
 * or every shard of a sharded config), with well-formed sizes and checksums.
 * Shard rows are the plan's for this generator's versions; an older
 * generator's are checked as listed (shardRowsMismatch). Returns the first
 * disagreement, or undefined.
 */
import type {DatasetRecord} from '../catalog/records.js';
import {FORMATS, shardCountOf} from '../dataset/config.js';
import {canonicalJson} from '../canonical-json.js';
import {objectName, shardFileName} from '../dataset/object-names.js';
import {shardRowsMismatch} from '../dataset/shard-plan.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export {canonicalJson};

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const BASE64_CRC32C = /^[A-Za-z0-9+/]{6}==$/;
const BASE64_MD5 = /^[A-Za-z0-9+/]{22}==$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** `rows`: the rows the object must hold; undefined: any count (a shard, checked by its plan after). */
function fileMismatch(
  what: string,
  object: unknown,
  name: string,
  rows: number | undefined,
): string | undefined {
  if (!isRecord(object) || object.name !== name)
    return `metadata's ${what} object is not ${name}`;
  if (rows === undefined ? !isCount(object.rows) : object.rows !== rows)
    return `metadata's ${what} object has ${canonicalJson(object.rows)} rows${rows === undefined ? '' : `, the config ${rows}`}`;
  if (
    !isCount(object.bytes) ||
    typeof object.crc32c !== 'string' ||
    !BASE64_CRC32C.test(object.crc32c) ||
    typeof object.md5 !== 'string' ||
    !BASE64_MD5.test(object.md5) ||
    typeof object.sha256 !== 'string' ||
    !HEX_SHA256.test(object.sha256)
  )
    return `metadata's ${what} object has malformed bytes or checksums`;
  return undefined;
}

/** A sharded format: totals, and every shard named and sized as its generator's plan places rows. */
function shardedMismatch(
  format: string,
  object: unknown,
  name: string,
  allocation: DatasetRecord,
  shards: number,
): string | undefined {
  const {nSamples} = allocation.config;
  if (!isRecord(object) || !Array.isArray(object.shards))
    return `metadata's ${format} object is not a list of shards`;
  const files: unknown[] = object.shards;
  if (files.length !== shards)
    return `metadata's ${format} object lists ${files.length} shards, the config ${shards}`;
  if (object.rows !== nSamples)
    return `metadata's ${format} object has ${canonicalJson(object.rows)} rows, the config ${nSamples}`;
  let bytes = 0;
  for (const [k, file] of files.entries()) {
    const problem = fileMismatch(
      `${format} shard ${k}`,
      file,
      shardFileName(name, k, shards),
      undefined,
    );
    if (problem) return problem;
    bytes += (file as {bytes: number}).bytes;
  }
  const rows = files.map(file => (file as {rows: number}).rows);
  const layout = shardRowsMismatch(nSamples, rows, allocation.generator);
  if (layout) return `metadata's ${format} shards: ${layout}`;
  if (object.bytes !== bytes)
    return `metadata's ${format} object has ${canonicalJson(object.bytes)} bytes, its shards ${bytes}`;
  return undefined;
}

export function allocationMismatch(
  metadata: Record<string, unknown>,
  allocation: DatasetRecord,
  prefix: string,
): string | undefined {
  const {version, config} = allocation;
  if (metadata.version !== version)
    return `metadata says version ${canonicalJson(metadata.version)}, allocation ${version}`;
  if (canonicalJson(metadata.config) !== canonicalJson(config))
    return `metadata's config ${canonicalJson(metadata.config)} is not the allocated ${canonicalJson(config)}`;
  if (canonicalJson(metadata.generator) !== canonicalJson(allocation.generator))
    return `metadata's generator ${canonicalJson(metadata.generator)} is not the allocating ${canonicalJson(allocation.generator)}`;
  const objects = metadata.objects;
  if (!isRecord(objects)) return 'metadata has no objects';
  const listed = Object.keys(objects).sort();
  const expected = [...config.formats].sort();
  if (canonicalJson(listed) !== canonicalJson(expected))
    return `metadata lists objects ${listed.join(', ') || 'none'}, the config asks for ${expected.join(', ')}`;
  const shards = shardCountOf(config);
  for (const format of FORMATS) {
    if (!config.formats.includes(format)) continue;
    const object = objects[format];
    const name = objectName(
      prefix,
      format,
      version,
      config.tfrecordCompression,
    );
    const problem =
      shards === 1
        ? fileMismatch(format, object, name, config.nSamples)
        : shardedMismatch(format, object, name, allocation, shards);
    if (problem) return problem;
  }
  const empirical = metadata.empirical;
  if (
    !isRecord(empirical) ||
    empirical.rows !== config.nSamples ||
    !isCount(empirical.positives) ||
    typeof empirical.rate !== 'number'
  )
    return 'metadata has no well-formed empirical rows, positives and rate';
  if (typeof metadata.createdAt !== 'string')
    return 'metadata has no createdAt';
  return undefined;
}
