import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {frameworkError} from '../../functions/framework-hook.js';
import {toHttpError} from '../../functions/http.js';
import {errorBody} from '../../functions/http-error.js';
import {
  STATUS_TABLE,
  VersionNotReadyError,
} from '../../shared/catalog/statuses.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  DataLossError,
} from '../../shared/errors.js';
import {
  parseListParameters,
  parseVersionSelector,
} from '../../shared/service/load-service.js';
import {resolveTtl} from '../../shared/storage/signed-url.js';

describe('loader parameters', () => {
  it('parses version=N|latest', () => {
    assert.equal(parseVersionSelector('latest'), 'latest');
    assert.equal(parseVersionSelector('42'), 42);
    for (const bad of [
      undefined,
      '',
      '0',
      '-1',
      '1.5',
      '01',
      'LATEST',
      '1e3',
      '9999999999999999',
    ]) {
      assert.throws(
        () => parseVersionSelector(bad),
        InvalidArgumentError,
        String(bad),
      );
    }
  });

  it('bounds ttlSeconds by the cap', () => {
    assert.equal(resolveTtl(undefined, 3600, 604800), 3600);
    assert.equal(resolveTtl(undefined, 3600, 60), 60);
    assert.equal(resolveTtl('604800', 3600, 604800), 604800);
    for (const bad of ['0', '604801', '-5', '1.5', 'x', '']) {
      assert.throws(
        () => resolveTtl(bad, 3600, 604800),
        /ttlSeconds must be an integer in 1\.\.604800/,
        bad,
      );
    }
  });

  it('pages with opaque tokens and a bounded limit', () => {
    assert.deepEqual(parseListParameters(undefined, undefined), {limit: 20});
    const token = Buffer.from('after:17').toString('base64url');
    assert.deepEqual(parseListParameters('5', token), {limit: 5, after: 17});
    assert.throws(() => parseListParameters('0', undefined), /limit/);
    assert.throws(() => parseListParameters('101', undefined), /limit/);
    assert.throws(
      () => parseListParameters(undefined, 'after:17'),
      /pageToken/,
    );
  });
});

describe('errors to HTTP', () => {
  const cases: Array<[unknown, number, string]> = [
    [new InvalidArgumentError('bad', 'nSamples'), 400, 'INVALID_ARGUMENT'],
    [new NotFoundError('no'), 404, 'NOT_FOUND'],
    [new FailedPreconditionError('wait'), 409, 'FAILED_PRECONDITION'],
    [new DataLossError('corrupt'), 500, 'INTERNAL'],
    [new Error('/work/secret/path exploded'), 500, 'INTERNAL'],
  ];
  for (const [error, status, code] of cases) {
    it(`${(error as Error).constructor.name} -> ${status}`, () => {
      const http = toHttpError(error, 'req-1');
      assert.equal(http.status, status);
      assert.equal(http.code, code);
      if (status === 500) {
        assert.doesNotMatch(http.message, /secret|corrupt/);
        assert.match(http.message, /req-1/);
      }
    });
  }

  it('a version not ready: 409 with versionStatus in the JSON, Retry-After while generating', () => {
    const record = {
      version: 3,
      status: 'generating' as const,
      config: resolveConfig({}),
      createdAt: '2026-01-01T00:00:00.000Z',
      generator: {name: 'g', version: '1'},
      leaseExpiresAt: '2026-01-01T00:10:00.000Z',
    };
    const generating = toHttpError(new VersionNotReadyError(record), 'r-1');
    assert.equal(generating.status, 409);
    assert.deepEqual(generating.headers, {
      'Retry-After': String(STATUS_TABLE.generating.retryAfterSeconds),
    });
    assert.deepEqual(errorBody(generating, 'r-1'), {
      error: {
        code: 'FAILED_PRECONDITION',
        message:
          'dataset version 3 is not ready yet (still generating, at most until 2026-01-01T00:10:00.000Z); retry shortly',
        versionStatus: 'generating',
        requestId: 'r-1',
      },
    });
    const failed = toHttpError(
      new VersionNotReadyError({...record, status: 'failed', error: 'boom'}),
      'r-2',
    );
    assert.equal(failed.status, 409);
    assert.deepEqual(failed.headers, {});
    assert.deepEqual(errorBody(failed, 'r-2').error, {
      code: 'FAILED_PRECONDITION',
      message: 'dataset version 3 failed and will never be ready: boom',
      versionStatus: 'failed',
      requestId: 'r-2',
    });
    // any other 409 carries no versionStatus
    const other = toHttpError(new FailedPreconditionError('wait'), 'r-3');
    assert.equal(errorBody(other, 'r-3').error.versionStatus, undefined);
  });

  it('answers errors Express passes on as JSON errors', () => {
    assert.equal(
      frameworkError({status: 400, type: 'entity.parse.failed'}, 'r').message,
      'the body is not valid JSON',
    );
    assert.equal(frameworkError({status: 413}, 'r').code, 'PAYLOAD_TOO_LARGE');
    assert.equal(
      frameworkError({status: 415, type: 'charset.unsupported'}, 'r').code,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assert.equal(frameworkError(undefined, 'r').status, 404);
    const crash = frameworkError(new Error('/work/x boom'), 'req-9');
    assert.equal(crash.status, 500);
    assert.doesNotMatch(crash.message, /boom|work/);
    assert.match(crash.message, /req-9/);
  });
});
