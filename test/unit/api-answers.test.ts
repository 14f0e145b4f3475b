/**
 * The generate and loader answers of both shapes (docs/design.md §5), through the
 * client against a real node:http server on 127.0.0.1, plus the shape
 * checks as a table of cases, and generateAndWait over 201 and 202.
 */
import assert from 'node:assert/strict';
import {createServer, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, it} from 'node:test';
import {
  ApiClient,
  ApiError,
  fileLinkOf,
  filesOfLink,
  generateAndWait,
  generateAnswerOf,
  isGenerating,
  isShardedLink,
} from '../../clients/typescript/index.js';
import {MalformedAnswerError} from '../../clients/typescript/api-error.js';

const shard = (k: number) => ({
  url: `http://127.0.0.1:1/files/dataset_v4-0000${k}-of-00002.parquet?X-Goog-Signature=ab`,
  object: `datasets/v4/dataset_v4-0000${k}-of-00002.parquet`,
  rows: k === 0 ? 65_536 : 34_464,
  sizeBytes: 1000 + k,
  crc32c: 'AAAAAA==',
  md5: '1B2M2Y8AsgTpgAmY7PhCfg==',
});
const ONE_FILE = {
  version: 4,
  url: 'http://127.0.0.1:1/files/dataset_v4.parquet?X-Goog-Signature=ab',
  object: 'datasets/v4/dataset_v4.parquet',
  expiresAt: '2026-11-25T18:00:00.000Z',
  sizeBytes: 2001,
  crc32c: 'AAAAAA==',
  md5: '1B2M2Y8AsgTpgAmY7PhCfg==',
};
const SHARDED = {
  version: 4,
  expiresAt: '2026-11-25T18:00:00.000Z',
  shards: [shard(0), shard(1)],
};
const CREATED = {
  version: 4,
  objects: {
    parquet: 'gs://b/datasets/v4/dataset_v4.parquet',
    tfrecord: 'gs://b/datasets/v4/dataset_v4.tfrecord',
    metadata: 'gs://b/datasets/v4/metadata_v4.json',
  },
  rows: 100_000,
  seed: 7,
  checksums: {},
  durationMs: 812,
};
const ACCEPTED = {
  version: 5,
  status: 'generating',
  shards: 16,
  rows: 100_000_000,
  seed: 7,
};

describe('answer shapes', () => {
  it('tells a 202 from a 201, and shards from one file', () => {
    assert.equal(isGenerating(generateAnswerOf(ACCEPTED)), true);
    assert.equal(isGenerating(generateAnswerOf(CREATED)), false);
    const sharded = fileLinkOf(SHARDED, 'loadParquet');
    const single = fileLinkOf(ONE_FILE, 'loadParquet');
    assert.equal(isShardedLink(sharded), true);
    assert.equal(isShardedLink(single), false);
    assert.deepEqual(
      filesOfLink(sharded).map(f => [f.object, f.sizeBytes]),
      [
        ['datasets/v4/dataset_v4-00000-of-00002.parquet', 1000],
        ['datasets/v4/dataset_v4-00001-of-00002.parquet', 1001],
      ],
    );
    assert.deepEqual(filesOfLink(single), [single]);
  });

  const badGenerate: Array<[unknown, RegExp]> = [
    [[], /not a JSON object/],
    [{...CREATED, version: 0}, /version is not a positive integer/],
    [{...CREATED, rows: 1.5}, /rows is not a positive integer/],
    [{...CREATED, objects: undefined}, /objects is not an object/],
    [
      {...CREATED, objects: {parquet: 'gs://x'}},
      /objects\.metadata is not a string/,
    ],
    [
      {...ACCEPTED, status: 'ready'},
      /status is "ready", expected "generating"/,
    ],
    [{...ACCEPTED, shards: 1}, /shards is not an integer >= 2/],
    [{...ACCEPTED, seed: -1}, /seed is not an integer/],
  ];
  for (const [body, why] of badGenerate) {
    it(`refuses a generate answer: ${why.source}`, () => {
      assert.throws(
        () => generateAnswerOf(body),
        (error: unknown) =>
          error instanceof MalformedAnswerError && why.test(error.message),
      );
    });
  }

  const badLink: Array<[unknown, RegExp]> = [
    ['x', /not a JSON object/],
    [{...ONE_FILE, url: ''}, /the answer\.url is not a non-empty string/],
    [{...ONE_FILE, sizeBytes: -1}, /the answer\.sizeBytes is not an integer/],
    [{...ONE_FILE, expiresAt: 5}, /expiresAt is not a string/],
    [{...SHARDED, shards: []}, /shards is not a non-empty array/],
    [{...SHARDED, url: ONE_FILE.url}, /both url and shards are present/],
    [
      {...SHARDED, shards: [shard(0), {...shard(1), md5: undefined}]},
      /shards\[1\]\.md5 is not a non-empty string/,
    ],
    [
      {...SHARDED, shards: [{...shard(0), rows: 0}]},
      /shards\[0\]\.rows is not a positive integer/,
    ],
  ];
  for (const [body, why] of badLink) {
    it(`refuses a loader answer: ${why.source}`, () => {
      assert.throws(
        () => fileLinkOf(body, 'loadTfrecord'),
        (error: unknown) =>
          error instanceof MalformedAnswerError &&
          error.message.startsWith('loadTfrecord: ') &&
          why.test(error.message),
      );
    });
  }
});

let server: Server | undefined;
const requests: string[] = [];

async function serve(
  handler: (path: string, response: ServerResponse, count: number) => void,
): Promise<string> {
  requests.length = 0;
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    request.resume();
    request.on('end', () =>
      handler(request.url ?? '', response, requests.length),
    );
  });
  await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, {'content-type': 'application/json'});
  response.end(JSON.stringify(body));
}

