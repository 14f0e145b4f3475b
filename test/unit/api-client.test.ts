/**
 * The API client against a real tiny node:http server on 127.0.0.1, one per
 * test: each test scripts the answers and counts the requests.
 */
import assert from 'node:assert/strict';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, it} from 'node:test';
import {ApiClient, ApiError} from '../../clients/typescript/index.js';

type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  count: number,
) => void;

let server: Server | undefined;
const seen: Array<{method: string; url: string; authorization?: string}> = [];

async function serve(handler: Handler): Promise<string> {
  seen.length = 0;
  server = createServer((request, response) => {
    seen.push({
      method: request.method ?? '',
      url: request.url ?? '',
      authorization: request.headers.authorization,
    });
    request.resume();
    request.on('end', () => handler(request, response, seen.length));
  });
  await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {'content-type': 'application/json', ...headers});
  response.end(JSON.stringify(body));
}

const notReady = {
  error: {
    code: 'FAILED_PRECONDITION',
    message:
      'dataset version 3 is not ready yet (still generating); retry shortly',
    versionStatus: 'generating',
    requestId: 'r-409',
  },
};
const ready = {
  version: 3,
  status: 'ready',
  metadata: {},
  url: 'http://x/m',
  expiresAt: 'e',
};

afterEach(async () => {
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise(resolve => open.close(resolve));
});

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return error;
  }
  assert.fail('expected an ApiError');
}

