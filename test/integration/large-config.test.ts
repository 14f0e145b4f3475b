/**
 * The whole input range end to end on the local stack (issue 10 item 6):
 * nCreativePackIds 1,000,000 and nTargetStoreIds 10,000, the contract's
 * maxima, become `ready` within the memory Terraform deploys (1 GiB for
 * generateDataset, recordDatasetMetadata and loadMetadata). Peak RSS is the
 * kernel's VmHWM of the function processes this stack started.
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {after, before, describe, it} from 'node:test';
import {buildModel} from '../../shared/dataset/model.js';
import {summarizeProbabilities} from '../support/summarize-probabilities.js';
import {
  postJson,
  startTestStack,
  waitReady,
  type TestStack,
} from '../support/stack.js';

/** What Terraform deploys for these three functions (terraform/variables.tf). */
const DEPLOYED_MEMORY_BYTES = 1024 * 1024 * 1024;
const N_CREATIVES = 1_000_000;
const N_TARGETS = 10_000;
const SEED = 424242;

let t: TestStack;

before(async () => {
  t = await startTestStack();
});
after(async () => {
  await t?.stop();
});

/** Peak resident set size (VmHWM) of a function process the stack started, in bytes. */
function peakRssBytes(name: string): number {
  const fn = t.stack.functions.find(f => f.name === name);
  assert.ok(fn, `the stack runs ${name}`);
  const status = readFileSync(`/proc/${fn.process.pid}/status`, 'latin1');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  assert.ok(match, `VmHWM of ${name} (pid ${fn.process.pid})`);
  return Number(match[1]) * 1024;
}

const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(0);

describe(
  `nCreativePackIds ${N_CREATIVES} and nTargetStoreIds ${N_TARGETS}`,
  {timeout: 15 * 60_000},
  () => {
    let version = 0;

    it('generateDataset answers 201', async () => {
      const response = await postJson(`${t.url}/generateDataset`, {
        nSamples: 100_000,
        nCreativePackIds: N_CREATIVES,
        nTargetStoreIds: N_TARGETS,
        seed: SEED,
      });
      assert.equal(response.status, 201, response.text);
      version = (response.body as {version: number}).version;
      assert.ok(Number.isInteger(version) && version >= 1);
      const metadataBytes = (
        response.body as {checksums: {metadata: {bytes: number}}}
      ).checksums.metadata.bytes;
      assert.ok(
        metadataBytes > 100 * 1024 * 1024,
        `the metadata object is ${metadataBytes} bytes`,
      );
    });

    it('the version becomes ready and loadMetadata answers 200', async () => {
      const response = await waitReady(t.url, version, 10 * 60_000);
      const body = response.body as {
        version: number;
        status: string;
        url: string;
        metadata: Record<string, unknown>;
      };
      assert.equal(body.version, version);
      assert.equal(body.status, 'ready');
      assert.match(body.url, /^http:\/\/127\.0\.0\.1:\d+\//);
      // Past the inline limit the loader answers the metadata without the four maps.
      assert.equal(body.metadata.version, version);
      assert.equal(
        (body.metadata.config as {nCreativePackIds: number}).nCreativePackIds,
        N_CREATIVES,
      );
      assert.equal(body.metadata.pair_probs, undefined);
      assert.deepEqual(body.metadata.omitted, [
        'target_store_id_probs',
        'creative_pack_id_probs',
        'creative_pack_target',
        'pair_probs',
        'empirical.perTargetStore',
      ]);
      assert.equal(
        (body.metadata.probabilitiesSummary as {nCreativePackIds: number})
          .nCreativePackIds,
        N_CREATIVES,
      );
      assert.ok((body.metadata.metadataBytes as number) > 100 * 1024 * 1024);
      assert.ok(
        response.text.length < 10 * 1024 * 1024,
        `answer is ${response.text.length} bytes`,
      );
    });

    it('the recorded document holds the summary and a pointer, with exact figures', async () => {
      const snapshot = await t.firestore
        .collection('datasets')
        .doc(`v${version}`)
        .get();
      const doc = snapshot.data();
      assert.ok(doc);
      assert.equal(doc.status, 'ready');
      // Firestore's limit is 1 MiB; the summary form keeps the record small.
      const docBytes = Buffer.byteLength(JSON.stringify(doc));
      assert.ok(docBytes < 64 * 1024, `the record is ${docBytes} bytes`);
      assert.equal(doc.probabilities.stored, 'metadata-object');
      assert.equal(
        doc.probabilities.metadataObject,
        `gs://${t.stack.env.DATASETS_BUCKET}/datasets/v${version}/metadata_v${version}.json`,
      );
      const model = buildModel({
        seed: SEED,
        nTargetStoreIds: N_TARGETS,
        nCreativePackIds: N_CREATIVES,
      });
      const expected = summarizeProbabilities(model.pairProbs);
      assert.deepEqual(doc.probabilities.summary, {
        nTargetStoreIds: N_TARGETS,
        nCreativePackIds: N_CREATIVES,
        pairProbMin: expected.min,
        pairProbMax: expected.max,
        pairProbMean: expected.mean,
      });
    });

    it('peak RSS of generate, record and loadMetadata stays under the 1 GiB deployed', () => {
      const peaks = Object.fromEntries(
        ['generateDataset', 'recordDatasetMetadata', 'loadMetadata'].map(
          name => [name, peakRssBytes(name)],
        ),
      );
      console.log(
        `# peak RSS (VmHWM) at ${N_CREATIVES} creatives: ${Object.entries(peaks)
          .map(([name, bytes]) => `${name} ${mib(bytes)} MiB`)
          .join(', ')}`,
      );
      for (const [name, bytes] of Object.entries(peaks)) {
        assert.ok(
          bytes < DEPLOYED_MEMORY_BYTES,
          `${name} peaked at ${mib(bytes)} MiB`,
        );
      }
    });
  },
);
