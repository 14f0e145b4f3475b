/**
 * metadata_v{N}.json (docs/design.md §4): the notebook's two probability maps, plus
 * what traceability needs: the resolved config, the generator, the pair
 * probabilities, the objects with their checksums, and what was observed.
 */
import type {DatasetConfig, Format} from '../dataset/config.js';
import type {ObjectDigests} from '../digest/digests.js';
import type {DatasetModel} from '../dataset/model.js';
import {GENERATOR} from '../dataset/generator-version.js';
import type {LoggingHead} from './logging.js';

export const METADATA_SCHEMA_VERSION = 1;

export interface ObjectRecord extends ObjectDigests {
  name: string;
  rows: number;
}

/** A format of a sharded version: totals, and every shard in order (docs/design.md §4). */
export interface ShardedObjectRecord {
  rows: number;
  bytes: number;
  shards: ObjectRecord[];
}

/** What `objects` holds per format: one file, or its shards. */
export type FormatObjects = ObjectRecord | ShardedObjectRecord;

export function isSharded(
  object: FormatObjects,
): object is ShardedObjectRecord {
  return Array.isArray((object as Partial<ShardedObjectRecord>).shards);
}

/** The files of a format in row order: the one file, or every shard. */
export function filesOf(object: FormatObjects): ObjectRecord[] {
  return isSharded(object) ? object.shards : [object];
}

export interface TargetStoreObservation {
  rows: number;
  positives: number;
  /** observed positives / rows; null when no row went to this store */
  rate: number | null;
  /** the rate the model implies: mean q_c over the creatives served to it */
  expectedRate: number | null;
}

export interface Empirical {
  rows: number;
  positives: number;
  rate: number;
  perTargetStore: Record<string, TargetStoreObservation>;
}

/** Only in the metadata of a dataset drawn under a logging policy (docs/design.md §12). */
export interface LoggingMembers extends LoggingHead {
  /** pi_b(c | m(c)) per creative id, in creative index order (absent when adaptive) */
  logging_probs?: Record<string, number>;
}

export interface DatasetMetadata extends Partial<LoggingMembers> {
  schemaVersion: number;
  version: number;
  createdAt: string;
  generator: {name: string; version: string};
  config: DatasetConfig;
  target_store_id_probs: Record<string, number>;
  creative_pack_id_probs: Record<string, number>;
  creative_pack_target: Record<string, string>;
  pair_probs: Record<string, number>;
  objects: Partial<Record<Format, FormatObjects>>;
  empirical: Empirical;
}

/** The four per-id maps: with 1,000,000 creative packs, ~140 MB of the JSON. */
export const PROBABILITY_MAPS = [
  'target_store_id_probs',
  'creative_pack_id_probs',
  'creative_pack_target',
  'pair_probs',
] as const;
export type ProbabilityMapKey = (typeof PROBABILITY_MAPS)[number];

/** The per-creative map a logging policy adds (streamed like the four). */
export const LOGGING_PROBS = 'logging_probs';

/** Everything of the metadata but the per-creative maps: small whatever the config. */
export type MetadataHead = Omit<
  DatasetMetadata,
  ProbabilityMapKey | typeof LOGGING_PROBS
>;

/** The members of metadata_v{N}.json in the order they are written. */
export const METADATA_KEYS = [
  'schemaVersion',
  'version',
  'createdAt',
  'generator',
  'config',
  ...PROBABILITY_MAPS,
  'objects',
  'empirical',
  // only with a logging policy; policy_epochs only when it is adaptive
  'logging_policy',
  LOGGING_PROBS,
  'policy_values',
  'best_creative',
  'policy_epochs',
] as const satisfies ReadonlyArray<keyof DatasetMetadata>;

/** Per-creative counts, accumulated while the rows stream past. */
export class RowTally {
  readonly rows: Float64Array;
  readonly positives: Float64Array;

  constructor(nCreatives: number) {
    this.rows = new Float64Array(nCreatives);
    this.positives = new Float64Array(nCreatives);
  }

  /** Adds another tally (another shard's rows): integer counts, so exact. */
  merge(other: {rows: Float64Array; positives: Float64Array}): void {
    if (other.rows.length !== this.rows.length) {
      throw new RangeError(
        `cannot merge a tally of ${other.rows.length} creatives into one of ${this.rows.length}`,
      );
    }
    for (let c = 0; c < this.rows.length; c++) {
      this.rows[c] += other.rows[c];
      this.positives[c] += other.positives[c];
    }
  }

  add(creative: Int32Array, label: Uint8Array, count: number): void {
    const rows = this.rows;
    const positives = this.positives;
    for (let i = 0; i < count; i++) {
      const c = creative[i];
      rows[c]++;
      positives[c] += label[i];
    }
  }
}

/**
 * Rows and positives per target store, in the model's target order: what a
 * shard keeps of its tally (per creative it would be 16 MB at 1,000,000
 * creatives), and all that `empirical` needs.
 */
export interface TargetTally {
  rows: number[];
  positives: number[];
}

