/** A model by hand for the policy tests: creative c in store targets[c] with q[c]. */
import type {DatasetModel} from '../../shared/dataset/model.js';

export function handModel(
  nStores: number,
  targets: number[],
  q: number[],
): DatasetModel {
  return {
    targetIds: Array.from({length: nStores}, (_, t) => `target_${t}`),
    creativeIds: targets.map((_, c) => `creative_${c}`),
    targetProbs: new Float64Array(nStores),
    creativeEffects: new Float64Array(targets.length),
    creativeTarget: Int32Array.from(targets),
    pairProbs: Float64Array.from(q),
    labelThresholds: Float64Array.from(q, x => Math.round(x * 2 ** 32)),
  };
}
