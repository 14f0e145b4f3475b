/**
 * The one parser of metadata_v{N}.json (docs/design.md §4): the recorder, the
 * loaders, verify and the tests turn its bytes into a typed value here and
 * nowhere else. It reads the object as it streams in (@streamparser/json),
 * never whole: ~140 MB at 1,000,000 creative packs (docs/large-configs.md).
 * The small members are checked into a MetadataHead (check.ts); the four
 * maps entry by entry, counted against the config, and kept whole under a
 * size or handed on as ProbabilityTables. Malformed bytes are a
 * MalformedMetadataError naming what is wrong.
 */
import {JSONParser} from '@streamparser/json';
import {checkHead} from './check.js';
import {
  LOGGING_PROBS,
  METADATA_KEYS,
  metadataOf,
  PROBABILITY_MAPS,
  type DatasetMetadata,
  type MetadataHead,
  type ProbabilityMapKey,
} from './document.js';
import {
  RunningSummary,
  type ProbabilitiesSummary,
} from './probabilities-summary.js';
import {ProbabilityTables} from './probability-tables.js';
import {MalformedMetadataError} from '../errors.js';

export interface ProbabilityMaps {
  target_store_id_probs: Record<string, number>;
  creative_pack_id_probs: Record<string, number>;
  creative_pack_target: Record<string, string>;
  pair_probs: Record<string, number>;
}

export interface MetadataRead {
  /** every member other than the four maps, checked and typed */
  head: MetadataHead;
  /** entries of each map */
  counts: Record<ProbabilityMapKey, number>;
  /** min, max and mean of pair_probs, summed in file order */
  pairProbs: ProbabilitiesSummary;
  /** the four maps whole, when their JSON stayed within keepMapsUpToBytes */
  maps?: ProbabilityMaps;
  /** the four maps indexed by id, when asked for (`tables: true`) */
  tables?: ProbabilityTables;
  bytes: number;
}

export interface ReadMetadataOptions {
  /** keep the maps while their compact JSON is at most this many bytes; default 0 (never) */
  keepMapsUpToBytes?: number;
  /** refuse a larger object; default METADATA_MAX_BYTES */
  maxBytes?: number;
  /** also index the maps by id into ProbabilityTables (what verify needs) */
  tables?: boolean;
}

/** 1,000,000 creatives and 10,000 target stores take ~150 MB; anything past this is not ours. */
export const METADATA_MAX_BYTES = 512 * 1024 * 1024;

// logging_probs (one entry per creative, like the four maps) is parsed past,
// not kept: whoever needs pi_b recomputes it from the config (exactly).
const HEAD_KEYS = METADATA_KEYS.filter(
  key =>
    key !== LOGGING_PROBS &&
    !(PROBABILITY_MAPS as readonly string[]).includes(key),
);

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** One entry of a map: a number, or a target id for creative_pack_target. */
function checkEntry(map: ProbabilityMapKey, key: string, value: unknown): void {
  const expected = map === 'creative_pack_target' ? 'string' : 'number';
  if (typeof value !== expected) {
    throw new MalformedMetadataError(
      `metadata's ${map} maps ${JSON.stringify(key)} to ${describeJson(value)}, not a ${expected}`,
    );
  }
}

function checkNonEmpty(counts: Record<ProbabilityMapKey, number>): void {
  for (const map of PROBABILITY_MAPS) {
    if (counts[map] === 0)
      throw new MalformedMetadataError(
        `metadata has no non-empty object "${map}"`,
      );
  }
}

