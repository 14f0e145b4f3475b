/**
 * fake-gcs-server keeps its memory flat while a dataset is uploaded: a
 * 2M-row generate (~250 MB of TFRecord, ~30 MB of Parquet, each one
 * resumable upload through the Node.js client) on the local stack, with the
 * VmRSS of the fake-gcs-server process the stack started sampled every
 * 100 ms. Unpatched v1.56.1 holds each upload in memory (and appends and
 * re-reads it), peaking above 1 GB here; the patched build that
 * scripts/install-fake-gcs-server.sh installs streams to disk and stays at
 * a few tens of MB. See docs/local-stack-memory.md.
 */
import assert from 'node:assert/strict';
import {existsSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {request} from 'node:http';
import {after, before, describe, it} from 'node:test';
import {
  RssSampler,
  processTable,
  processTree,
  type RssSummary,
} from '../../bench/process-rss.js';
import {
  postJson,
  startTestStack,
  waitReady,
  type TestStack,
} from '../support/stack.js';

const MiB = 1024 * 1024;
/** Far below the largest object (the TFRecord), which the old server held whole, several times over. */
const FAKE_GCS_PEAK_BOUND = 160 * MiB;
/** The budget for the whole local stack (all its processes). */
const STACK_PEAK_BOUND = 2048 * MiB;
const ROWS = 2_000_000;

let t: TestStack;
before(async () => {
  t = await startTestStack();
});
after(async () => {
  await t?.stop();
});

describe(
  'local stack memory during a 2M-row generate',
  {timeout: 10 * 60_000},
  () => {
    let fakeGcs: RssSummary;
    let stack: RssSummary;
    let sizes: Map<string, number>;

    before(async () => {
      const server = t.stack.emulators.processes.find(
        p => p.name === 'fake-gcs-server',
      );
      assert.ok(server, 'the stack started no fake-gcs-server');
      const fakeGcsSampler = new RssSampler(
        () => new Map([[server.pid, 'fake-gcs-server']]),
        100,
      );
      // Every process under this one: the emulators, the functions, and this
      // process (storage front, router and event bridge run here).
      const stackSampler = new RssSampler(
        () =>
          new Map(
            processTree(process.pid, processTable()).map(p => [p.pid, 'stack']),
          ),
        250,
      );
      try {
        const response = await postJson(`${t.url}/generateDataset`, {
          nSamples: ROWS,
          seed: 7,
          tfrecordCompression: 'NONE',
        });
        assert.equal(response.status, 201, response.text);
        await waitReady(t.url, (response.body as {version: number}).version);
      } finally {
        fakeGcs = fakeGcsSampler.stop();
        stack = stackSampler.stop();
      }
      const [files] = await t.bucket.getFiles();
      sizes = new Map(files.map(f => [f.name, Number(f.metadata.size)]));
    });

    it('uploads objects larger than the bound (the test can tell buffering from streaming)', () => {
      const largest = Math.max(...sizes.values());
      assert.ok(
        largest > FAKE_GCS_PEAK_BOUND,
        `largest object ${largest} bytes should exceed ${FAKE_GCS_PEAK_BOUND}`,
      );
      assert.ok(fakeGcs.samples >= 10, `only ${fakeGcs.samples} samples`);
    });

    it(`keeps fake-gcs-server under ${FAKE_GCS_PEAK_BOUND / MiB} MiB`, c => {
      const peak = fakeGcs.peakByLabel['fake-gcs-server'];
      c.diagnostic(`fake-gcs-server peak ${(peak / MiB).toFixed(0)} MiB`);
      assert.ok(peak > 0, 'fake-gcs-server was not sampled');
      assert.ok(
        peak < FAKE_GCS_PEAK_BOUND,
        `fake-gcs-server peaked at ${(peak / MiB).toFixed(0)} MiB`,
      );
    });

    it(`keeps the whole stack under ${STACK_PEAK_BOUND / MiB} MiB`, c => {
      c.diagnostic(`stack peak ${(stack.peakTotal / MiB).toFixed(0)} MiB`);
      assert.ok(
        stack.peakTotal < STACK_PEAK_BOUND,
        `the stack peaked at ${(stack.peakTotal / MiB).toFixed(0)} MiB`,
      );
    });

    it('leaves no staged upload behind', () => {
      const staging = join(t.stack.runDir.data, 'gcs.uploads');
      const left = existsSync(staging) ? readdirSync(staging) : [];
      assert.deepEqual(left, []);
    });
  },
);

/** Files staged in fake-gcs-server's upload directory, with their sizes. */
function staged(): {name: string; bytes: number}[] {
  const staging = join(t.stack.runDir.data, 'gcs.uploads');
  if (!existsSync(staging)) return [];
  return readdirSync(staging).map(name => ({
    name,
    bytes: statSync(join(staging, name), {throwIfNoEntry: false})?.size ?? 0,
  }));
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

/**
 * Starts a resumable upload session and streams 1 MiB blocks into it as one
 * request (as the Node.js client does) until `stop` resolves, then drops the
 * connection. Raw HTTP: destroying the client's write stream does not abort
 * its request (see docs/local-stack-memory.md).
 */
async function abortedUpload(name: string, stop: () => Promise<void>) {
  const base = t.stack.emulators.storageUrl;
  const session = await fetch(
    `${base}/upload/storage/v1/b/${t.bucket.name}/o?uploadType=resumable&ifGenerationMatch=0&name=${encodeURIComponent(name)}`,
    {method: 'POST', headers: {'content-type': 'application/json'}, body: '{}'},
  );
  await session.arrayBuffer();
  assert.equal(session.status, 200);
  const location = session.headers.get('location');
  assert.ok(location, 'no upload session URL');
  const put = request(location, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      'content-range': 'bytes 0-*/*',
    },
  });
  const closed = new Promise<void>(resolve => put.on('close', resolve));
  put.on('error', () => undefined); // the abort below
  const block = Buffer.alloc(MiB, 7);
  let stopped = false;
  const stopping = stop().finally(() => (stopped = true));
  const stoppedOrFailed = stopping.catch(() => undefined);
  while (!stopped) {
    if (!put.write(block))
      await Promise.race([
        new Promise(resolve => put.once('drain', resolve)),
        stoppedOrFailed,
      ]);
  }
  put.destroy();
  await closed;
  await stopping;
}

describe('an upload aborted midway', {timeout: 2 * 60_000}, () => {
  it('was streaming to disk, and leaves neither an object nor a staged file', async () => {
    const name = 'aborted/never.bin';
    await abortedUpload(name, () =>
      until('8 MiB staged on disk', () =>
        staged().some(f => f.bytes >= 8 * MiB),
      ),
    );
    await until('the staged file removed', () => staged().length === 0);
    const [exists] = await t.bucket.file(name).exists();
    assert.equal(exists, false);
  });
});
