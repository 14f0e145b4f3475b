/**
 * The body reader on a plain Node server (no framework, no emulators):
 * media types, charsets, encodings, the 64 KiB limit while reading.
 */
import assert from 'node:assert/strict';
import {createServer, type Server} from 'node:http';
import {after, before, describe, it} from 'node:test';
import {gzipSync} from 'node:zlib';
import {
  declaresBody,
  JSON_BODY,
  MAX_BODY_BYTES,
  parseJson,
  readBody,
  refuseContentEncoding,
  requireMediaType,
} from '../../functions/body-reader.js';
import {HttpError} from '../../functions/http-error.js';
import {send, type Send} from '../support/http-client.js';

let server: Server;
let url = '';

before(async () => {
  server = createServer((req, res) => {
    readBody(req, JSON_BODY).then(
      body => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify(
            body.present
              ? {present: true, value: body.value, bytes: body.bytes.length}
              : {present: false},
          ),
        );
      },
      (error: unknown) => {
        const http =
          error instanceof HttpError
            ? error
            : new HttpError(599, 'INTERNAL', String(error));
        res.statusCode = http.status;
        res.end(JSON.stringify({code: http.code, message: http.message}));
      },
    );
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise(r => server.close(r));
});

const JSON_TYPE = {'content-type': 'application/json'};
const post = (
  body: string | Buffer,
  headers: Record<string, string> = JSON_TYPE,
): Send => ({
  method: 'POST',
  headers,
  body,
});

describe('readBody', () => {
  const cases: Array<[string, Send, number, unknown?]> = [
    ['JSON', post('{"a":1}'), 200, {present: true, value: {a: 1}, bytes: 7}],
    [
      'charset=utf-8',
      post('{"a":1}', {'content-type': 'application/json; charset=utf-8'}),
      200,
      {present: true, value: {a: 1}, bytes: 7},
    ],
    [
      'charset="UTF-8", odd case and spaces',
      post('[]', {'content-type': 'Application/JSON ; Charset="UTF-8"'}),
      200,
      {present: true, value: [], bytes: 2},
    ],
    [
      'charset=utf8',
      post('1', {'content-type': 'application/json;charset=utf8'}),
      200,
      {present: true, value: 1, bytes: 1},
    ],
    [
      'other parameters ignored',
      post('true', {'content-type': 'application/json; profile=x'}),
      200,
      {present: true, value: true, bytes: 4},
    ],
    [
      'Content-Encoding identity',
      post('{}', {...JSON_TYPE, 'content-encoding': 'Identity'}),
      200,
      {present: true, value: {}, bytes: 2},
    ],
    ['no body, no type', {method: 'POST'}, 200, {present: false}],
    [
      'no body, text/plain',
      post('', {'content-type': 'text/plain'}),
      200,
      {present: false},
    ],
    [
      'empty chunked JSON',
      {
        method: 'POST',
        headers: JSON_TYPE,
        body: Buffer.alloc(0),
        chunkBytes: 1,
      },
      200,
      {present: false},
    ],
    ['GET without a body', {method: 'GET'}, 200, {present: false}],
    [
      'exactly 64 KiB',
      post(`{}${' '.repeat(MAX_BODY_BYTES - 2)}`),
      200,
      {present: true, value: {}, bytes: MAX_BODY_BYTES},
    ],
    [
      'exactly 64 KiB, chunked slowly',
      {
        method: 'POST',
        headers: JSON_TYPE,
        body: `{}${' '.repeat(MAX_BODY_BYTES - 2)}`,
        chunkBytes: 8192,
        delayMs: 2,
      },
      200,
      {present: true, value: {}, bytes: MAX_BODY_BYTES},
    ],
    ['no type', post('{}', {}), 415],
    ['empty type', post('{}', {'content-type': ''}), 415],
    ['*/*', post('{}', {'content-type': '*/*'}), 415],
    [
      'a list of types',
      post('{}', {'content-type': 'application/json, text/plain'}),
      415,
    ],
    ['text/plain', post('{}', {'content-type': 'text/plain'}), 415],
    [
      'application/json-seq',
      post('{}', {'content-type': 'application/json-seq'}),
      415,
    ],
    [
      'charset=latin1',
      post('{}', {'content-type': 'application/json; charset=latin1'}),
      415,
    ],
    [
      'charset=utf-16le',
      post('{}', {'content-type': 'application/json; charset=utf-16le'}),
      415,
    ],
    [
      'empty chunked body without a type',
      {method: 'POST', body: Buffer.alloc(0), chunkBytes: 1},
      415,
    ],
    [
      'gzip',
      post(gzipSync('{}'), {...JSON_TYPE, 'content-encoding': 'gzip'}),
      415,
    ],
    [
      'GZIP with spaces',
      post(gzipSync('{}'), {...JSON_TYPE, 'content-encoding': ' GZIP '}),
      415,
    ],
    ['deflate', post('{}', {...JSON_TYPE, 'content-encoding': 'deflate'}), 415],
    ['zstd', post('{}', {...JSON_TYPE, 'content-encoding': 'zstd'}), 415],
    [
      'identity, gzip',
      post('{}', {...JSON_TYPE, 'content-encoding': 'identity, gzip'}),
      415,
    ],
    [
      'gzip without a body',
      {method: 'POST', headers: {'content-encoding': 'gzip'}},
      415,
    ],
    ['64 KiB + 1', post(`{}${' '.repeat(MAX_BODY_BYTES - 1)}`), 413],
    [
      '64 KiB + 1, chunked slowly',
      {
        method: 'POST',
        headers: JSON_TYPE,
        body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20),
        chunkBytes: 8192,
        delayMs: 2,
      },
      413,
    ],
    ['bad JSON', post('{"a":'), 400],
    ['not UTF-8', post(Buffer.from([0x22, 0xc3, 0x28, 0x22])), 400],
    [
      'a byte-order mark',
      post(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])),
      400,
    ],
    ['a NUL after the value', post('{}\u0000'), 400],
  ];
  for (const [name, request, status, expected] of cases) {
    it(`${name} -> ${status}`, async () => {
      const answer = await send(url, request);
      assert.equal(answer.status, status, answer.text);
      if (expected !== undefined)
        assert.deepEqual(JSON.parse(answer.text), expected);
    });
  }

  it('refuses a declared 10 MB body at once, without waiting for a byte of it', async () => {
    const started = Date.now();
    const answer = await send(url, {
      method: 'POST',
      headers: {...JSON_TYPE, 'content-length': String(10_000_000)},
      withholdBody: true,
    });
    assert.equal(answer.status, 413);
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses an endless body at the 64 KiB mark, while it is being sent', async () => {
    const answer = await send(url, {
      method: 'POST',
      headers: JSON_TYPE,
      chunkBytes: 4096,
      delayMs: 2,
      endless: true,
    });
    assert.equal(answer.status, 413);
    assert.ok(
      answer.sent <= MAX_BODY_BYTES + 16 * 4096,
      `${answer.sent} bytes sent before the answer`,
    );
  });

  it('refuses a gzip body without reading it: the same 415 with the headers alone', async () => {
    const answer = await send(url, {
      method: 'POST',
      headers: {
        ...JSON_TYPE,
        'content-encoding': 'gzip',
        'content-length': '500000',
      },
      withholdBody: true,
    });
    assert.equal(answer.status, 415);
  });
});