/** A per-creative tally summed per target store (integer counts: exact). */
export function targetTallyOf(
  model: DatasetModel,
  tally: {rows: ArrayLike<number>; positives: ArrayLike<number>},
): TargetTally {
  const nTargets = model.targetIds.length;
  const rows = new Array<number>(nTargets).fill(0);
  const positives = new Array<number>(nTargets).fill(0);
  for (let c = 0; c < model.creativeIds.length; c++) {
    const t = model.creativeTarget[c];
    rows[t] += tally.rows[c];
    positives[t] += tally.positives[c];
  }
  return {rows, positives};
}

/** Several shards' target tallies added up (integer counts, so exact in any order). */
export function mergeTargetTallies(
  nTargets: number,
  tallies: readonly TargetTally[],
): TargetTally {
  const rows = new Array<number>(nTargets).fill(0);
  const positives = new Array<number>(nTargets).fill(0);
  for (const tally of tallies) {
    if (tally.rows.length !== nTargets || tally.positives.length !== nTargets) {
      throw new RangeError(
        `cannot merge a tally of ${tally.rows.length} target stores into one of ${nTargets}`,
      );
    }
    for (let t = 0; t < nTargets; t++) {
      rows[t] += tally.rows[t];
      positives[t] += tally.positives[t];
    }
  }
  return {rows, positives};
}

/** What was observed, from the rows and positives per target store. */
export function empiricalOf(
  model: DatasetModel,
  targets: TargetTally,
): Empirical {
  const nTargets = model.targetIds.length;
  if (targets.rows.length !== nTargets)
    throw new RangeError(
      `a tally of ${targets.rows.length} target stores for a model of ${nTargets}`,
    );
  const qSum = new Float64Array(nTargets);
  const creatives = new Float64Array(nTargets);
  model.creativeIds.forEach((_, c) => {
    const t = model.creativeTarget[c];
    qSum[t] += model.pairProbs[c];
    creatives[t]++;
  });
  let totalRows = 0;
  let totalPositives = 0;
  const perTargetStore: Record<string, TargetStoreObservation> = {};
  model.targetIds.forEach((id, t) => {
    const rows = targets.rows[t];
    const positives = targets.positives[t];
    totalRows += rows;
    totalPositives += positives;
    perTargetStore[id] = {
      rows,
      positives,
      rate: rows > 0 ? positives / rows : null,
      expectedRate: creatives[t] > 0 ? qSum[t] / creatives[t] : null,
    };
  });
  return {
    rows: totalRows,
    positives: totalPositives,
    rate: totalRows > 0 ? totalPositives / totalRows : 0,
    perTargetStore,
  };
}

function mapOf<T>(
  ids: string[],
  value: (index: number) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  ids.forEach((id, i) => {
    out[id] = value(i);
  });
  return out;
}

export interface MetadataInputs {
  version: number;
  createdAt: Date;
  config: DatasetConfig;
  objects: Partial<Record<Format, FormatObjects>>;
  empirical: Empirical;
  /** the logging members (metadata/logging.ts loggingMetadataOf), with a policy */
  logging?: LoggingHead;
}

export function metadataHead(args: MetadataInputs): MetadataHead {
  return {
    schemaVersion: METADATA_SCHEMA_VERSION,
    version: args.version,
    createdAt: args.createdAt.toISOString(),
    generator: {...GENERATOR},
    config: args.config,
    objects: args.objects,
    empirical: args.empirical,
    ...args.logging,
  };
}

/**
 * The whole metadata as one object. It takes ~1 GB at 1,000,000 creative
 * packs: the generator streams it instead (write.ts); this form is
 * for small configs and for tests, which check that both give the same bytes.
 */
export function buildMetadata(
  args: MetadataInputs & {
    model: DatasetModel;
    /** pi_b per creative: metadata.logging_probs (a non-adaptive policy) */
    loggingProbabilities?: Float64Array;
  },
): DatasetMetadata {
  const {model, loggingProbabilities} = args;
  return metadataOf(metadataHead(args), {
    ...(loggingProbabilities && {
      logging_probs: mapOf(model.creativeIds, c => loggingProbabilities[c]),
    }),
    target_store_id_probs: mapOf(model.targetIds, t => model.targetProbs[t]),
    creative_pack_id_probs: mapOf(
      model.creativeIds,
      c => model.creativeEffects[c],
    ),
    creative_pack_target: mapOf(
      model.creativeIds,
      c => model.targetIds[model.creativeTarget[c]],
    ),
    pair_probs: mapOf(model.creativeIds, c => model.pairProbs[c]),
  });
}

/**
 * The document from its head and its per-creative maps, its members in
 * METADATA_KEYS order; members a dataset lacks (no policy) are absent.
 */
export function metadataOf(
  head: MetadataHead,
  maps: Pick<DatasetMetadata, ProbabilityMapKey | typeof LOGGING_PROBS>,
): DatasetMetadata {
  const parts: Record<string, unknown> = {...head, ...maps};
  const metadata: Record<string, unknown> = {};
  for (const key of METADATA_KEYS) {
    if (parts[key] !== undefined) metadata[key] = parts[key];
  }
  return metadata as unknown as DatasetMetadata;
}

/** The file's bytes, built whole: pretty-printed with two spaces, one final newline. */
export function serializeMetadata(metadata: DatasetMetadata): Buffer {
  return Buffer.from(JSON.stringify(metadata, null, 2) + '\n', 'utf8');
}