export async function readMetadata(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: ReadMetadataOptions = {},
): Promise<MetadataRead> {
  const keepUpTo = options.keepMapsUpToBytes ?? 0;
  const maxBytes = options.maxBytes ?? METADATA_MAX_BYTES;
  const head: Record<string, unknown> = {};
  const counts: Record<ProbabilityMapKey, number> = {
    target_store_id_probs: 0,
    creative_pack_id_probs: 0,
    creative_pack_target: 0,
    pair_probs: 0,
  };
  const pairProbs = new RunningSummary();
  const tables = options.tables ? new ProbabilityTables() : undefined;
  let maps: ProbabilityMaps | undefined = {
    target_store_id_probs: {},
    creative_pack_id_probs: {},
    creative_pack_target: {},
    pair_probs: {},
  };
  let mapBytes = 0;

  const parser = new JSONParser({
    paths: [
      ...HEAD_KEYS.map(key => `$.${key}`),
      ...PROBABILITY_MAPS.map(key => `$.${key}.*`),
    ],
    keepStack: false,
    numberBufferSize: 64, // ~20% less CPU on 3M numbers than string appends; longer ones still parse
  });
  parser.onValue = ({value, key, parent, stack}) => {
    if (stack.length === 1) {
      head[String(key)] = value;
      return;
    }
    const map = stack[1].key as ProbabilityMapKey;
    if (Array.isArray(parent))
      throw new MalformedMetadataError(`metadata's ${map} is an array`);
    checkEntry(map, String(key), value);
    counts[map]++;
    if (map === 'pair_probs') pairProbs.add(value as number);
    tables?.add(map, String(key), value as number | string);
    if (maps) {
      // the compact JSON of the entry: "key":value,
      mapBytes += String(key).length + 4 + String(value).length;
      if (mapBytes > keepUpTo) maps = undefined;
      // defined, not assigned: a key "__proto__" stays an entry, as JSON.parse keeps it
      else
        Object.defineProperty(maps[map], String(key), {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
  };

  /** Whatever the parser throws is the bytes' fault (a storage error never reaches it). */
  const parse = (step: () => void) => {
    try {
      step();
    } catch (error) {
      if (error instanceof MalformedMetadataError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new MalformedMetadataError(
        `metadata is not valid JSON: ${reason}`,
        {
          cause: error,
        },
      );
    }
  };
  let bytes = 0;
  let rootChecked = false;
  for await (const chunk of chunks) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes)
      throw new MalformedMetadataError(`metadata is over ${maxBytes} bytes`);
    if (!rootChecked) {
      const first = chunk.findIndex(b => !WHITESPACE.has(b));
      if (first === -1) continue;
      if (chunk[first] !== 0x7b)
        throw new MalformedMetadataError('metadata is not a JSON object');
      rootChecked = true;
    }
    parse(() => parser.write(chunk));
  }
  if (!rootChecked)
    throw new MalformedMetadataError('metadata is not a JSON object');
  if (!parser.isEnded) parse(() => parser.end());
  checkNonEmpty(counts);
  const checked = checkHead(head);
  checkCountsAgainstConfig(checked, counts);
  tables?.finish();
  return {
    head: checked,
    counts,
    pairProbs: pairProbs.result(),
    maps,
    tables,
    bytes,
  };
}

/**
 * A metadata object held in memory (loadMetadata answers those up to 16 MiB)
 * as the whole typed value, its members in the order they are written. The
 * same checks as readMetadata, over JSON.parse: at 16 MiB that takes ~0.6 s
 * where the streaming parser takes ~2.5 s.
 */
/** logging_probs: with a non-adaptive policy, a number per creative; else absent. */
function loggingProbsAt(
  value: unknown,
  head: MetadataHead,
): {logging_probs?: Record<string, number>} {
  const policy = head.config.loggingPolicy;
  const expected =
    policy !== undefined &&
    (policy.type === 'uniform' || policy.adaptive === undefined);
  if (!expected) {
    if (value !== undefined)
      throw new MalformedMetadataError(
        `metadata's ${LOGGING_PROBS} must be absent without a non-adaptive logging policy`,
      );
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedMetadataError(
      `metadata's ${LOGGING_PROBS} must be an object, got ${describeJson(value)}`,
    );
  const probs = value as Record<string, unknown>;
  let count = 0;
  for (const key in probs) {
    if (typeof probs[key] !== 'number')
      throw new MalformedMetadataError(
        `metadata's ${LOGGING_PROBS} maps ${JSON.stringify(key)} to ${describeJson(probs[key])}, not a number`,
      );
    count++;
  }
  if (count !== head.config.nCreativePackIds)
    throw new MalformedMetadataError(
      `metadata's ${LOGGING_PROBS} has ${count} entries, the config ${head.config.nCreativePackIds} creative packs`,
    );
  return {logging_probs: probs as Record<string, number>};
}

export function parseMetadata(bytes: Uint8Array): DatasetMetadata {
  const text = Buffer.from(
    bytes.buffer,
    bytes.byteOffset,
    bytes.byteLength,
  ).toString('utf8');
  let value: unknown;
  try {
    value = text.trim() === '' ? undefined : JSON.parse(text);
  } catch (error) {
    throw new MalformedMetadataError(
      `metadata is not valid JSON: ${(error as Error).message}`,
      {cause: error},
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedMetadataError('metadata is not a JSON object');
  const whole = value as Record<string, unknown>;
  const counts = {} as Record<ProbabilityMapKey, number>;
  const maps: Partial<Record<ProbabilityMapKey, object>> = {};
  for (const map of PROBABILITY_MAPS) {
    const entries = whole[map];
    if (Array.isArray(entries))
      throw new MalformedMetadataError(`metadata's ${map} is an array`);
    const object =
      typeof entries === 'object' && entries !== null
        ? (entries as Record<string, unknown>)
        : {};
    counts[map] = 0;
    for (const key in object) {
      checkEntry(map, key, object[key]);
      counts[map]++;
    }
    maps[map] = object; // every entry checked: of the type ProbabilityMaps says
  }
  checkNonEmpty(counts);
  const head = checkHead(whole);
  checkCountsAgainstConfig(head, counts);
  return metadataOf(head, {
    ...(maps as ProbabilityMaps),
    ...loggingProbsAt(whole[LOGGING_PROBS], head),
  });
}

/** Each map has one entry per id the config asks for (duplicate keys would count twice). */
function checkCountsAgainstConfig(
  {config}: MetadataHead,
  counts: Record<ProbabilityMapKey, number>,
): void {
  const {nTargetStoreIds, nCreativePackIds} = config;
  const expected: Record<ProbabilityMapKey, unknown> = {
    target_store_id_probs: nTargetStoreIds,
    creative_pack_id_probs: nCreativePackIds,
    creative_pack_target: nCreativePackIds,
    pair_probs: nCreativePackIds,
  };
  for (const map of PROBABILITY_MAPS) {
    if (counts[map] !== expected[map])
      throw new MalformedMetadataError(
        `metadata's ${map} has ${counts[map]} entries; its config asks for ${JSON.stringify(expected[map])}`,
      );
  }
}
