/**
 * Hostile requests against every function, through the local router, on
 * one local stack (real emulators and functions-framework processes). Each
 * case asserts the status, the JSON error of docs/design.md §5 (code, field where
 * there is one, a request id equal to X-Request-Id, no internals) and that
 * nothing was written: the bucket's object list and every Firestore
 * document (with its update time) are the same before and after. Positive
 * controls make sure the table cannot pass by refusing everything.
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {after, before, describe, it} from 'node:test';
import {constants, createGzip, gzipSync} from 'node:zlib';
import {
  send as sendTo,
  type Answer,
  type Send,
} from '../support/http-client.js';
import {FUNCTION_NAMES} from '../../functions/function-names.js';
import {
  objectNames,
  startTestStack,
  waitReady,
  type TestStack,
} from '../support/stack.js';

let t: TestStack;

before(async () => {
  // A low cap, so "an empty body means all defaults" shows as a 400 on the
  // default nSamples (10,000,000) instead of a 10M-row generate.
  t = await startTestStack({MAX_SAMPLES: '100000'});
});
after(async () => {
  await t?.stop();
});

/** One request through the router. */
function send(path: string, options: Send = {}): Promise<Answer> {
  return sendTo(new URL(path, t.url), options);
}

/** Everything this service can write: object names, and every document with its update time. */
async function written(): Promise<string> {
  const objects = await objectNames(t.bucket);
  const documents: string[] = [];
  for (const collection of await t.firestore.listCollections()) {
    const snapshot = await collection.get();
    for (const doc of snapshot.docs) {
      documents.push(
        `${collection.id}/${doc.id}@${doc.updateTime.toDate().toISOString()}`,
      );
    }
  }
  return JSON.stringify({objects, documents: documents.sort()});
}

const JSON_TYPE = {'content-type': 'application/json'};
const json = (body: unknown, headers: Record<string, string> = JSON_TYPE) => ({
  method: 'POST',
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const SMALL = JSON.stringify({nSamples: 1000, seed: 1});
const EVALUATE = JSON.stringify({version: 1, policy: {type: 'uniform'}});

/** ~0.5 MB of gzip that inflates to 500 MiB of zeros. */
function gzipBomb(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gzip = createGzip({level: constants.Z_BEST_COMPRESSION});
    const out: Buffer[] = [];
    gzip.on('data', c => out.push(c));
    gzip.on('end', () => resolve(Buffer.concat(out)));
    gzip.on('error', reject);
    const zeros = Buffer.alloc(1 << 20);
    let left = 500;
    const pump = () => {
      while (left > 0) {
        left--;
        if (!gzip.write(zeros)) {
          gzip.once('drain', pump);
          return;
        }
      }
      gzip.end();
    };
    pump();
  });
}

let bomb: Buffer = Buffer.alloc(0);

const CE = {
  'ce-id': 'hostile-1',
  'ce-source': '//storage.googleapis.com/projects/_/buckets/b',
  'ce-specversion': '1.0',
  'ce-type': 'google.cloud.storage.object.v1.finalized',
};
/** The shard fan-out's event (docs/design.md §7), as Eventarc delivers it. */
const SHARD_CE = {
  'ce-id': 'hostile-2',
  'ce-source': '//pubsub.googleapis.com/projects/p/topics/dataset-shards',
  'ce-specversion': '1.0',
  'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
};

interface Case {
  name: string;
  path: string;
  send: Send | (() => Send);
  status: number;
  code: string;
  field?: string;
  /** What the message must say, where the same code could come from elsewhere (e.g. the router's parser). */
  message?: RegExp;
}

