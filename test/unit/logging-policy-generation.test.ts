/**
 * Generation under a logging policy (docs/design.md §12): the rows each
 * policy draws, their pscore and policy_epoch in both formats, whatever the
 * shard count, and the metadata's logging members.
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {parquetReadObjects} from 'hyparquet';
import {
  inConfigOrder,
  resolveConfig,
  type DatasetConfig,
} from '../../shared/dataset/config.js';
import {buildModel} from '../../shared/dataset/model.js';
import {InvalidArgumentError} from '../../shared/errors.js';
import {decodeExample} from '../../shared/formats/tfrecord/example.js';
import {TfrecordDeframer} from '../../shared/formats/tfrecord/framing.js';
import {rowSchemaFor, type RowSchema} from '../../shared/formats/row-schema.js';
import {isSharded, filesOf} from '../../shared/metadata/document.js';
import {parseMetadata, readMetadata} from '../../shared/metadata/read.js';
import {replayAdaptiveEpochs} from '../../shared/policy/adaptive-replay.js';
import {policyProbabilities} from '../../shared/policy/probabilities.js';
import {lazyScoreNoise, trueScores} from '../../shared/policy/scores.js';
import {storesOf} from '../../shared/policy/stores.js';
import {
  bestCreativeIds,
  bestValue,
  policyValue,
  uniformValue,
} from '../../shared/policy/values.js';
import type {SoftmaxPolicy} from '../../shared/policy/spec.js';
import {generateInMemory} from '../support/datasets.js';

type Generated = Awaited<ReturnType<typeof generateInMemory>>;

interface ReadRow {
  target_store_id: string;
  creative_pack_id: string;
  label: number;
  pscore?: number;
  policy_epoch?: number;
}

function arrayBufferOf(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.length,
  ) as ArrayBuffer;
}

function fileNames(generated: Generated, format: 'parquet' | 'tfrecord') {
  const object = generated.result.metadata.objects[format];
  assert.ok(object);
  return filesOf(object).map(f => f.name);
}

async function parquetRows(generated: Generated): Promise<ReadRow[]> {
  const rows: ReadRow[] = [];
  for (const name of fileNames(generated, 'parquet')) {
    const read = await parquetReadObjects({
      file: arrayBufferOf(generated.destination.bytes(name)),
    });
    for (const r of read) {
      rows.push({
        ...(r as unknown as ReadRow),
        label: Number(r.label),
        ...(r.policy_epoch !== undefined && {
          policy_epoch: Number(r.policy_epoch),
        }),
      });
    }
  }
  return rows;
}

function tfrecordRows(generated: Generated, schema: RowSchema): ReadRow[] {
  const rows: ReadRow[] = [];
  for (const name of fileNames(generated, 'tfrecord')) {
    const deframer = new TfrecordDeframer();
    for (const record of deframer.push(generated.destination.bytes(name))) {
      rows.push(decodeExample(record, schema) as unknown as ReadRow);
    }
    deframer.end();
  }
  return rows;
}

function tfrecordBytes(generated: Generated): Buffer {
  return Buffer.concat(
    fileNames(generated, 'tfrecord').map(n => generated.destination.bytes(n)),
  );
}

const SOFTMAX: SoftmaxPolicy = {type: 'softmax', beta: 20, scoreNoise: 0};

describe('generation without a policy and with {"type": "uniform"}', () => {
  it('uniform draws the same rows as no policy, each with pscore 1/|C_t|, and adds the logging members', async () => {
    const plain = await generateInMemory({seed: 3, nSamples: 70_000});
    const uniform = await generateInMemory({
      seed: 3,
      nSamples: 70_000,
      loggingPolicy: {type: 'uniform'},
    });
    assert.equal('loggingPolicy' in plain.config, false);
    assert.deepEqual(uniform.config.loggingPolicy, {type: 'uniform'});
    const model = buildModel(uniform.config);
    const stores = storesOf(model);
    const plainRows = await parquetRows(plain);
    const uniformRows = await parquetRows(uniform);
    assert.equal(uniformRows.length, 70_000);
    assert.equal(plainRows[0].pscore, undefined);
    const targetIndex = new Map(model.targetIds.map((id, t) => [id, t]));
    for (let i = 0; i < plainRows.length; i++) {
      const {pscore, ...rest} = uniformRows[i];
      assert.deepEqual(rest, plainRows[i]);
      const t = targetIndex.get(rest.target_store_id) as number;
      const size = stores.offsets[t + 1] - stores.offsets[t];
      assert.equal(pscore, 1 / size);
    }
    const metadata = uniform.result.metadata;
    assert.deepEqual(metadata.logging_policy, {type: 'uniform'});
    assert.deepEqual(metadata.policy_values, {
      logging: policyValue(
        Float64Array.from(model.creativeTarget, t => {
          return 1 / (stores.offsets[t + 1] - stores.offsets[t]);
        }),
        model,
      ),
      uniform: uniformValue(model),
      best: bestValue(model),
    });
    assert.equal(plain.result.metadata.logging_policy, undefined);
  });
});

describe('generation under softmax', () => {
  it('draws creatives by p(t) pi_b(c|t) and writes pi_b as pscore in both formats', async () => {
    const n = 400_000;
    const generated = await generateInMemory({
      seed: 11,
      nSamples: n,
      loggingPolicy: {type: 'softmax', beta: 20},
    });
    const {config} = generated;
    assert.deepEqual(config.loggingPolicy, SOFTMAX);
    const model = buildModel(config);
    const pi = policyProbabilities(
      SOFTMAX,
      trueScores(model, 0, lazyScoreNoise(config.seed, model)),
      model,
    );
    const creativeIndex = new Map(model.creativeIds.map((id, c) => [id, c]));
    const schema = rowSchemaFor(config);
    assert.deepEqual(schema.names, [
      'target_store_id',
      'creative_pack_id',
      'label',
      'pscore',
    ]);
    const parquet = await parquetRows(generated);
    const tfrecord = tfrecordRows(generated, schema);
    assert.equal(parquet.length, n);
    assert.equal(tfrecord.length, n);
    const counts = new Float64Array(model.creativeIds.length);
    for (let i = 0; i < n; i++) {
      const c = creativeIndex.get(parquet[i].creative_pack_id) as number;
      counts[c]++;
      assert.equal(parquet[i].pscore, pi[c], `row ${i}: Parquet pscore`);
      assert.equal(
        tfrecord[i].pscore,
        Math.fround(pi[c]),
        `row ${i}: TFRecord pscore`,
      );
      assert.equal(tfrecord[i].creative_pack_id, parquet[i].creative_pack_id);
      assert.equal(tfrecord[i].label, parquet[i].label);
    }
    // Each creative's count within 5 sigma of n p(t) pi(c|t) = n pi_c / C * |C_t|
    const stores = storesOf(model);
    const nCreatives = model.creativeIds.length;
    let farthest = 0;
    for (let c = 0; c < nCreatives; c++) {
      const t = model.creativeTarget[c];
      const p =
        ((stores.offsets[t + 1] - stores.offsets[t]) / nCreatives) * pi[c];
      const sd = Math.sqrt(n * p * (1 - p));
      if (p > 0)
        farthest = Math.max(farthest, Math.abs(counts[c] - n * p) / sd);
      else assert.equal(counts[c], 0);
    }
    assert.ok(farthest < 5, `a creative's count is ${farthest} sigma off`);
    // Not uniform: each store's best creative gets more than 1/|C_t| of its rows.
    const best = bestCreativeIds(model);
    const bestRows = parquet.filter(
      r => best[r.target_store_id] === r.creative_pack_id,
    ).length;
    let bestShare = 0;
    let uniformShare = 0;
    for (const [t, id] of model.targetIds.entries()) {
      const c = creativeIndex.get(best[id]);
      if (c === undefined) continue;
      const size = stores.offsets[t + 1] - stores.offsets[t];
      bestShare += (size / nCreatives) * pi[c];
      uniformShare += 1 / nCreatives;
    }
    assert.ok(
      bestShare > 1.1 * uniformShare,
      `${bestShare} vs ${uniformShare}`,
    );
    const sdShare = Math.sqrt((bestShare * (1 - bestShare)) / n);
    assert.ok(
      Math.abs(bestRows / n - bestShare) < 5 * sdShare,
      `best creatives drew ${bestRows} rows, expected ${n * bestShare}`,
    );

    const metadata = generated.result.metadata;
    assert.deepEqual(metadata.logging_policy, SOFTMAX);
    assert.equal(metadata.policy_values?.logging, policyValue(pi, model));
    assert.equal(metadata.policy_values?.best, bestValue(model));
    assert.ok(
      (metadata.policy_values?.logging as number) >
        (metadata.policy_values?.uniform as number),
    );
    assert.deepEqual(metadata.best_creative, best);
    assert.equal(metadata.policy_epochs, undefined);
    const file = JSON.parse(
      generated.destination.bytes('metadata_v1.json').toString('utf8'),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(file).slice(-5), [
      'empirical',
      'logging_policy',
      'logging_probs',
      'policy_values',
      'best_creative',
    ]);
    const probs = file.logging_probs as Record<string, number>;
    assert.deepEqual(Object.keys(probs), model.creativeIds);
    assert.deepEqual(Object.values(probs), Array.from(pi));
  });

  it('writes the same rows in 1 and 3 shards (TFRecord shards concatenated: the single file)', async () => {
    const request = {
      seed: 5,
      nSamples: 300_000,
      loggingPolicy: {type: 'epsilon-greedy', epsilon: 0.2, scoreNoise: 0.05},
    };
    const single = await generateInMemory(request);
    const sharded = await generateInMemory({...request, shards: 3});
    assert.ok(isSharded(sharded.result.metadata.objects.tfrecord!));
    assert.ok(tfrecordBytes(sharded).equals(tfrecordBytes(single)));
    assert.deepEqual(await parquetRows(sharded), await parquetRows(single));
  });
});

describe('generation under an adaptive policy', () => {
  const request = {
    seed: 21,
    nSamples: 5 * 65_536 + 1_000,
    nCreativePackIds: 40,
    loggingPolicy: {
      type: 'softmax',
      beta: 30,
      adaptive: {updateEveryBlocks: 2},
    },
  };

  it('gives each row its epoch and pi_e, the same in 1 and 4 shards, and records each epoch', async () => {
    const single = await generateInMemory(request);
    const sharded = await generateInMemory({...request, shards: 4});
    const {config} = single;
    const model = buildModel(config);
    const policy = config.loggingPolicy;
    assert.ok(policy && policy.type === 'softmax' && policy.adaptive);
    const replay = replayAdaptiveEpochs(
      {...policy, adaptive: policy.adaptive},
      model,
      config.seed,
      config.nSamples,
      lazyScoreNoise(config.seed, model),
    );
    const schema = rowSchemaFor(config);
    assert.deepEqual(schema.names.slice(3), ['pscore', 'policy_epoch']);
    assert.ok(tfrecordBytes(sharded).equals(tfrecordBytes(single)));
    const rows = await parquetRows(single);
    assert.deepEqual(await parquetRows(sharded), rows);
    const epochPi = replay.epochs.map((_, e) => {
      // pi_e again from the file's own rows before the epoch
      const positives = new Float64Array(40);
      const seen = new Float64Array(40);
      const end = e * 2 * 65_536;
      const index = new Map(model.creativeIds.map((id, c) => [id, c]));
      for (let i = 0; i < end; i++) {
        const c = index.get(rows[i].creative_pack_id) as number;
        seen[c]++;
        positives[c] += rows[i].label;
      }
      const means = Float64Array.from(
        seen,
        (r, c) => (1 + positives[c]) / (2 + r),
      );
      return policyProbabilities(policy, means, model);
    });
    const index = new Map(model.creativeIds.map((id, c) => [id, c]));
    for (let i = 0; i < rows.length; i++) {
      const e = Math.floor(i / (2 * 65_536));
      assert.equal(rows[i].policy_epoch, e);
      const c = index.get(rows[i].creative_pack_id) as number;
      assert.equal(rows[i].pscore, epochPi[e][c], `row ${i}`);
    }
    // Later epochs learn: more of their rows on each store's best creative.
    const best = bestCreativeIds(model);
    const share = (e: number) => {
      const epochRows = rows.filter(r => r.policy_epoch === e);
      return (
        epochRows.filter(r => best[r.target_store_id] === r.creative_pack_id)
          .length / epochRows.length
      );
    };
    assert.ok(
      share(2) > share(0),
      `epoch 2 ${share(2)} vs epoch 0 ${share(0)}`,
    );
    const metadata = single.result.metadata;
    const file = JSON.parse(
      single.destination.bytes('metadata_v1.json').toString('utf8'),
    ) as Record<string, unknown>;
    assert.equal(file.logging_probs, undefined);
    assert.deepEqual(Object.keys(file).slice(-4), [
      'logging_policy',
      'policy_values',
      'best_creative',
      'policy_epochs',
    ]);
    assert.deepEqual(
      metadata.policy_epochs,
      replay.epochs.map(e => ({
        epoch: e.epoch,
        firstRow: e.firstRow,
        rows: e.rows,
        value: e.value,
      })),
    );
    assert.deepEqual(
      metadata.policy_epochs?.map(e => e.rows),
      [131_072, 131_072, 66_536],
    );
    assert.deepEqual(
      sharded.result.metadata.policy_epochs,
      metadata.policy_epochs,
    );
  });
});

describe('the logging members read back', () => {
  it('parseMetadata and readMetadata keep them; members that do not fit the config are refused, named', async () => {
    const generated = await generateInMemory({
      seed: 4,
      nSamples: 5_000,
      nCreativePackIds: 20,
      loggingPolicy: {type: 'epsilon-greedy', epsilon: 0.5},
    });
    const bytes = generated.destination.bytes('metadata_v1.json');
    const parsed = parseMetadata(bytes);
    assert.deepEqual(parsed.logging_policy, generated.config.loggingPolicy);
    assert.deepEqual(
      parsed.policy_values,
      generated.result.metadata.policy_values,
    );
    assert.equal(Object.keys(parsed.logging_probs ?? {}).length, 20);
    const streamed = await readMetadata([bytes]);
    assert.deepEqual(
      streamed.head.best_creative,
      generated.result.metadata.best_creative,
    );
    const file = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const tampered = (change: (m: Record<string, unknown>) => void) => {
      const copy = structuredClone(file);
      change(copy);
      return Buffer.from(JSON.stringify(copy));
    };
    for (const [change, message] of [
      [
        (m: Record<string, unknown>) => delete m.policy_values,
        /policy_values must be an object/,
      ],
      [
        (m: Record<string, unknown>) =>
          ((m.logging_policy as {epsilon: number}).epsilon = 0.4),
        /logging_policy must be config\.loggingPolicy/,
      ],
      [
        (m: Record<string, unknown>) => (m.policy_epochs = []),
        /policy_epochs must be absent/,
      ],
      [
        (m: Record<string, unknown>) =>
          delete (m.config as Record<string, unknown>).loggingPolicy,
        /logging_policy must be absent/,
      ],
      [
        (m: Record<string, unknown>) =>
          ((m.logging_probs as Record<string, unknown>).x = 'a'),
        /logging_probs maps "x" to string/,
      ],
    ] as const) {
      assert.throws(() => parseMetadata(tampered(change)), message);
    }
  });
});

describe('a config handed back by a store that sorts map keys (Firestore)', () => {
  it('is put back in resolveConfig’s order, policy included, and its metadata still reads', async () => {
    const generated = await generateInMemory({
      seed: 6,
      nSamples: 3_000,
      nCreativePackIds: 12,
      loggingPolicy: {
        type: 'softmax',
        beta: 3,
        adaptive: {updateEveryBlocks: 2},
      },
    });
    const sorted = (value: unknown): unknown =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map(k => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
    const shuffled = sorted(generated.config) as DatasetConfig;
    assert.deepEqual(Object.keys(shuffled.loggingPolicy ?? {}), [
      'adaptive',
      'beta',
      'scoreNoise',
      'type',
    ]);
    const back = inConfigOrder(shuffled);
    assert.equal(JSON.stringify(back), JSON.stringify(generated.config));
    // a metadata file written from the sorted record reads (order is not content)
    const file = JSON.parse(
      generated.destination.bytes('metadata_v1.json').toString('utf8'),
    ) as Record<string, unknown>;
    const reordered = {
      ...file,
      config: shuffled,
      logging_policy: sorted(file.logging_policy),
    };
    const parsed = parseMetadata(Buffer.from(JSON.stringify(reordered)));
    assert.deepEqual(parsed.logging_policy, generated.config.loggingPolicy);
  });
});

describe('a bad logging policy', () => {
  for (const [policy, field] of [
    [{type: 'softmax', beta: 'x'}, 'loggingPolicy.beta'],
    [{type: 'epsilon-greedy', epsilon: 1.5}, 'loggingPolicy.epsilon'],
    [{type: 'thompson'}, 'loggingPolicy.type'],
    [null, 'loggingPolicy'],
    [
      {type: 'uniform', adaptive: {updateEveryBlocks: 1}},
      'loggingPolicy.adaptive',
    ],
  ] as const) {
    it(`${JSON.stringify(policy)} is refused naming ${field}, before anything is written`, async () => {
      await assert.rejects(
        generateInMemory({nSamples: 1000, loggingPolicy: policy}),
        (error: unknown) =>
          error instanceof InvalidArgumentError && error.field === field,
      );
    });
  }

  it('adaptive past 10,000 creatives is refused naming loggingPolicy.adaptive', () => {
    assert.throws(
      () =>
        resolveConfig({
          nCreativePackIds: 10_001,
          loggingPolicy: {
            type: 'softmax',
            beta: 1,
            adaptive: {updateEveryBlocks: 1},
          },
        }),
      /loggingPolicy\.adaptive needs nCreativePackIds in 1\.\.10000, got 10001/,
    );
  });
});
