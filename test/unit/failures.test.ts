/** failureKind: which errors are retried (docs/design.md §6), one table. */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {
  describeFailure,
  failureKind,
  type FailureKind,
} from '../../shared/catalog/failures.js';
import {
  AlreadyExistsError,
  DataLossError,
  InvalidArgumentError,
  UnavailableError,
} from '../../shared/errors.js';

const withCode = (code: unknown, message = 'x') =>
  Object.assign(new Error(message), {code});

const CASES: Array<[string, unknown, FailureKind]> = [
  ['Cloud Storage 429', withCode(429), 'transient'],
  ['Cloud Storage 500', withCode(500), 'transient'],
  ['Cloud Storage 502', withCode(502), 'transient'],
  ['Cloud Storage 503', withCode(503), 'transient'],
  ['Cloud Storage 504', withCode(504), 'transient'],
  ['Cloud Storage 408', withCode(408), 'transient'],
  ['Cloud Storage 400', withCode(400), 'deterministic'],
  ['Cloud Storage 403', withCode(403), 'deterministic'],
  ['Cloud Storage 404', withCode(404), 'deterministic'],
  ['Cloud Storage 412', withCode(412), 'deterministic'],
  [
    'gaxios response 503',
    Object.assign(new Error('x'), {response: {status: 503}}),
    'transient',
  ],
  [
    'gaxios response 401',
    Object.assign(new Error('x'), {response: {status: 401}}),
    'deterministic',
  ],
  ['status 500', Object.assign(new Error('x'), {status: 500}), 'transient'],
  ['Firestore UNAVAILABLE (14)', withCode(14), 'transient'],
  ['Firestore ABORTED (10)', withCode(10), 'transient'],
  ['Firestore DEADLINE_EXCEEDED (4)', withCode(4), 'transient'],
  ['Firestore RESOURCE_EXHAUSTED (8)', withCode(8), 'transient'],
  ['Firestore INVALID_ARGUMENT (3)', withCode(3), 'deterministic'],
  ['Firestore NOT_FOUND (5)', withCode(5), 'deterministic'],
  ['Firestore ALREADY_EXISTS (6)', withCode(6), 'deterministic'],
  ['Firestore PERMISSION_DENIED (7)', withCode(7), 'deterministic'],
  ['Firestore FAILED_PRECONDITION (9)', withCode(9), 'deterministic'],
  ['Firestore INTERNAL (13)', withCode(13), 'deterministic'],
  ['ECONNRESET', withCode('ECONNRESET'), 'transient'],
  ['ECONNREFUSED', withCode('ECONNREFUSED'), 'transient'],
  ['ETIMEDOUT', withCode('ETIMEDOUT'), 'transient'],
  ['EPIPE', withCode('EPIPE'), 'transient'],
  ['undici socket', withCode('UND_ERR_SOCKET'), 'transient'],
  [
    'fetch failed caused by ECONNRESET',
    new TypeError('fetch failed', {cause: withCode('ECONNRESET')}),
    'transient',
  ],
  [
    'AggregateError with a 503 inside',
    new AggregateError([new Error('a'), withCode(503)]),
    'transient',
  ],
  ['ENOENT', withCode('ENOENT'), 'deterministic'],
  [
    'RangeError',
    new RangeError('Maximum call stack size exceeded'),
    'deterministic',
  ],
  ['TypeError', new TypeError('x is not a function'), 'deterministic'],
  ['SyntaxError', new SyntaxError('Unexpected token'), 'deterministic'],
  ['UnavailableError', new UnavailableError('busy'), 'transient'],
  ['AlreadyExistsError', new AlreadyExistsError('taken'), 'deterministic'],
  ['DataLossError', new DataLossError('crc'), 'deterministic'],
  ['InvalidArgumentError', new InvalidArgumentError('bad'), 'deterministic'],
  ['a string', 'boom', 'deterministic'],
  ['undefined', undefined, 'deterministic'],
  ['null', null, 'deterministic'],
];

describe('failureKind', () => {
  for (const [what, error, kind] of CASES) {
    it(`${what} -> ${kind}`, () => {
      assert.equal(failureKind(error), kind);
    });
  }

  it('does not loop on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', {cause: a});
    (a as {cause?: unknown}).cause = b;
    assert.equal(failureKind(a), 'deterministic');
  });

  it('describes an error by name and message, never a stack', () => {
    assert.equal(
      describeFailure(new RangeError('too big')),
      'RangeError: too big',
    );
    assert.equal(describeFailure('plain'), 'plain');
  });
});
