/**
 * Whether a parsed metadata object is the one this service's generator wrote
 * for an allocation (DESIGN §6): same version, same resolved config, same
 * generator, exactly the data objects that config names, with well-formed
 * sizes and checksums. Returns the first disagreement, or undefined.
 */
import type {DatasetRecord} from '../catalog/records.js';
import {FORMATS} from '../config.js';
import {objectName} from '../names.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted, so that equal values compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map(k => [k, v[k]]),
        )
      : v,
  );
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const BASE64_CRC32C = /^[A-Za-z0-9+/]{6}==$/;
const BASE64_MD5 = /^[A-Za-z0-9+/]{22}==$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

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
  for (const format of FORMATS) {
    if (!config.formats.includes(format)) continue;
    const object = objects[format];
    const name = objectName(
      prefix,
      format,
      version,
      config.tfrecordCompression,
    );
    if (!isRecord(object) || object.name !== name)
      return `metadata's ${format} object is not ${name}`;
    if (object.rows !== config.nSamples)
      return `metadata's ${format} object has ${canonicalJson(object.rows)} rows, the config ${config.nSamples}`;
    if (
      !isCount(object.bytes) ||
      typeof object.crc32c !== 'string' ||
      !BASE64_CRC32C.test(object.crc32c) ||
      typeof object.md5 !== 'string' ||
      !BASE64_MD5.test(object.md5) ||
      typeof object.sha256 !== 'string' ||
      !HEX_SHA256.test(object.sha256)
    )
      return `metadata's ${format} object has malformed bytes or checksums`;
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
