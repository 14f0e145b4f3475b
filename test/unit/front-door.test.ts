/**
 * The front door on a plain Node server with each kind of policy: path,
 * method, body on GET, CloudEvent headers, request ids, and one log line
 * per refusal.
 */
import assert from 'node:assert/strict';
import {createServer, type Server} from 'node:http';
import {after, before, describe, it} from 'node:test';
import {admit} from '../../functions/front-door.js';
import {requestIdFrom} from '../../functions/exchange.js';
import {
  REQUEST_POLICIES,
  servedFunction,
} from '../../functions/request-policy.js';
import {jsonLogger} from '../../shared/logger.js';
import {send, type Send} from '../support/http-client.js';

const lines: string[] = [];
const log = jsonLogger({}, line => lines.push(line));
let server: Server;
let base = '';

before(async () => {
  // /<function>/<path>: the door of <function> sees <path>.
  server = createServer((req, res) => {
    const [, name, ...rest] = (req.url ?? '/').split('/');
    req.url = `/${rest.join('/')}`;
    const policy = REQUEST_POLICIES[name as keyof typeof REQUEST_POLICIES];
    void admit(req, res, name, policy, log).then(exchange => {
      if (!exchange) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({admitted: exchange.body}));
    });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise(r => server.close(r));
});

const CE = {
  'ce-id': '1',
  'ce-source': '//storage.googleapis.com/projects/_/buckets/b',
  'ce-specversion': '1.0',
  'ce-type': 'google.cloud.storage.object.v1.finalized',
  'content-type': 'application/json',
};

describe('admit', () => {
  const cases: Array<[string, string, Send, number, string?]> = [
    ['a loader at its root', '/loadParquet/?version=1', {}, 200],
    [
      'a loader with Content-Length: 0',
      '/listDatasets/',
      {headers: {'content-length': '0'}},
      200,
    ],
    ['a path under a function', '/loadParquet/x', {}, 404, 'NOT_FOUND'],
    ['favicon.ico', '/generateDataset/favicon.ico', {}, 404, 'NOT_FOUND'],
    ['GET on generate', '/generateDataset/', {}, 405, 'METHOD_NOT_ALLOWED'],
    [
      'HEAD on a loader',
      '/loadMetadata/',
      {method: 'HEAD'},
      405,
      'METHOD_NOT_ALLOWED',
    ],
    [
      'GET with a body',
      '/loadMetadata/',
      {headers: {'content-type': 'application/json'}, body: '{}'},
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'GET with an announced body never sent',
      '/loadMetadata/',
      {headers: {'content-length': '1000000'}, withholdBody: true},
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'GET with Content-Encoding',
      '/listDatasets/',
      {headers: {'content-encoding': 'gzip'}},
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a POST to the trigger without ce-* headers',
      '/recordDatasetMetadata/',
      {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: '{}',
      },
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'a CloudEvent without data',
      '/recordDatasetMetadata/',
      {method: 'POST', headers: CE},
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'a CloudEvent with array data',
      '/recordDatasetMetadata/',
      {method: 'POST', headers: CE, body: '[]'},
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'a CloudEvent',
      '/recordDatasetMetadata/',
      {method: 'POST', headers: CE, body: '{"name":"x"}'},
      200,
    ],
    [
      'generate with JSON',
      '/generateDataset/',
      {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: '{"nSamples":5}',
      },
      200,
    ],
    [
      'generate with text',
      '/generateDataset/',
      {method: 'POST', headers: {'content-type': 'text/plain'}, body: '{}'},
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
  ];
  for (const [name, path, request, status, code] of cases) {
    it(`${name} -> ${status}`, async () => {
      lines.length = 0;
      const answer = await send(`${base}${path}`, request);
      assert.equal(answer.status, status, answer.text);
      const requestId = answer.headers['x-request-id'];
      assert.ok(typeof requestId === 'string' && requestId.length > 0);
      if (!code) {
        assert.equal(lines.length, 0);
        return;
      }
      if (request.method !== 'HEAD') {
        const body = JSON.parse(answer.text) as {
          error: {code: string; requestId: string};
        };
        assert.equal(body.error.code, code);
        assert.equal(body.error.requestId, requestId);
      }
      if (status === 405) assert.ok(answer.headers.allow);
      assert.equal(lines.length, 1);
      const entry = JSON.parse(lines[0]) as {
        requestId: string;
        status: number;
        severity: string;
      };
      assert.equal(entry.requestId, requestId);
      assert.equal(entry.status, status);
      assert.equal(entry.severity, 'INFO');
    });
  }

  it('hands the read body on', async () => {
    const answer = await send(`${base}/generateDataset/`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: '{"nSamples":5}',
    });
    const admitted = (
      JSON.parse(answer.text) as {admitted: {present: boolean; value: unknown}}
    ).admitted;
    assert.equal(admitted.present, true);
    assert.deepEqual(admitted.value, {nSamples: 5});
  });
});

describe('request ids and targets', () => {
  it('takes the platform execution id or trace id when they look like ids', () => {
    assert.equal(
      requestIdFrom({'function-execution-id': 'abc-123'}),
      'abc-123',
    );
    assert.equal(
      requestIdFrom({
        'x-cloud-trace-context': '0af7651916cd43dd8448eb211c80319c/1;o=1',
      }),
      '0af7651916cd43dd8448eb211c80319c',
    );
    for (const hostile of ['<script>', 'a'.repeat(500), 'a b', '']) {
      assert.match(
        requestIdFrom({'function-execution-id': hostile}),
        /^[0-9a-f-]{36}$/,
      );
    }
  });

  it('finds the served function as functions-framework does', () => {
    assert.equal(
      servedFunction(['node', 'main.js', '--target=loadParquet'], {}),
      'loadParquet',
    );
    assert.equal(
      servedFunction(['node', 'main.js', '--target', 'listDatasets'], {}),
      'listDatasets',
    );
    assert.equal(
      servedFunction(['node', 'main.js'], {FUNCTION_TARGET: 'generateDataset'}),
      'generateDataset',
    );
    assert.equal(servedFunction(['node', 'main.js'], {}), undefined);
    assert.equal(
      servedFunction(['node', 'main.js', '--target=other'], {}),
      undefined,
    );
  });
});
