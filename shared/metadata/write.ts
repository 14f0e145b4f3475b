/**
 * metadata_v{N}.json written as a stream of ~1 MiB chunks, straight from the
 * model's typed arrays: at 1,000,000 creative packs the file is ~140 MB, and
 * building it as one object and one string took ~1 GB more than the 1 GiB
 * generateDataset is deployed with.
 *
 * The bytes are those of serializeMetadata(buildMetadata(...)): the same
 * members in the same order, `JSON.stringify(metadata, null, 2)` plus a
 * final newline (test/unit/metadata-stream.test.ts holds the two together).
 */
import {createHash} from 'node:crypto';
import type {ObjectDigests} from '../digest/digests.js';
import {crc32c, crc32cBase64} from '../formats/crc32c.js';
import {
  LOGGING_PROBS,
  METADATA_KEYS,
  PROBABILITY_MAPS,
  type MetadataHead,
  type ProbabilityMapKey,
} from './document.js';
import type {DatasetModel} from '../dataset/model.js';
import type {ByteSink} from '../storage/sinks/sink.js';

/** Characters gathered before a chunk is handed on. */
export const METADATA_CHUNK_CHARS = 1 << 20;

/** A map's entries: its count, the JSON of key i and the JSON of value i. */
interface MapSource {
  count: number;
  key(index: number): string;
  value(index: number): string;
}

/** What JSON.stringify writes for a number. */
function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

type StreamedMapKey = ProbabilityMapKey | typeof LOGGING_PROBS;

function mapSources(
  model: DatasetModel,
  loggingProbabilities: Float64Array | undefined,
): Partial<Record<StreamedMapKey, MapSource>> {
  const targetKeys = model.targetIds.map(id => JSON.stringify(id));
  const creativeKey = (c: number) => JSON.stringify(model.creativeIds[c]);
  const nCreatives = model.creativeIds.length;
  return {
    target_store_id_probs: {
      count: model.targetIds.length,
      key: t => targetKeys[t],
      value: t => numberJson(model.targetProbs[t]),
    },
    creative_pack_id_probs: {
      count: nCreatives,
      key: creativeKey,
      value: c => numberJson(model.creativeEffects[c]),
    },
    creative_pack_target: {
      count: nCreatives,
      key: creativeKey,
      value: c => targetKeys[model.creativeTarget[c]],
    },
    pair_probs: {
      count: nCreatives,
      key: creativeKey,
      value: c => numberJson(model.pairProbs[c]),
    },
    ...(loggingProbabilities && {
      [LOGGING_PROBS]: {
        count: nCreatives,
        key: creativeKey,
        value: (c: number) => numberJson(loggingProbabilities[c]),
      },
    }),
  };
}

function isMapKey(key: string): key is StreamedMapKey {
  return (
    key === LOGGING_PROBS ||
    (PROBABILITY_MAPS as readonly string[]).includes(key)
  );
}

/** The file's bytes, in order, in chunks of about METADATA_CHUNK_CHARS. */
export function* metadataChunks(
  head: MetadataHead,
  model: DatasetModel,
  chunkChars = METADATA_CHUNK_CHARS,
  /** pi_b per creative: logging_probs, with a non-adaptive policy */
  loggingProbabilities?: Float64Array,
): Generator<Buffer> {
  const maps = mapSources(model, loggingProbabilities);
  let text = '{';
  let firstMember = true;
  for (const key of METADATA_KEYS) {
    const map = isMapKey(key) ? maps[key] : undefined;
    const member = isMapKey(key) ? undefined : head[key];
    // Members a dataset lacks (the logging ones, without a policy) are left out.
    if (map === undefined && member === undefined) continue;
    text += `${firstMember ? '' : ','}\n  ${JSON.stringify(key)}: `;
    firstMember = false;
    if (map === undefined) {
      // Nested members are small: stringify them whole, indented one level.
      text += JSON.stringify(member, null, 2).replace(/\n/g, '\n  ');
      continue;
    }
    if (map.count === 0) {
      text += '{}';
      continue;
    }
    text += '{';
    for (let i = 0; i < map.count; i++) {
      text += `${i === 0 ? '' : ','}\n    ${map.key(i)}: ${map.value(i)}`;
      if (text.length >= chunkChars) {
        yield Buffer.from(text, 'utf8');
        text = '';
      }
    }
    text += '\n  }';
  }
  text += '\n}\n';
  yield Buffer.from(text, 'utf8');
}

/**
 * Streams the metadata into `sink`, checksumming it on the way, and closes
 * the sink with the checksums (an upload compares them with what arrived).
 */
export async function writeMetadata(
  sink: ByteSink,
  head: MetadataHead,
  model: DatasetModel,
  loggingProbabilities?: Float64Array,
): Promise<ObjectDigests> {
  let crc = 0;
  let bytes = 0;
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  for (const chunk of metadataChunks(
    head,
    model,
    METADATA_CHUNK_CHARS,
    loggingProbabilities,
  )) {
    crc = crc32c(chunk, crc);
    md5.update(chunk);
    sha256.update(chunk);
    bytes += chunk.length;
    await sink.write(chunk);
  }
  const digests: ObjectDigests = {
    bytes,
    crc32c: crc32cBase64(crc),
    md5: md5.digest('base64'),
    sha256: sha256.digest('hex'),
  };
  await sink.close(digests);
  return digests;
}
