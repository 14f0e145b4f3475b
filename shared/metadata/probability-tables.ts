/**
 * The four per-id maps of a metadata object as verify uses them: each id
 * once, a Map from id to its index, the values in packed number arrays.
 * Filled entry by entry as read.ts streams the maps past, so the
 * maps are never whole objects: at 1,000,000 creative packs JSON.parse of
 * the file held ~760 MB (docs/large-configs.md has the figures).
 */
import type {ProbabilityMapKey} from './document.js';
import {MalformedMetadataError} from '../errors.js';

export class ProbabilityTables {
  /** target store ids, in the order first seen */
  readonly targetIds: string[] = [];
  /** p_t by target index */
  readonly targetProbs: number[] = [];
  /** creative pack ids, in the order first seen */
  readonly creativeIds: string[] = [];
  /** e_c, q_c and the target index, by creative index */
  readonly creativeEffects: number[] = [];
  readonly pairProbs: number[] = [];
  readonly creativeTarget: number[] = [];
  private readonly targetIndex = new Map<string, number>();
  private readonly creativeIndex = new Map<string, number>();

  /** One map entry, its type already checked by the reader. */
  add(map: ProbabilityMapKey, key: string, value: number | string): void {
    if (map === 'target_store_id_probs') {
      this.setOnce(map, key, this.targetProbs, this.target(key), value);
      return;
    }
    const c = this.creative(key);
    if (map === 'creative_pack_target') {
      if (this.creativeTarget[c] !== -1) this.duplicate(map, key);
      this.creativeTarget[c] = this.target(value as string);
    } else {
      const values =
        map === 'pair_probs' ? this.pairProbs : this.creativeEffects;
      this.setOnce(map, key, values, c, value);
    }
  }

  /** After the last entry: every id has a value in every map it belongs to. */
  finish(): void {
    const t = this.targetProbs.findIndex(p => Number.isNaN(p));
    if (t >= 0)
      throw new MalformedMetadataError(
        `metadata's creative_pack_target names target ${JSON.stringify(this.targetIds[t])}, which target_store_id_probs does not have`,
      );
    const missing = (values: number[], absent: number) =>
      values.findIndex(v => Number.isNaN(v) || v === absent);
    for (const [map, values, absent] of [
      ['creative_pack_id_probs', this.creativeEffects, NaN],
      ['creative_pack_target', this.creativeTarget, -1],
      ['pair_probs', this.pairProbs, NaN],
    ] as const) {
      const c = missing(values, absent);
      if (c >= 0)
        throw new MalformedMetadataError(
          `metadata's ${map} has no entry for creative ${JSON.stringify(this.creativeIds[c])}`,
        );
    }
  }

  /** q_c of a creative id, or undefined for an id the metadata does not have. */
  pairProbOf(creative: string): number | undefined {
    const c = this.creativeIndex.get(creative);
    return c === undefined ? undefined : this.pairProbs[c];
  }

  /** The index of a creative id (its place in the maps), or undefined. */
  creativeIndexOf(creative: string): number | undefined {
    return this.creativeIndex.get(creative);
  }

  /** The target store id a creative id is served to, or undefined. */
  targetOf(creative: string): string | undefined {
    const c = this.creativeIndex.get(creative);
    return c === undefined ? undefined : this.targetIds[this.creativeTarget[c]];
  }

  /** p_t of a target store id, or undefined. */
  targetProbOf(target: string): number | undefined {
    const t = this.targetIndex.get(target);
    return t === undefined ? undefined : this.targetProbs[t];
  }

  private target(id: string): number {
    let t = this.targetIndex.get(id);
    if (t === undefined) {
      t = this.targetIds.length;
      this.targetIndex.set(id, t);
      this.targetIds.push(id);
      this.targetProbs.push(NaN);
    }
    return t;
  }

  private creative(id: string): number {
    let c = this.creativeIndex.get(id);
    if (c === undefined) {
      c = this.creativeIds.length;
      this.creativeIndex.set(id, c);
      this.creativeIds.push(id);
      this.creativeEffects.push(NaN);
      this.pairProbs.push(NaN);
      this.creativeTarget.push(-1);
    }
    return c;
  }

  private setOnce(
    map: ProbabilityMapKey,
    key: string,
    values: number[],
    index: number,
    value: number | string,
  ): void {
    if (!Number.isNaN(values[index])) this.duplicate(map, key);
    values[index] = value as number;
  }

  private duplicate(map: ProbabilityMapKey, key: string): never {
    throw new MalformedMetadataError(
      `metadata's ${map} has the key ${JSON.stringify(key)} twice`,
    );
  }
}
