/**
 * A worker thread that hashes the streams sent to it, in order, with the
 * algorithms named in its workerData. Off the main thread, MD5 and SHA-256
 * of a 1.2 GB file cost no generation time.
 */
import {createHash, type Hash} from 'node:crypto';
import {parentPort, workerData} from 'node:worker_threads';
import {crc32c, crc32cBase64} from '../formats/crc32c.js';
import {
  threadCpuMs,
  type DigestAlgorithm,
  type WorkerReply,
  type WorkerRequest,
} from './digests.js';

interface StreamState {
  md5?: Hash;
  sha256?: Hash;
  crc?: number;
  bytes: number;
}

const algorithms = workerData as DigestAlgorithm[];
const streams = new Map<number, StreamState>();
const port = parentPort;
if (!port) throw new Error('digest-worker must run as a worker thread');

function stateOf(stream: number): StreamState {
  let state = streams.get(stream);
  if (!state) {
    state = {bytes: 0};
    if (algorithms.includes('md5')) state.md5 = createHash('md5');
    if (algorithms.includes('sha256')) state.sha256 = createHash('sha256');
    if (algorithms.includes('crc32c')) state.crc = 0;
    streams.set(stream, state);
  }
  return state;
}

port.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const state = stateOf(request.stream);
    if (request.op === 'update') {
      const started = threadCpuMs();
      const chunk = request.chunk;
      state.md5?.update(chunk);
      state.sha256?.update(chunk);
      if (state.crc !== undefined) state.crc = crc32c(chunk, state.crc);
      state.bytes += chunk.byteLength;
      reply = {
        op: 'updated',
        stream: request.stream,
        bytes: chunk.byteLength,
        ms: threadCpuMs() - started,
      };
    } else {
      streams.delete(request.stream);
      const values: Partial<Record<DigestAlgorithm, string>> = {};
      if (state.md5) values.md5 = state.md5.digest('base64');
      if (state.sha256) values.sha256 = state.sha256.digest('hex');
      if (state.crc !== undefined) values.crc32c = crc32cBase64(state.crc);
      reply = {
        op: 'finished',
        stream: request.stream,
        bytes: state.bytes,
        values,
      };
    }
  } catch (error) {
    reply = {op: 'failed', stream: request.stream, message: String(error)};
  }
  port.postMessage(reply);
});
