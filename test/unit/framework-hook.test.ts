/**
 * The front door in front of functions-framework's own server (its
 * getTestServer builds the same Express app as in the cloud): the
 * framework's body parsers never see a refused body, an admitted one reaches
 * the function, and the framework's own answers are JSON.
 */
import assert from 'node:assert/strict';
import type {Server} from 'node:http';
import {after, before, describe, it} from 'node:test';
import {gzipSync} from 'node:zlib';
import * as functions from '@google-cloud/functions-framework';
import {getTestServer} from '@google-cloud/functions-framework/testing';
import {installFrontDoor} from '../../functions/framework-hook.js';
import {jsonLogger} from '../../shared/logger.js';
import {send} from '../support/http-client.js';

const lines: string[] = [];
let server: Server;
let url = '';
let seen: unknown[] = [];

before(async () => {
  installFrontDoor(
    jsonLogger({}, line => lines.push(line)),
    'generateDataset',
  );
  // A stand-in for generateDataset that shows what reached it.
  functions.http('generateDataset', (req, res) => {
    seen.push(req.body);
    if ((req.body as {crash?: boolean}).crash)
      throw new Error('/work/secret/path exploded');
    res.status(200).json({ok: true});
  });
  server = getTestServer('generateDataset');
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise(r => server.close(r));
});

describe('functions-framework behind the front door', () => {
  it('a gzip body is refused before the framework inflates it', async () => {
    seen = [];
    const answer = await send(url, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'content-encoding': 'gzip'},
      body: gzipSync('{"crash":false}'),
    });
    assert.equal(answer.status, 415);
    assert.deepEqual(seen, []);
  });

  it('a JSON body reaches the function as read by the door', async () => {
    seen = [];
    const answer = await send(url, {
      method: 'POST',
      headers: {'content-type': 'application/json; charset=utf-8'},
      body: '{"crash":false,"n":1}',
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(seen, [{crash: false, n: 1}]);
    assert.ok(answer.headers['x-request-id']);
  });

  it('text/plain is 415 where the framework would have parsed it as text', async () => {
    seen = [];
    const answer = await send(url, {
      method: 'POST',
      headers: {'content-type': 'text/plain'},
      body: 'hello',
    });
    assert.equal(answer.status, 415);
    assert.deepEqual(seen, []);
  });

  it("the framework's crash answer becomes the JSON error, without internals", async () => {
    const answer = await send(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'function-execution-id': 'exec-42',
      },
      body: '{"crash":true}',
    });
    assert.equal(answer.status, 500);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const body = JSON.parse(answer.text) as {
      error: {code: string; message: string; requestId: string};
    };
    assert.equal(body.error.code, 'INTERNAL');
    assert.equal(body.error.requestId, 'exec-42');
    assert.equal(answer.headers['x-request-id'], 'exec-42');
    assert.doesNotMatch(answer.text, /secret|work/);
  });

  it('a path the framework ignores (robots.txt) is a JSON 404', async () => {
    const answer = await send(`${url}robots.txt`);
    assert.equal(answer.status, 404);
    assert.equal(
      (JSON.parse(answer.text) as {error: {code: string}}).error.code,
      'NOT_FOUND',
    );
  });
});