describe('the pieces', () => {
  it('declaresBody', () => {
    assert.equal(declaresBody({}), false);
    assert.equal(declaresBody({'content-length': '0'}), false);
    assert.equal(declaresBody({'content-length': '1'}), true);
    assert.equal(declaresBody({'transfer-encoding': 'chunked'}), true);
  });

  it('refuseContentEncoding', () => {
    for (const ok of [undefined, '', 'identity', ' IDENTITY ']) {
      assert.doesNotThrow(() =>
        refuseContentEncoding({'content-encoding': ok}),
      );
    }
    for (const bad of [
      'gzip',
      'x-gzip',
      'br',
      'compress',
      'gzip, gzip',
      'aes128gcm',
    ]) {
      assert.throws(
        () => refuseContentEncoding({'content-encoding': bad}),
        (e: HttpError) => e.status === 415,
        bad,
      );
    }
  });

  it('requireMediaType', () => {
    const types = ['application/json'];
    assert.doesNotThrow(() =>
      requireMediaType({'content-type': 'application/json'}, types),
    );
    for (const bad of [
      undefined,
      '',
      'json',
      'application/*',
      'application/json; charset=us-ascii',
    ]) {
      assert.throws(
        () => requireMediaType({'content-type': bad}, types),
        (e: HttpError) => e.code === 'UNSUPPORTED_MEDIA_TYPE',
        String(bad),
      );
    }
  });

  it('parseJson keeps __proto__ as data and survives deep nesting', () => {
    const value = parseJson(
      Buffer.from('{"__proto__": {"polluted": true}}'),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const deep = Buffer.from(`${'['.repeat(30_000)}${']'.repeat(30_000)}`);
    assert.doesNotThrow(() => {
      try {
        parseJson(deep);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
      }
    });
  });
});