describe('ApiClient', () => {
  it('keeps the server error code, message, field and requestId, and the URL, never the token', async () => {
    const base = await serve((_, response) =>
      json(response, 400, {
        error: {
          code: 'INVALID_ARGUMENT',
          message: 'nSamples must be an integer in 1..100000000, got 0',
          field: 'nSamples',
          requestId: 'req-42',
        },
      }),
    );
    const client = new ApiClient({baseUrl: `${base}/`, token: 's3cret'});
    const error = await rejection(client.generate({nSamples: 0}));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.equal(
      error.message,
      'nSamples must be an integer in 1..100000000, got 0',
    );
    assert.equal(error.field, 'nSamples');
    assert.equal(error.requestId, 'req-42');
    assert.equal(error.url, `${base}/generateDataset`);
    assert.equal(seen[0].authorization, 'Bearer s3cret');
    assert.doesNotMatch(JSON.stringify({...error, m: error.message}), /s3cret/);
  });

  it('a body that is not JSON is an ApiError naming the status', async () => {
    const base = await serve((_, response) => {
      response.writeHead(502);
      response.end('<html>bad gateway</html>');
    });
    const error = await rejection(
      new ApiClient({baseUrl: base}).listDatasets(5),
    );
    assert.equal(error.status, 502);
    assert.equal(error.code, 'UNAVAILABLE');
    assert.match(error.message, /answered 502 with a body that is not JSON/);
    assert.equal(seen[0].url, '/listDatasets?limit=5');
  });

  it('retries a GET after 503 with Retry-After, waiting as told', async () => {
    const base = await serve((_, response, count) =>
      count === 1
        ? json(
            response,
            503,
            {error: {code: 'UNAVAILABLE', message: 'busy', requestId: 'r'}},
            {'retry-after': '1'},
          )
        : json(response, 200, {
            datasets: [{version: 1, status: 'ready'}],
            nextPageToken: null,
          }),
    );
    const started = performance.now();
    const list = await new ApiClient({baseUrl: base}).listDatasets();
    const waited = performance.now() - started;
    assert.deepEqual(list, {
      datasets: [{version: 1, status: 'ready'}],
      nextPageToken: null,
    });
    assert.equal(seen.length, 2);
    assert.ok(waited >= 950 && waited < 3000, `waited ${waited} ms`);
  });

  it('gives up on a GET after its bounded retries, with the last answer', async () => {
    const base = await serve((_, response) =>
      json(response, 429, {
        error: {
          code: 'RESOURCE_EXHAUSTED',
          message: 'slow down',
          requestId: 'r',
        },
      }),
    );
    const client = new ApiClient({baseUrl: base, retries: 2, retryDelayMs: 10});
    const error = await rejection(client.loadParquet(1, 60));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'RESOURCE_EXHAUSTED');
    assert.equal(seen.length, 3);
    assert.equal(seen[0].url, '/loadParquet?version=1&ttlSeconds=60');
  });

  it('never retries a POST generate, even after 503', async () => {
    const base = await serve((_, response) =>
      json(
        response,
        503,
        {error: {code: 'UNAVAILABLE', message: 'busy', requestId: 'r'}},
        {'retry-after': '0'},
      ),
    );
    const error = await rejection(
      new ApiClient({baseUrl: base}).generate({nSamples: 10}),
    );
    assert.equal(error.status, 503);
    assert.equal(error.retryAfterSeconds, 0);
    assert.deepEqual(
      seen.map(s => s.method),
      ['POST'],
    );
  });

  it('a request that outlasts its timeout is an ApiError with status 0', async () => {
    const base = await serve(() => undefined); // never answers
    const client = new ApiClient({
      baseUrl: base,
      timeoutMs: 150,
      retries: 1,
      retryDelayMs: 10,
    });
    const started = performance.now();
    const error = await rejection(client.loadTfrecord('latest'));
    const took = performance.now() - started;
    assert.equal(error.status, 0);
    assert.equal(error.code, 'UNAVAILABLE');
    assert.equal(
      error.message,
      `cannot reach ${base}/loadTfrecord?version=latest: timed out`,
    );
    assert.equal(seen.length, 2);
    assert.ok(took >= 300 && took < 2000, `took ${took} ms`);
  });

  it('a refused connection names the URL and the cause', async () => {
    const base = await serve(() => undefined);
    await new Promise(resolve => server!.close(resolve));
    server = undefined;
    const client = new ApiClient({baseUrl: base, retries: 1, retryDelayMs: 10});
    const error = await rejection(client.loadMetadata(2));
    assert.equal(
      error.message,
      `cannot reach ${base}/loadMetadata?version=2: ECONNREFUSED`,
    );
  });

  it('waitReady polls through 409 until ready', async () => {
    const base = await serve((_, response, count) =>
      count < 4 ? json(response, 409, notReady) : json(response, 200, ready),
    );
    const answer = await new ApiClient({baseUrl: base}).waitReady(3, {
      intervalMs: 20,
      timeoutMs: 5000,
    });
    assert.deepEqual(answer, ready);
    assert.equal(seen.length, 4);
    assert.ok(seen.every(s => s.url === '/loadMetadata?version=3'));
  });

  it('waitReady stops at once at versionStatus failed, whatever the wording', async () => {
    const base = await serve((_, response) =>
      json(response, 409, {
        error: {
          code: 'FAILED_PRECONDITION',
          message: 'dataset version 3: bucket gone',
          versionStatus: 'failed',
          requestId: 'r',
        },
      }),
    );
    const error = await rejection(
      new ApiClient({baseUrl: base}).waitReady(3, {intervalMs: 20}),
    );
    assert.equal(error.versionStatus, 'failed');
    assert.equal(error.message, 'dataset version 3: bucket gone');
    assert.equal(seen.length, 1);
  });

  it('waitReady keeps waiting on versionStatus generating, whatever the wording', async () => {
    const base = await serve((_, response, count) =>
      count < 3
        ? json(
            response,
            409,
            {
              error: {
                code: 'FAILED_PRECONDITION',
                message: 'will never be ready (a wording waitReady ignores)',
                versionStatus: 'generating',
              },
            },
            {'retry-after': '2'},
          )
        : json(response, 200, ready),
    );
    const answer = await new ApiClient({baseUrl: base}).waitReady(3, {
      intervalMs: 20,
      timeoutMs: 5000,
    });
    assert.deepEqual(answer, ready);
    assert.equal(seen.length, 3);
  });

  for (const versionStatus of [undefined, 'paused']) {
    it(`waitReady does not wait on a 409 with versionStatus ${versionStatus}`, async () => {
      const base = await serve((_, response) =>
        json(response, 409, {
          error: {
            code: 'FAILED_PRECONDITION',
            message: 'not ready yet (still generating)',
            versionStatus,
          },
        }),
      );
      const error = await rejection(
        new ApiClient({baseUrl: base}).waitReady(3, {intervalMs: 20}),
      );
      assert.equal(error.status, 409);
      assert.equal(error.versionStatus, undefined);
      assert.equal(seen.length, 1);
    });
  }

  it('waitReady is bounded by its timeout', async () => {
    const base = await serve((_, response) => json(response, 409, notReady));
    const started = performance.now();
    const error = await rejection(
      new ApiClient({baseUrl: base}).waitReady(3, {
        intervalMs: 50,
        timeoutMs: 300,
      }),
    );
    const took = performance.now() - started;
    assert.equal(error.status, 409);
    assert.equal(error.requestId, 'r-409');
    assert.equal(error.versionStatus, 'generating');
    assert.ok(took < 1000, `took ${took} ms`);
    assert.ok(seen.length >= 3 && seen.length <= 8, `${seen.length} polls`);
  });
});

describe('ApiError.summary', () => {
  it('names the function, status, code and requestId; a failure to connect is its message', () => {
    const answered = new ApiError({
      status: 404,
      code: 'NOT_FOUND',
      message: 'dataset version 9 does not exist',
      url: 'http://127.0.0.1:8080/loadMetadata?version=9',
      requestId: 'req-1',
    });
    assert.equal(
      answered.summary(),
      'loadMetadata answered 404 NOT_FOUND: dataset version 9 does not exist (request req-1)',
    );
    const refused = new ApiError({
      status: 0,
      code: 'UNAVAILABLE',
      message: 'cannot reach http://127.0.0.1:9/x: ECONNREFUSED',
      url: 'http://127.0.0.1:9/x',
    });
    assert.equal(refused.summary(), refused.message);
  });
});
