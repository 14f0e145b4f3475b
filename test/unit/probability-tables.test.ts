/**
 * The maps as verify reads them (readMetadata with `tables: true`): ids
 * indexed once, values in order, and every cross-reference between the maps
 * checked.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {resolveConfig} from '../../shared/dataset/config.js';
import {
  buildMetadata,
  serializeMetadata,
} from '../../shared/metadata/document.js';
import {readMetadata} from '../../shared/metadata/read.js';
import {buildModel} from '../../shared/dataset/model.js';
import {ProbabilityTables} from '../../shared/metadata/probability-tables.js';
import {MalformedMetadataError} from '../../shared/errors.js';

describe('ProbabilityTables', () => {
  it('hold what the generator wrote, by id and by index', async () => {
    const config = resolveConfig({
      seed: 9,
      nSamples: 10,
      nTargetStoreIds: 4,
      nCreativePackIds: 30,
    });
    const model = buildModel(config);
    const bytes = serializeMetadata(
      buildMetadata({
        version: 1,
        createdAt: new Date(0),
        config,
        objects: {},
        empirical: {rows: 10, positives: 1, rate: 0.1, perTargetStore: {}},
        model,
      }),
    );
    const {tables} = await readMetadata([bytes], {tables: true});
    assert.ok(tables);
    assert.deepEqual(tables.targetIds, model.targetIds);
    assert.deepEqual(tables.targetProbs, [...model.targetProbs]);
    assert.deepEqual(tables.creativeIds, model.creativeIds);
    assert.deepEqual(tables.creativeEffects, [...model.creativeEffects]);
    assert.deepEqual(tables.pairProbs, [...model.pairProbs]);
    assert.deepEqual(tables.creativeTarget, [...model.creativeTarget]);
    const c = model.creativeIds[7];
    assert.equal(tables.pairProbOf(c), model.pairProbs[7]);
    assert.equal(tables.targetOf(c), model.targetIds[model.creativeTarget[7]]);
    assert.equal(tables.targetProbOf(model.targetIds[2]), model.targetProbs[2]);
    assert.equal(tables.pairProbOf('nobody'), undefined);
    assert.equal(tables.targetOf('nobody'), undefined);
    assert.equal(tables.targetProbOf('nowhere'), undefined);
  });

  const cases: Array<
    [string, Array<[string, string, number | string]>, RegExp]
  > = [
    [
      'a target no target_store_id_probs entry has',
      [
        ['target_store_id_probs', 't', 0.5],
        ['creative_pack_target', 'c', 'u'],
        ['creative_pack_id_probs', 'c', 0.01],
        ['pair_probs', 'c', 0.51],
      ],
      /creative_pack_target names target "u", which target_store_id_probs does not have/,
    ],
    [
      'a creative only some maps have',
      [
        ['target_store_id_probs', 't', 0.5],
        ['creative_pack_id_probs', 'c', 0.01],
        ['creative_pack_target', 'c', 't'],
        ['pair_probs', 'd', 0.51],
      ],
      /creative_pack_id_probs has no entry for creative "d"/,
    ],
    [
      'a creative without its target',
      [
        ['target_store_id_probs', 't', 0.5],
        ['creative_pack_id_probs', 'c', 0.01],
        ['pair_probs', 'c', 0.51],
      ],
      /creative_pack_target has no entry for creative "c"/,
    ],
    [
      'a key twice',
      [
        ['target_store_id_probs', 't', 0.5],
        ['pair_probs', 'c', 0.51],
        ['pair_probs', 'c', 0.52],
      ],
      /pair_probs has the key "c" twice/,
    ],
    [
      'a creative given two targets',
      [
        ['creative_pack_target', 'c', 't'],
        ['creative_pack_target', 'c', 't'],
      ],
      /creative_pack_target has the key "c" twice/,
    ],
  ];
  for (const [what, entries, message] of cases) {
    it(`reject ${what}`, () => {
      const tables = new ProbabilityTables();
      assert.throws(
        () => {
          for (const [map, key, value] of entries)
            tables.add(map as 'pair_probs', key, value);
          tables.finish();
        },
        (error: unknown) => {
          assert.ok(error instanceof MalformedMetadataError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});
