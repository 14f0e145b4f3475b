/**
 * GcsObjectSink over a fake upload stream (a plain Writable standing in for
 * what @google-cloud/storage's createWriteStream returns): every write and
 * close settles when the stream errors, is destroyed without an error, or
 * stalls, even though the stream never calls back the write in flight.
 */
import assert from 'node:assert/strict';
import {Writable} from 'node:stream';
import {describe, it} from 'node:test';
import type {Bucket, File} from '@google-cloud/storage';
import {UnavailableError} from '../../shared/errors.js';
import {
  GcsObjectSink,
  GcsObjectStore,
} from '../../shared/storage/gcs-object-store.js';

interface FakeUpload {
  stream: Writable;
  /** chunks the stream accepted (called back) */
  accepted: Buffer[];
}

/**
 * A Writable that calls back the first `acceptWrites` writes and holds every
 * later one for ever, as the storage client does when its upload failed.
 */
function fakeUpload(acceptWrites: number, finishes = false): FakeUpload {
  const accepted: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (accepted.length < acceptWrites) {
        accepted.push(chunk);
        callback();
      } // else: never called back
    },
    final(callback) {
      if (finishes) callback();
    },
  });
  return {stream, accepted};
}

function sinkOver(upload: FakeUpload, stallMs = 60_000): GcsObjectSink {
  const bucket = {name: 'bucket'} as unknown as Bucket;
  const file = {
    name: 'datasets/v1/dataset_v1.tfrecord',
    bucket,
    metadata: {},
    createWriteStream: () => upload.stream,
  } as unknown as File;
  const store = new GcsObjectStore(bucket);
  return new GcsObjectSink(file, 'application/octet-stream', true, store, {
    stallMs,
  });
}

/** Rejects if `promise` has not settled within `ms`: a hang is a failure. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not settled within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('GcsObjectSink', () => {
  it('writes and closes when the stream accepts and finishes', async () => {
    const upload = fakeUpload(Infinity, true);
    const sink = sinkOver(upload);
    const chunk = Buffer.from('abc');
    await within(1_000, sink.write(chunk));
    chunk.fill(0); // the sink copied it
    await within(1_000, sink.close());
    assert.deepEqual(Buffer.concat(upload.accepted), Buffer.from('abc'));
  });

  it('fails the write in flight when the stream is destroyed without an error', async () => {
    const upload = fakeUpload(1);
    const sink = sinkOver(upload);
    await within(1_000, sink.write(Buffer.from('a')));
    const pending = sink.write(Buffer.from('b'));
    upload.stream.destroy();
    await assert.rejects(within(1_000, pending), UnavailableError);
    await assert.rejects(within(1_000, sink.write(Buffer.from('c'))), {
      name: 'UnavailableError',
    });
    await assert.rejects(within(1_000, sink.close()), UnavailableError);
  });

  it('fails the write in flight with a 503 when the upload session is lost (404)', async () => {
    const upload = fakeUpload(0);
    const sink = sinkOver(upload);
    const pending = sink.write(Buffer.from('a'));
    upload.stream.destroy(
      Object.assign(new Error('Upload failed'), {code: 404}),
    );
    const error = await within(1_000, pending).then(
      () => assert.fail('the write succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UnavailableError, String(error));
    assert.match(error.message, /was lost by the storage service/);
  });

  it('fails close when the stream closes before it finishes', async () => {
    const upload = fakeUpload(Infinity, false);
    const sink = sinkOver(upload);
    await within(1_000, sink.write(Buffer.from('a')));
    const closing = sink.close();
    upload.stream.destroy();
    await assert.rejects(within(1_000, closing), UnavailableError);
  });

  it('fails a write that makes no progress for stallMs, and tears the stream down', async () => {
    const upload = fakeUpload(0);
    const sink = sinkOver(upload, 50);
    const started = Date.now();
    const error = await within(2_000, sink.write(Buffer.from('a'))).then(
      () => assert.fail('the write succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UnavailableError, String(error));
    assert.match(error.message, /made no progress/);
    assert.ok(Date.now() - started >= 50);
    assert.equal(upload.stream.destroyed, true);
  });

  it('an idle sink does not count as stalled', async () => {
    const upload = fakeUpload(Infinity, true);
    const sink = sinkOver(upload, 50);
    await new Promise(resolve => setTimeout(resolve, 120));
    await within(1_000, sink.write(Buffer.from('a')));
    await within(1_000, sink.close());
  });

  it('abort settles a write in flight and the stream is destroyed', async () => {
    const upload = fakeUpload(0);
    const sink = sinkOver(upload);
    const pending = sink.write(Buffer.from('a'));
    await within(1_000, sink.abort());
    await assert.rejects(within(1_000, pending));
    assert.equal(upload.stream.destroyed, true);
  });
});
