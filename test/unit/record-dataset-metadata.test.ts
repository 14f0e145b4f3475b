/**
 * The storage trigger's entry behind the front door, on functions-framework's
 * own server: an event it acknowledges is a 204 with a request id, and a
 * failure it throws (for Eventarc to retry) is the JSON error, logged once,
 * structured, with the same request id, and without internals.
 */
import assert from 'node:assert/strict';
import type {Server} from 'node:http';
import {after, before, describe, it} from 'node:test';
import {getTestServer} from '@google-cloud/functions-framework/testing';
import {installFrontDoor} from '../../functions/framework-hook.js';
import {jsonLogger} from '../../shared/logger.js';
import {send} from '../support/http-client.js';

const CE = {
  'ce-id': 'e-1',
  'ce-source': '//storage.googleapis.com/projects/_/buckets/b',
  'ce-specversion': '1.0',
  'ce-type': 'com.example.not-a-finalize',
  'content-type': 'application/json',
};

let server: Server;
let url = '';
const lines: string[] = [];
const saved = process.env.DATASETS_BUCKET;

before(async () => {
  installFrontDoor(
    jsonLogger({}, line => lines.push(line)),
    'recordDatasetMetadata',
  );
  await import('../../functions/record-dataset-metadata.js');
  server = getTestServer('recordDatasetMetadata');
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
after(async () => {
  if (saved === undefined) delete process.env.DATASETS_BUCKET;
  else process.env.DATASETS_BUCKET = saved;
  server.closeAllConnections();
  await new Promise(r => server.close(r));
});

describe('recordDatasetMetadata behind the front door', () => {
  it('a failure to be retried is a JSON 500 with the request id, not a text/plain stack', async () => {
    delete process.env.DATASETS_BUCKET; // the context cannot be made: the handler throws
    const writes: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    // Keep our JSON log lines; pass everything else (the test runner's own) through.
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (typeof chunk === 'string' && chunk.startsWith('{"severity"')) {
        writes.push(chunk);
        return true;
      }
      return write(chunk, ...rest);
    }) as typeof process.stdout.write;
    let answer;
    try {
      answer = await send(url, {
        method: 'POST',
        headers: {...CE, 'function-execution-id': 'exec-7'},
        body: '{"bucket":"b","name":"x"}',
      });
    } finally {
      process.stdout.write = write;
    }
    assert.equal(answer.status, 500);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    assert.equal(answer.headers['x-request-id'], 'exec-7');
    const body = JSON.parse(answer.text) as {
      error: {code: string; message: string; requestId: string};
    };
    assert.equal(body.error.code, 'INTERNAL');
    assert.equal(body.error.requestId, 'exec-7');
    assert.doesNotMatch(answer.text, /DATASETS_BUCKET|\/work\/|at /);
    const logged = writes
      .filter(w => w.includes('exec-7'))
      .map(w => JSON.parse(w) as {severity: string; requestId: string});
    assert.equal(logged.length, 1, writes.join(''));
    assert.equal(logged[0].severity, 'ERROR');
  });

  it('an event it acknowledges is a 204 with the request id', async () => {
    process.env.DATASETS_BUCKET = 'unit-test-bucket';
    const answer = await send(url, {
      method: 'POST',
      headers: CE,
      body: '{"bucket":"b","name":"x"}',
    });
    assert.equal(answer.status, 204, answer.text);
    assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('a plain GET or POST is refused as JSON by the door', async () => {
    const get = await send(url);
    assert.equal(get.status, 405);
    const post = await send(url, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: '{}',
    });
    assert.equal(post.status, 400);
    assert.equal(
      (JSON.parse(post.text) as {error: {code: string}}).error.code,
      'INVALID_ARGUMENT',
    );
  });
});