afterEach(async () => {
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise(resolve => open.close(resolve));
});

const READY = {
  version: 5,
  status: 'ready',
  metadata: {version: 5},
  url: 'http://127.0.0.1:1/m',
  expiresAt: '2026-11-25T18:00:00.000Z',
};
const GENERATING_409 = {
  error: {
    code: 'FAILED_PRECONDITION',
    message:
      'dataset version 5 is not ready yet (still generating); retry shortly',
    versionStatus: 'generating',
  },
};

describe('ApiClient, both shapes', () => {
  it('generate hands back the 202 as GeneratingDataset; the loaders the shard list', async () => {
    const base = await serve((path, response) => {
      if (path === '/generateDataset') return json(response, 202, ACCEPTED);
      return json(
        response,
        200,
        path.startsWith('/loadTfrecord') ? SHARDED : ONE_FILE,
      );
    });
    const client = new ApiClient({baseUrl: base});
    const answer = await client.generate({nSamples: 100_000_000, shards: 16});
    assert.ok(isGenerating(answer));
    assert.deepEqual(answer, ACCEPTED);
    const tfrecord = await client.loadTfrecord(4, 600);
    assert.ok(isShardedLink(tfrecord));
    assert.equal(tfrecord.shards[1].rows, 34_464);
    const parquet = await client.loadParquet('latest');
    assert.ok(!isShardedLink(parquet));
    assert.equal(parquet.object, 'datasets/v4/dataset_v4.parquet');
    assert.deepEqual(requests, [
      'POST /generateDataset',
      'GET /loadTfrecord?version=4&ttlSeconds=600',
      'GET /loadParquet?version=latest',
    ]);
  });

  it('a malformed 2xx answer is an ApiError naming the function and what is wrong', async () => {
    const base = await serve((_, response) =>
      json(response, 200, {...SHARDED, shards: [{...shard(0), url: 7}]}),
    );
    await assert.rejects(
      new ApiClient({baseUrl: base}).loadParquet(4),
      (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.code, 'INTERNAL');
        assert.equal(error.url, `${base}/loadParquet`);
        assert.equal(
          error.summary(),
          'loadParquet answered 200 INTERNAL: an answer without the shape of docs/design.md §5: shards[0].url is not a non-empty string',
        );
        return true;
      },
    );
  });

  it('generateAndWait follows loadMetadata through 409 after a 202, until ready', async () => {
    const base = await serve((path, response, count) => {
      if (path === '/generateDataset') return json(response, 202, ACCEPTED);
      return count < 4
        ? json(response, 409, GENERATING_409)
        : json(response, 200, READY);
    });
    const answers: unknown[] = [];
    const done = await generateAndWait(
      new ApiClient({baseUrl: base}),
      {nSamples: 100_000_000, shards: 16},
      {intervalMs: 10, onAnswer: a => answers.push(a)},
    );
    assert.deepEqual(answers, [ACCEPTED]);
    assert.deepEqual(done.answer, ACCEPTED);
    assert.deepEqual(done.ready, READY);
    assert.ok(done.answeredMs <= done.readyMs);
    assert.deepEqual(requests, [
      'POST /generateDataset',
      'GET /loadMetadata?version=5',
      'GET /loadMetadata?version=5',
      'GET /loadMetadata?version=5',
    ]);
  });

  it('generateAndWait after a 201 waits for the storage trigger the same way', async () => {
    const base = await serve((path, response, count) => {
      if (path === '/generateDataset') return json(response, 201, CREATED);
      return count < 3
        ? json(response, 409, GENERATING_409)
        : json(response, 200, {...READY, version: 4});
    });
    const done = await generateAndWait(
      new ApiClient({baseUrl: base}),
      {},
      {
        intervalMs: 10,
      },
    );
    assert.equal(isGenerating(done.answer), false);
    assert.equal(done.ready.version, 4);
    assert.equal(requests.length, 3);
  });

  it('generateAndWait is bounded: a version that stays generating times out with the 409', async () => {
    const base = await serve((path, response) =>
      path === '/generateDataset'
        ? json(response, 202, ACCEPTED)
        : json(response, 409, GENERATING_409),
    );
    const started = performance.now();
    await assert.rejects(
      generateAndWait(
        new ApiClient({baseUrl: base}),
        {shards: 16},
        {
          timeoutMs: 300,
          intervalMs: 50,
        },
      ),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 409 &&
        /still generating/.test(error.message),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2000, `${elapsed} ms`);
    assert.ok(
      requests.length >= 3 && requests.length <= 9,
      `${requests.length}`,
    );
  });

  it('a POST generate goes through node:http (no 300 s headers timeout): refused, timed out and slow answers', async () => {
    const base = await serve((_, response) => {
      // headers only after 400 ms, as a generate that writes first
      setTimeout(() => json(response, 201, CREATED), 400);
    });
    const slow = await new ApiClient({baseUrl: base}).generate({nSamples: 7});
    assert.deepEqual(slow, CREATED);
    assert.deepEqual(requests, ['POST /generateDataset']);

    await assert.rejects(
      new ApiClient({baseUrl: base, generateTimeoutMs: 100}).generate({}),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 0 &&
        error.message === `cannot reach ${base}/generateDataset: timed out`,
    );
    const open = server!;
    server = undefined;
    open.closeAllConnections();
    await new Promise(resolve => open.close(resolve));
    await assert.rejects(
      new ApiClient({baseUrl: base}).generate({}),
      (error: unknown) =>
        error instanceof ApiError &&
        error.code === 'UNAVAILABLE' &&
        error.message === `cannot reach ${base}/generateDataset: ECONNREFUSED`,
    );
  });
});
