/**
 * The creatives of each target store, C_t = {c : m(c) = t}, grouped once in
 * compressed rows (CSR): store t's creatives, ascending, are
 * creatives[offsets[t] .. offsets[t + 1]). Everything per store then runs in
 * O(C) over typed arrays, 1,000,000 creatives x 10,000 stores included.
 */
import type {DatasetModel} from '../dataset/model.js';

export interface StoreIndex {
  nStores: number;
  nCreatives: number;
  /** Int32Array(nStores + 1): where each store's creatives start */
  offsets: Int32Array;
  /** Int32Array(nCreatives): creative indexes, by store, ascending within a store */
  creatives: Int32Array;
}

/** Groups creatives by store with one counting pass and one placing pass. */
export function buildStoreIndex(
  creativeTarget: Int32Array,
  nStores: number,
): StoreIndex {
  const nCreatives = creativeTarget.length;
  const offsets = new Int32Array(nStores + 1);
  for (let c = 0; c < nCreatives; c++) {
    const t = creativeTarget[c];
    if (!(t >= 0 && t < nStores)) {
      throw new RangeError(
        `creative ${c} has store ${t}, outside 0..${nStores - 1}`,
      );
    }
    offsets[t + 1]++;
  }
  for (let t = 0; t < nStores; t++) offsets[t + 1] += offsets[t];
  const next = offsets.slice(0, nStores);
  const creatives = new Int32Array(nCreatives);
  for (let c = 0; c < nCreatives; c++) creatives[next[creativeTarget[c]]++] = c;
  return {nStores, nCreatives, offsets, creatives};
}

const cache = new WeakMap<DatasetModel, StoreIndex>();

/** The model's store index, built on first use and kept with the model. */
export function storesOf(model: DatasetModel): StoreIndex {
  let index = cache.get(model);
  if (!index) {
    index = buildStoreIndex(model.creativeTarget, model.targetIds.length);
    cache.set(model, index);
  }
  return index;
}

/** |C_t| */
export function storeSize(stores: StoreIndex, t: number): number {
  return stores.offsets[t + 1] - stores.offsets[t];
}

/** p(t) = |C_t| / nCreativePackIds: the store of a row drawn with a policy. */
export function storeProbability(stores: StoreIndex, t: number): number {
  return storeSize(stores, t) / stores.nCreatives;
}
