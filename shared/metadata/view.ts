/**
 * What loadMetadata answers for a metadata object too large to send whole.
 * At 1,000,000 creative packs the object is ~140 MB: parsing it and
 * serializing it again took ~900 MB per request, and loadMetadata serves 4
 * requests at once in 1 GiB. Past METADATA_ANSWER_MAX_BYTES the answer is
 * built from the catalogue record instead (config, objects, empirical totals,
 * the probabilities summary) and names what it leaves out; the whole file is
 * one GET of the signed URL that comes with it.
 */
import type {DatasetRecord} from '../catalog/records.js';
import {PROBABILITY_MAPS} from './document.js';

/** Metadata objects up to this size are answered whole (~110,000 creative packs). */
export const METADATA_ANSWER_MAX_BYTES = 16 * 1024 * 1024;

/** What a summarized answer leaves out: fetch the object through `url` for them. */
export const OMITTED_FROM_SUMMARY = [
  ...PROBABILITY_MAPS,
  'empirical.perTargetStore',
] as const;

export interface SummarizedMetadata {
  version: number;
  createdAt: string;
  generator: DatasetRecord['generator'];
  config: DatasetRecord['config'];
  objects: DatasetRecord['objects'];
  empirical: DatasetRecord['empirical'];
  /** counts, min, max and mean of pair_probs, as recorded */
  probabilitiesSummary?: Extract<
    NonNullable<DatasetRecord['probabilities']>,
    {stored: 'metadata-object'}
  >['summary'];
  /** size of the metadata object */
  metadataBytes: number;
  omitted: typeof OMITTED_FROM_SUMMARY;
}

export function summarizedMetadata(
  record: DatasetRecord,
  metadataBytes: number,
): SummarizedMetadata {
  const probabilities = record.probabilities;
  return {
    version: record.version,
    createdAt: record.createdAt,
    generator: record.generator,
    config: record.config,
    objects: record.objects,
    empirical: record.empirical,
    probabilitiesSummary:
      probabilities?.stored === 'metadata-object'
        ? probabilities.summary
        : undefined,
    metadataBytes,
    omitted: OMITTED_FROM_SUMMARY,
  };
}
