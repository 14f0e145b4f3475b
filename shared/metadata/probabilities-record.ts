/**
 * What the catalogue stores of a version's probabilities (docs/design.md §6): the
 * four maps inline while they fit a Firestore document (1 MiB, with room left
 * for the rest of the record), else a summary and a pointer to the metadata
 * object that holds them.
 */
import type {ProbabilitiesRecord} from '../catalog/records.js';
import type {MetadataRead} from './read.js';

/** Firestore documents hold at most 1 MiB; leave room for the rest. */
export const INLINE_PROBABILITIES_MAX_BYTES = 600 * 1024;

export function probabilitiesRecordOf(
  read: MetadataRead,
  metadataUri: string,
  /** the most the maps may take inline (less when the record holds many shards) */
  maxInlineBytes = INLINE_PROBABILITIES_MAX_BYTES,
): ProbabilitiesRecord {
  if (read.maps) {
    const inline: ProbabilitiesRecord = {stored: 'inline', ...read.maps};
    if (Buffer.byteLength(JSON.stringify(inline)) <= maxInlineBytes)
      return inline;
  }
  return {
    stored: 'metadata-object',
    metadataObject: metadataUri,
    summary: {
      nTargetStoreIds: read.counts.target_store_id_probs,
      nCreativePackIds: read.counts.pair_probs,
      pairProbMin: read.pairProbs.min,
      pairProbMax: read.pairProbs.max,
      pairProbMean: read.pairProbs.mean,
    },
  };
}
