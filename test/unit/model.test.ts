import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {describe, it} from 'node:test';
import {
  buildModel,
  IdCodeSet,
  pairProbability,
} from '../../shared/dataset/model.js';
import {GENERATOR} from '../../shared/dataset/generator-version.js';
import {GOLDEN} from '../support/golden.js';

describe('buildModel', () => {
  it('draws ids of the notebook form, all distinct', () => {
    const model = buildModel({
      seed: 5,
      nTargetStoreIds: 300,
      nCreativePackIds: 2000,
    });
    for (const id of model.targetIds) assert.match(id, /^target_[a-z]{10}$/);
    for (const id of model.creativeIds)
      assert.match(id, /^creative_[a-z]{10}$/);
    assert.equal(new Set(model.targetIds).size, 300);
    assert.equal(new Set(model.creativeIds).size, 2000);
  });

  it('sets p_t = (t+1)/(n+1), effects in [-0.01, 0.01), targets in range', () => {
    const model = buildModel({
      seed: 5,
      nTargetStoreIds: 10,
      nCreativePackIds: 500,
    });
    assert.deepEqual(
      Array.from(model.targetProbs),
      Array.from({length: 10}, (_, t) => (t + 1) / 11),
    );
    for (const e of model.creativeEffects) assert.ok(e >= -0.01 && e < 0.01);
    for (const t of model.creativeTarget) assert.ok(t >= 0 && t < 10);
    // every target gets creatives when there are 50 per target on average
    assert.equal(new Set(model.creativeTarget).size, 10);
  });

  it('applies the reflection rule where p + e leaves [0, 1]', () => {
    assert.equal(pairProbability(0.5, 0.004), 0.504);
    assert.equal(pairProbability(0.005, -0.008), 0.005 + 0.008);
    assert.equal(pairProbability(0.995, 0.009), 0.995 - 0.009);
    // with 1000 target stores, p_0 = 1/1001 < 0.01: some pairs must reflect
    const model = buildModel({
      seed: 11,
      nTargetStoreIds: 1000,
      nCreativePackIds: 100_000,
    });
    let reflected = 0;
    model.pairProbs.forEach((q, c) => {
      assert.ok(q >= 0 && q <= 1, `q ${q} outside [0, 1]`);
      const p = model.targetProbs[model.creativeTarget[c]];
      const e = model.creativeEffects[c];
      if (q === p - e && e !== 0) reflected++;
      else assert.equal(q, p + e);
    });
    assert.ok(reflected > 0, 'expected some reflected pairs');
  });

  it(`is deterministic, and seed-sensitive (golden digest of seed 42, generator ${GOLDEN.generatorVersion})`, () => {
    assert.equal(GENERATOR.version, GOLDEN.generatorVersion);
    const digest = (seed: number) => {
      const m = buildModel({seed, nTargetStoreIds: 10, nCreativePackIds: 100});
      return createHash('sha256')
        .update(
          JSON.stringify([
            m.targetIds,
            m.creativeIds,
            Array.from(m.creativeEffects),
            Array.from(m.creativeTarget),
          ]),
        )
        .digest('hex');
    };
    assert.equal(digest(42), digest(42));
    assert.notEqual(digest(42), digest(43));
    assert.equal(digest(42), GOLDEN.modelSeed42);
  });

  it('sets label thresholds to round(q * 2^32)', () => {
    const model = buildModel({
      seed: 3,
      nTargetStoreIds: 4,
      nCreativePackIds: 50,
    });
    model.pairProbs.forEach((q, c) =>
      assert.equal(model.labelThresholds[c], Math.round(q * 2 ** 32)),
    );
  });
});

describe('IdCodeSet', () => {
  it('tells a new code from one seen, over the whole range of 10-letter codes', () => {
    const set = new IdCodeSet(4);
    const top = 26 ** 10 - 1;
    for (const code of [0, 1, top, 2 ** 32, 2 ** 32 + 1, 123_456_789_012])
      assert.equal(set.add(code), true, `first ${code}`);
    for (const code of [0, 1, top, 2 ** 32, 2 ** 32 + 1, 123_456_789_012])
      assert.equal(set.add(code), false, `again ${code}`);
  });

  it('holds 1,000,000 codes, distinct or not, like a Set', () => {
    const set = new IdCodeSet(1_000_000);
    const reference = new Set<number>();
    for (let i = 0; i < 1_000_000; i++) {
      // every 10th code repeats an earlier one
      const code = i % 10 === 9 ? (i - 5) * 1_000_003 : i * 1_000_003;
      assert.equal(set.add(code), !reference.has(code));
      reference.add(code);
    }
  });
});
