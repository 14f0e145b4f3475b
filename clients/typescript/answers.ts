/**
 * The generate and loader answers (docs/design.md §5) checked at the boundary: the
 * client hands back the typed union only when the JSON has its shape, and
 * says which field is wrong otherwise. Plus the guards and the one "files of
 * a link" helper that fetch, smoke and the demo use for both shapes.
 */
import type {
  FileLink,
  GenerateAnswer,
  GeneratingDataset,
  ShardedLink,
  ShardLink,
  SignedFile,
} from './api-types.js';
import {MalformedAnswerError} from './api-error.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown, min: number): value is number {
  return (
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min
  );
}

function need(ok: boolean, what: string, why: string): void {
  if (!ok) throw new MalformedAnswerError(what, why);
}

/** 201 `{version, objects, rows, seed, checksums, durationMs}` or 202 `{version, status: "generating", shards, rows, seed}`. */
export function generateAnswerOf(body: unknown): GenerateAnswer {
  const what = 'generateDataset';
  need(isObject(body), what, 'not a JSON object');
  const answer = body as Json;
  need(isCount(answer.version, 1), what, 'version is not a positive integer');
  need(isCount(answer.rows, 1), what, 'rows is not a positive integer');
  need(isCount(answer.seed, 0), what, 'seed is not an integer');
  if (answer.status !== undefined) {
    need(
      answer.status === 'generating',
      what,
      `status is ${JSON.stringify(answer.status)}, expected "generating"`,
    );
    need(isCount(answer.shards, 2), what, 'shards is not an integer >= 2');
    return answer as unknown as GeneratingDataset;
  }
  need(isObject(answer.objects), what, 'objects is not an object');
  need(
    typeof (answer.objects as Json).metadata === 'string',
    what,
    'objects.metadata is not a string',
  );
  return answer as unknown as GenerateAnswer;
}

function signedFileOf(value: unknown, what: string, where: string): SignedFile {
  need(isObject(value), what, `${where} is not an object`);
  const file = value as Json;
  for (const key of ['url', 'object', 'crc32c', 'md5'] as const)
    need(
      typeof file[key] === 'string' && file[key] !== '',
      what,
      `${where}.${key} is not a non-empty string`,
    );
  need(
    isCount(file.sizeBytes, 0),
    what,
    `${where}.sizeBytes is not an integer`,
  );
  return file as unknown as SignedFile;
}

/** `{version, url, object, ...}` or `{version, shards: [{url, object, rows, ...}]}`. */
export function fileLinkOf(body: unknown, what: string): FileLink {
  need(isObject(body), what, 'not a JSON object');
  const answer = body as Json;
  need(isCount(answer.version, 1), what, 'version is not a positive integer');
  need(typeof answer.expiresAt === 'string', what, 'expiresAt is not a string');
  if (answer.shards === undefined) {
    signedFileOf(answer, what, 'the answer');
    return answer as unknown as FileLink;
  }
  need(
    Array.isArray(answer.shards) && answer.shards.length > 0,
    what,
    'shards is not a non-empty array',
  );
  need(answer.url === undefined, what, 'both url and shards are present');
  (answer.shards as unknown[]).forEach((shard, index) => {
    signedFileOf(shard, what, `shards[${index}]`);
    need(
      isCount((shard as Json).rows, 1),
      what,
      `shards[${index}].rows is not a positive integer`,
    );
  });
  return answer as unknown as ShardedLink;
}

/** A 202: the version is being written shard by shard; follow loadMetadata. */
export function isGenerating(
  answer: GenerateAnswer,
): answer is GeneratingDataset {
  return 'status' in answer && answer.status === 'generating';
}

export function isShardedLink(link: FileLink): link is ShardedLink {
  return 'shards' in link;
}

/** The files of a link in row order: the one file, or every shard. */
export function filesOfLink(link: FileLink): Array<SignedFile | ShardLink> {
  return isShardedLink(link) ? link.shards : [link];
}