const deep = `{"nSamples":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;

const cases: Case[] = [
  // --- generateDataset: media types
  {
    name: 'no Content-Type',
    path: '/generateDataset',
    send: json(SMALL, {}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /no Content-Type/,
  },
  {
    name: 'empty Content-Type',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': ''}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'Content-Type */*',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': '*/*'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'Content-Type list',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': 'application/json, text/plain'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'text/plain',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': 'text/plain'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'form-urlencoded',
    path: '/generateDataset',
    send: json('nSamples=1000', {
      'content-type': 'application/x-www-form-urlencoded',
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'multipart',
    path: '/generateDataset',
    send: json('--x\r\n\r\n{}\r\n--x--', {
      'content-type': 'multipart/form-data; boundary=x',
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'application/jsonx',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': 'application/jsonx'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'application/cloudevents+json',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': 'application/cloudevents+json'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'charset latin1',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': 'application/json; charset=latin1'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'charset utf-16',
    path: '/generateDataset',
    send: json(SMALL, {'content-type': 'application/json; charset=utf-16'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  // --- generateDataset: encodings (nothing is ever inflated)
  {
    name: 'gzip JSON',
    path: '/generateDataset',
    send: {
      method: 'POST',
      headers: {...JSON_TYPE, 'content-encoding': 'gzip'},
      body: gzipSync(SMALL),
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /Content-Encoding/,
  },
  {
    name: 'deflate',
    path: '/generateDataset',
    send: json(SMALL, {...JSON_TYPE, 'content-encoding': 'deflate'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'br',
    path: '/generateDataset',
    send: json(SMALL, {...JSON_TYPE, 'content-encoding': 'br'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'gzip, identity',
    path: '/generateDataset',
    send: json(SMALL, {...JSON_TYPE, 'content-encoding': 'gzip, identity'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'gzip on an empty body',
    path: '/generateDataset',
    send: {method: 'POST', headers: {...JSON_TYPE, 'content-encoding': 'gzip'}},
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'gzip bomb (0.5 MB -> 500 MiB)',
    path: '/generateDataset',
    send: () => ({
      method: 'POST',
      headers: {...JSON_TYPE, 'content-encoding': 'gzip'},
      body: bomb,
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /Content-Encoding/,
  },
  // --- generateDataset: size
  {
    name: 'Content-Length 70,000',
    path: '/generateDataset',
    send: json(JSON.stringify({pad: 'x'.repeat(69_990)})),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: '65,537 bytes chunked, slowly',
    path: '/generateDataset',
    send: {
      method: 'POST',
      headers: JSON_TYPE,
      body: Buffer.alloc(65_537, 0x20),
      chunkBytes: 8192,
      delayMs: 20,
    },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: '65,537 bytes with Content-Length, slowly',
    path: '/generateDataset',
    send: {
      method: 'POST',
      headers: {...JSON_TYPE, 'content-length': '65537'},
      body: Buffer.alloc(65_537, 0x20),
      chunkBytes: 16384,
      delayMs: 20,
    },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  // --- generateDataset: JSON
  {
    name: 'bad JSON',
    path: '/generateDataset',
    send: json('{"nSamples": '),
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /not valid JSON/,
  },
  {
    name: 'JSON array',
    path: '/generateDataset',
    send: json('[1000]'),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'JSON null',
    path: '/generateDataset',
    send: json('null'),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'JSON string',
    path: '/generateDataset',
    send: json('"nSamples"'),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'JSON number',
    path: '/generateDataset',
    send: json('1000'),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'unknown field',
    path: '/generateDataset',
    send: json({nSample: 1000}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSample',
  },
  {
    name: '__proto__',
    path: '/generateDataset',
    send: json('{"__proto__": {"nSamples": 1}}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: '__proto__',
  },
  {
    name: 'constructor.prototype',
    path: '/generateDataset',
    send: json('{"constructor": {"prototype": {"polluted": 1}}}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'constructor',
  },
  {
    name: 'nSamples 1e400',
    path: '/generateDataset',
    send: json('{"nSamples": 1e400}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  {
    name: 'seed 2^53+1',
    path: '/generateDataset',
    send: json('{"nSamples": 1000, "seed": 9007199254740993}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'seed',
  },
  {
    name: 'nSamples -1',
    path: '/generateDataset',
    send: json({nSamples: -1}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  {
    name: 'nSamples 1.5',
    path: '/generateDataset',
    send: json({nSamples: 1.5}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  {
    name: 'nSamples "1000"',
    path: '/generateDataset',
    send: json({nSamples: '1000'}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  {
    name: 'nSamples over the cap',
    path: '/generateDataset',
    send: json({nSamples: 100_001}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  {
    name: 'duplicate formats',
    path: '/generateDataset',
    send: json({nSamples: 1000, formats: ['parquet', 'parquet']}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'formats',
  },
  {
    name: 'bad compression',
    path: '/generateDataset',
    send: json({nSamples: 1000, tfrecordCompression: 'ZIP'}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'tfrecordCompression',
  },
  {
    name: 'loggingPolicy of an unknown type',
    path: '/generateDataset',
    send: json({nSamples: 1000, loggingPolicy: {type: 'thompson'}}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'loggingPolicy.type',
  },
  {
    name: 'loggingPolicy beta not a number',
    path: '/generateDataset',
    send: json({nSamples: 1000, loggingPolicy: {type: 'softmax', beta: 'hot'}}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'loggingPolicy.beta',
  },
  {
    name: 'loggingPolicy epsilon past 1',
    path: '/generateDataset',
    send: json({
      nSamples: 1000,
      loggingPolicy: {type: 'epsilon-greedy', epsilon: 1.5},
    }),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'loggingPolicy.epsilon',
  },
  {
    name: 'loggingPolicy with an unknown member',
    path: '/generateDataset',
    send: json({
      nSamples: 1000,
      loggingPolicy: {type: 'softmax', beta: 1, temperature: 2},
    }),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'loggingPolicy.temperature',
  },
  {
    name: 'loggingPolicy not an object',
    path: '/generateDataset',
    send: json({nSamples: 1000, loggingPolicy: 'softmax'}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'loggingPolicy',
  },
  {
    name: 'adaptive loggingPolicy past 10,000 creatives',
    path: '/generateDataset',
    send: json({
      nSamples: 1000,
      nCreativePackIds: 10_001,
      loggingPolicy: {
        type: 'softmax',
        beta: 1,
        adaptive: {updateEveryBlocks: 1},
      },
    }),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'loggingPolicy.adaptive',
  },
  {
    name: 'nesting 20,000 deep',
    path: '/generateDataset',
    send: json(deep),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'invalid UTF-8',
    path: '/generateDataset',
    send: {
      method: 'POST',
      headers: JSON_TYPE,
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    },
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'a byte-order mark',
    path: '/generateDataset',
    send: {
      method: 'POST',
      headers: JSON_TYPE,
      body: Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(SMALL),
      ]),
    },
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'empty body means defaults (10M > the cap)',
    path: '/generateDataset',
    send: {method: 'POST'},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  {
    name: 'empty chunked JSON body means defaults',
    path: '/generateDataset',
    send: {
      method: 'POST',
      headers: JSON_TYPE,
      body: Buffer.alloc(0),
      chunkBytes: 1,
    },
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  // --- generateDataset: query, methods, paths
  {
    name: 'query nSamples',
    path: '/generateDataset?nSamples=1000',
    send: json(SMALL),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'nSamples',
  },
  {
    name: 'query __proto__',
    path: '/generateDataset?__proto__=1',
    send: json(SMALL),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: '__proto__',
  },
  {
    name: 'GET generate',
    path: '/generateDataset',
    send: {method: 'GET'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'HEAD generate',
    path: '/generateDataset',
    send: {method: 'HEAD'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'OPTIONS generate',
    path: '/generateDataset',
    send: {method: 'OPTIONS'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'PUT generate',
    path: '/generateDataset',
    send: {...json(SMALL), method: 'PUT'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'DELETE generate',
    path: '/generateDataset',
    send: {method: 'DELETE'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'PATCH generate',
    path: '/generateDataset',
    send: {...json(SMALL), method: 'PATCH'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'path under generate',
    path: '/generateDataset/x',
    send: json(SMALL),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'favicon under generate',
    path: '/generateDataset/favicon.ico',
    send: {method: 'GET'},
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'double slash under generate',
    path: '/generateDataset//',
    send: json(SMALL),
    status: 404,
    code: 'NOT_FOUND',
  },
  // --- loaders: ids and query pollution
  {
    name: 'version=1e3',
    path: '/loadParquet?version=1e3',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'version=2^53+1',
    path: '/loadParquet?version=9007199254740993',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'version=0x10',
    path: '/loadTfrecord?version=0x10',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'version=-1',
    path: '/loadTfrecord?version=-1',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'version=1.5',
    path: '/loadMetadata?version=1.5',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'version=%ZZ',
    path: '/loadMetadata?version=%ZZ',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'version[]=1',
    path: '/loadParquet?version[]=1',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version[]',
  },
  {
    name: 'repeated version',
    path: '/loadParquet?version=1&version=2',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'unknown parameter',
    path: '/loadMetadata?version=latest&foo=1',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'foo',
  },
  {
    name: 'ttlSeconds=0',
    path: '/loadParquet?version=1&ttlSeconds=0',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'ttlSeconds',
  },
  {
    name: 'ttlSeconds over 7 days',
    path: '/loadParquet?version=1&ttlSeconds=604801',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'ttlSeconds',
  },
  {
    name: 'ttlSeconds=-5',
    path: '/loadTfrecord?version=1&ttlSeconds=-5',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'ttlSeconds',
  },
  {
    name: 'ttlSeconds=1e3',
    path: '/loadMetadata?version=1&ttlSeconds=1e3',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'ttlSeconds',
  },
  {
    name: 'no such version',
    path: '/loadParquet?version=999999',
    send: {},
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'limit=0',
    path: '/listDatasets?limit=0',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'limit',
  },
  {
    name: 'limit=1e2',
    path: '/listDatasets?limit=1e2',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'limit',
  },
  {
    name: 'repeated limit',
    path: '/listDatasets?limit=5&limit=6',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'limit',
  },
  {
    name: 'forged pageToken',
    path: '/listDatasets?pageToken=YWZ0ZXI6MA',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'pageToken',
  },
  {
    name: 'constructor parameter',
    path: '/listDatasets?constructor=1',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'constructor',
  },
  // --- loaders: bodies, encodings, methods, paths
  {
    name: 'GET with a JSON body',
    path: '/loadParquet?version=1',
    send: {method: 'GET', headers: JSON_TYPE, body: '{}'},
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /must have no body/,
  },
  {
    name: 'GET with a chunked body',
    path: '/loadTfrecord?version=1',
    send: {
      method: 'GET',
      headers: JSON_TYPE,
      body: Buffer.from('{}'),
      chunkBytes: 1,
      delayMs: 5,
    },
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /must have no body/,
  },
  {
    name: 'GET with a gzip bomb',
    path: '/loadMetadata?version=1',
    send: () => ({
      method: 'GET',
      headers: {...JSON_TYPE, 'content-encoding': 'gzip'},
      body: bomb,
    }),
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /must have no body/,
  },
  {
    name: 'GET with Content-Encoding, no body',
    path: '/listDatasets',
    send: {method: 'GET', headers: {'content-encoding': 'gzip'}},
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'POST to a loader',
    path: '/loadParquet?version=1',
    send: json('{}'),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'DELETE a loader',
    path: '/loadTfrecord?version=1',
    send: {method: 'DELETE'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'HEAD a loader',
    path: '/loadMetadata?version=1',
    send: {method: 'HEAD'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'OPTIONS a loader',
    path: '/listDatasets',
    send: {method: 'OPTIONS'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'path under a loader',
    path: '/loadMetadata/x?version=1',
    send: {},
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'robots.txt under a loader',
    path: '/listDatasets/robots.txt',
    send: {},
    status: 404,
    code: 'NOT_FOUND',
  },
  // --- the storage trigger
  {
    name: 'GET the trigger',
    path: '/recordDatasetMetadata',
    send: {method: 'GET'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'PUT the trigger',
    path: '/recordDatasetMetadata',
    send: {...json('{}'), method: 'PUT'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'plain POST to the trigger',
    path: '/recordDatasetMetadata',
    send: json({bucket: 'b', name: 'datasets/v1/metadata_v1.json'}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /binary content mode/,
  },
  {
    name: 'empty POST to the trigger',
    path: '/recordDatasetMetadata',
    send: {method: 'POST'},
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'structured CloudEvent',
    path: '/recordDatasetMetadata',
    send: json(
      {specversion: '1.0', id: 'x', source: 's', type: 't', data: {}},
      {'content-type': 'application/cloudevents+json'},
    ),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'event as text/plain',
    path: '/recordDatasetMetadata',
    send: json('{}', {...CE, 'content-type': 'text/plain'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'gzip event',
    path: '/recordDatasetMetadata',
    send: {
      method: 'POST',
      headers: {...CE, ...JSON_TYPE, 'content-encoding': 'gzip'},
      body: gzipSync('{}'),
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'event without data',
    path: '/recordDatasetMetadata',
    send: {method: 'POST', headers: {...CE, ...JSON_TYPE}},
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /event data/,
  },
  {
    name: 'event data an array',
    path: '/recordDatasetMetadata',
    send: json('[]', {...CE, ...JSON_TYPE}),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'event data null',
    path: '/recordDatasetMetadata',
    send: json('null', {...CE, ...JSON_TYPE}),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'event data bad JSON',
    path: '/recordDatasetMetadata',
    send: json('{"bucket": ', {...CE, ...JSON_TYPE}),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'event over 64 KiB',
    path: '/recordDatasetMetadata',
    send: json(JSON.stringify({pad: 'x'.repeat(70_000)}), {
      ...CE,
      ...JSON_TYPE,
    }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'path under the trigger',
    path: '/recordDatasetMetadata/x',
    send: json('{}', {...CE, ...JSON_TYPE}),
    status: 404,
    code: 'NOT_FOUND',
  },
  // --- the shard function
  {
    name: 'GET the shard function',
    path: '/generateShard',
    send: {method: 'GET'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'plain POST to the shard function',
    path: '/generateShard',
    send: json({message: {data: 'e30='}}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /binary content mode/,
  },
  {
    name: 'shard event data an array',
    path: '/generateShard',
    send: json('[]', {...SHARD_CE, ...JSON_TYPE}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /event data/,
  },
  {
    name: 'gzip shard event',
    path: '/generateShard',
    send: {
      method: 'POST',
      headers: {...SHARD_CE, ...JSON_TYPE, 'content-encoding': 'gzip'},
      body: gzipSync('{}'),
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'shard event over 64 KiB',
    path: '/generateShard',
    send: json(JSON.stringify({message: {data: 'A'.repeat(70_000)}}), {
      ...SHARD_CE,
      ...JSON_TYPE,
    }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'path under the shard function',
    path: '/generateShard/x',
    send: json('{}', {...SHARD_CE, ...JSON_TYPE}),
    status: 404,
    code: 'NOT_FOUND',
  },
  // --- evaluatePolicy: the same door as generateDataset, then its own body
  {
    name: 'evaluate without Content-Type',
    path: '/evaluatePolicy',
    send: json(EVALUATE, {}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'evaluate as text/plain',
    path: '/evaluatePolicy',
    send: json(EVALUATE, {'content-type': 'text/plain'}),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'gzip evaluate',
    path: '/evaluatePolicy',
    send: {
      method: 'POST',
      headers: {...JSON_TYPE, 'content-encoding': 'gzip'},
      body: gzipSync(EVALUATE),
    },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /Content-Encoding/,
  },
  {
    name: 'evaluate with a gzip bomb',
    path: '/evaluatePolicy',
    send: () => ({
      method: 'POST',
      headers: {...JSON_TYPE, 'content-encoding': 'gzip'},
      body: bomb,
    }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a probs table over 64 KiB',
    path: '/evaluatePolicy',
    send: json({
      version: 1,
      policy: {
        probs: Object.fromEntries(
          Array.from({length: 2500}, (_, i) => [`creative_${i}abcdefghij`, 0]),
        ),
      },
    }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: '65,537 bytes to evaluate, slowly',
    path: '/evaluatePolicy',
    send: {
      method: 'POST',
      headers: JSON_TYPE,
      body: Buffer.alloc(65_537, 0x20),
      chunkBytes: 8192,
      delayMs: 20,
    },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'evaluate bad JSON',
    path: '/evaluatePolicy',
    send: json('{"version": 1, "policy": '),
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /not valid JSON/,
  },
  {
    name: 'evaluate a JSON array',
    path: '/evaluatePolicy',
    send: json(`[${EVALUATE}]`),
    status: 400,
    code: 'INVALID_ARGUMENT',
    message: /must be a JSON object/,
  },
  {
    name: 'evaluate JSON null',
    path: '/evaluatePolicy',
    send: json('null'),
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'evaluate an empty body',
    path: '/evaluatePolicy',
    send: {method: 'POST'},
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'evaluate __proto__',
    path: '/evaluatePolicy',
    send: json('{"__proto__": {"version": 1}, "version": 1, "policy": {}}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: '__proto__',
  },
  {
    name: 'evaluate constructor',
    path: '/evaluatePolicy',
    send: json('{"constructor": {"prototype": {}}, "version": 1}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'constructor',
  },
  {
    name: 'evaluate version 1e400',
    path: '/evaluatePolicy',
    send: json('{"version": 1e400, "policy": {"type": "uniform"}}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'evaluate version 2^53+1',
    path: '/evaluatePolicy',
    send: json('{"version": 9007199254740993, "policy": {"type": "uniform"}}'),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'evaluate version "1"',
    path: '/evaluatePolicy',
    send: json({version: '1', policy: {type: 'uniform'}}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'evaluate a version nested 20,000 deep',
    path: '/evaluatePolicy',
    send: json(`{"version":${'['.repeat(20_000)}${']'.repeat(20_000)}}`),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'evaluate without a policy',
    path: '/evaluatePolicy',
    send: json({version: 1}),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'policy',
  },
  {
    name: 'evaluate no such version',
    path: '/evaluatePolicy',
    send: json({version: 999_999, policy: {type: 'uniform'}}),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'evaluate a query parameter',
    path: '/evaluatePolicy?version=1',
    send: json(EVALUATE),
    status: 400,
    code: 'INVALID_ARGUMENT',
    field: 'version',
  },
  {
    name: 'GET evaluate',
    path: '/evaluatePolicy',
    send: {method: 'GET'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'HEAD evaluate',
    path: '/evaluatePolicy',
    send: {method: 'HEAD'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'OPTIONS evaluate',
    path: '/evaluatePolicy',
    send: {method: 'OPTIONS'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'PUT evaluate',
    path: '/evaluatePolicy',
    send: {...json(EVALUATE), method: 'PUT'},
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'path under evaluate',
    path: '/evaluatePolicy/x',
    send: json(EVALUATE),
    status: 404,
    code: 'NOT_FOUND',
  },
  // --- the router
  {
    name: 'bad percent-encoding',
    path: '/%ZZ',
    send: {},
    status: 400,
    code: 'INVALID_ARGUMENT',
  },
  {
    name: 'unknown function',
    path: '/deleteEverything',
    send: {method: 'POST'},
    status: 404,
    code: 'NOT_FOUND',
  },
  {name: 'the root', path: '/', send: {}, status: 404, code: 'NOT_FOUND'},
  {
    name: 'wrong case',
    path: '/GENERATEDATASET',
    send: json(SMALL),
    status: 404,
    code: 'NOT_FOUND',
  },
];

interface ErrorShape {
  error: {code: string; message: string; field?: string; requestId: string};
}

describe(
  'hostile requests: a JSON error and nothing written',
  {timeout: 10 * 60_000},
  () => {
    let held = 0;
    before(async () => {
      bomb = await gzipBomb();
      assert.ok(
        bomb.length > 400_000 && bomb.length < 600_000,
        `bomb of ${bomb.length} bytes`,
      );
    });
    after(() => {
      console.log(`hostile cases held: ${held}/${cases.length}`);
    });

    it('has at least 60 cases across every function', () => {
      assert.ok(cases.length >= 60, `${cases.length} cases`);
      for (const name of FUNCTION_NAMES) {
        assert.ok(
          cases.some(c => c.path.startsWith(`/${name}`)),
          name,
        );
      }
    });

    for (const c of cases) {
      it(`${c.name}: ${c.path} -> ${c.status} ${c.code}${c.field ? ` (${c.field})` : ''}`, async () => {
        const before = await written();
        const answer = await send(
          c.path,
          typeof c.send === 'function' ? c.send() : c.send,
        );
        assert.equal(answer.status, c.status, answer.text);
        const requestId = answer.headers['x-request-id'];
        assert.ok(
          typeof requestId === 'string' && requestId.length > 0,
          'X-Request-Id',
        );
        assert.match(
          String(answer.headers['content-type']),
          /^application\/json/,
        );
        if (c.status === 405) assert.ok(answer.headers.allow, 'Allow');
        if ((c.send as Send).method === 'HEAD') {
          assert.equal(answer.text, '', 'HEAD answers carry no body');
        } else {
          const body = JSON.parse(answer.text) as ErrorShape;
          assert.deepEqual(Object.keys(body), ['error']);
          assert.equal(body.error.code, c.code);
          assert.equal(body.error.requestId, requestId);
          assert.ok(
            body.error.message.length > 0 && body.error.message.length < 500,
          );
          if (c.field !== undefined) assert.equal(body.error.field, c.field);
          if (c.message) assert.match(body.error.message, c.message);
          assert.doesNotMatch(
            answer.text,
            /\/work\/|node_modules|build\/|at [\w.<>]+ \(|\.ts:\d|\.js:\d/,
          );
        }
        assert.equal(await written(), before, 'nothing was written');
        held++;
      });
    }

    it('refuses an endless slow body at 64 KiB, not at its end', async () => {
      const answer = await send('/generateDataset', {
        method: 'POST',
        headers: JSON_TYPE,
        chunkBytes: 4096,
        delayMs: 5,
        endless: true,
      });
      assert.equal(answer.status, 413);
      console.log(`endless body: 413 after ${answer.sent} bytes sent`);
      assert.ok(
        answer.sent < 64 * 1024 + 64 * 4096,
        `${answer.sent} bytes were sent before the 413`,
      );
    });

    it('logs each refusal with its request id', async () => {
      const answer = await send(
        '/generateDataset',
        json(SMALL, {'content-type': 'text/plain'}),
      );
      const requestId = String(answer.headers['x-request-id']);
      await new Promise(r => setTimeout(r, 200));
      const log = readFileSync(
        `${t.stack.runDir.logs}/function-generateDataset.log`,
        'utf8',
      );
      const line = log.split('\n').find(l => l.includes(requestId));
      assert.ok(line, 'a log line with the request id');
      const entry = JSON.parse(line) as {
        severity: string;
        requestId: string;
        status: number;
      };
      assert.equal(entry.requestId, requestId);
      assert.equal(entry.status, 415);
    });
  },
);

/** Resident and peak resident set (bytes) of a process, from /proc. */
function memoryOf(pid: number): {rss: number; hwm: number} {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return {rss: kb('VmRSS'), hwm: kb('VmHWM')};
}

describe(
  'a gzip bomb costs the function no memory',
  {timeout: 5 * 60_000},
  () => {
    it('generateDataset and loadMetadata peak RSS grows < 50 MB over 5 bombs each', async () => {
      if (bomb.length === 0) bomb = await gzipBomb();
      for (const [name, path, method, status] of [
        ['generateDataset', '/generateDataset', 'POST', 415],
        ['loadMetadata', '/loadMetadata?version=1', 'GET', 400],
      ] as const) {
        const pid = t.stack.functions.find(f => f.name === name)!.process.pid;
        const before = memoryOf(pid);
        for (let i = 0; i < 5; i++) {
          const answer = await send(path, {
            method,
            headers: {...JSON_TYPE, 'content-encoding': 'gzip'},
            body: bomb,
          });
          assert.equal(answer.status, status);
        }
        const afterBombs = memoryOf(pid);
        const growth = afterBombs.hwm - before.hwm;
        console.log(
          `${name} (pid ${pid}): VmHWM ${(before.hwm / 2 ** 20).toFixed(1)} -> ${(afterBombs.hwm / 2 ** 20).toFixed(1)} MiB, VmRSS ${(before.rss / 2 ** 20).toFixed(1)} -> ${(afterBombs.rss / 2 ** 20).toFixed(1)} MiB after 5 bombs of ${bomb.length} bytes`,
        );
        assert.ok(
          growth < 50 * 2 ** 20,
          `${name} peak RSS grew ${growth} bytes`,
        );
      }
    });
  },
);

describe(
  'positive controls: the door still opens',
  {timeout: 5 * 60_000},
  () => {
    let version = 0;
    it('a tiny generate with application/json; charset=utf-8 -> 201 and objects written', async () => {
      const before = await objectNames(t.bucket);
      const answer = await send(
        '/generateDataset',
        json(
          {nSamples: 1000, seed: 7, formats: ['parquet']},
          {'content-type': 'application/json; charset=utf-8'},
        ),
      );
      assert.equal(answer.status, 201, answer.text);
      const body = JSON.parse(answer.text) as {
        version: number;
        rows: number;
        seed: number;
      };
      assert.equal(body.rows, 1000);
      assert.equal(body.seed, 7);
      version = body.version;
      assert.ok(typeof answer.headers['x-request-id'] === 'string');
      const objects = await objectNames(t.bucket);
      assert.ok(objects.length > before.length, 'objects were written');
      assert.ok(objects.some(o => o.endsWith(`metadata_v${version}.json`)));
    });

    it('with an odd but valid type spelling and a chunked body -> 201', async () => {
      const answer = await send('/generateDataset', {
        method: 'POST',
        headers: {'content-type': 'Application/JSON ; Charset="UTF-8"'},
        body: Buffer.from(
          JSON.stringify({nSamples: 1000, seed: 8, formats: ['tfrecord']}),
        ),
        chunkBytes: 7,
        delayMs: 1,
      });
      assert.equal(answer.status, 201, answer.text);
    });

    it('the loaders answer 200 for it, a GET with Content-Length: 0 included', async () => {
      await waitReady(t.url, version);
      const parquet = await send(
        `/loadParquet?version=${version}&ttlSeconds=60`,
      );
      assert.equal(parquet.status, 200, parquet.text);
      assert.equal(
        (JSON.parse(parquet.text) as {version: number}).version,
        version,
      );
      const list = await send('/listDatasets?limit=5', {
        method: 'GET',
        headers: {'content-length': '0'},
      });
      assert.equal(list.status, 200, list.text);
      const metadata = await send(`/loadMetadata?version=${version}`, {
        headers: {'content-encoding': 'identity'},
      });
      assert.equal(metadata.status, 200, metadata.text);
    });

    it('evaluatePolicy answers 200 for it, nothing written', async () => {
      const before = await written();
      const answer = await send(
        '/evaluatePolicy',
        json(
          {version, policy: {type: 'softmax', beta: 10}},
          {'content-type': 'application/json; charset=utf-8'},
        ),
      );
      assert.equal(answer.status, 200, answer.text);
      const body = JSON.parse(answer.text) as Record<string, number>;
      assert.equal(body.version, version);
      assert.ok(
        body.value > body.uniform && body.value < body.best,
        answer.text,
      );
      assert.equal(await written(), before);
    });

    it('the trigger acknowledges a well-formed event for an object it does not record -> 204', async () => {
      const before = await written();
      const answer = await send(
        '/recordDatasetMetadata',
        json(
          {
            bucket: t.stack.env.DATASETS_BUCKET,
            name: 'unrelated/readme.txt',
            generation: '1',
          },
          {...CE, 'content-type': 'application/json; charset=utf-8'},
        ),
      );
      assert.equal(answer.status, 204, answer.text);
      assert.ok(answer.headers['x-request-id']);
      assert.equal(await written(), before);
    });
  },
);
