/**
 * fake-gcs-server's resident memory per upload mode: one object of --mib MiB
 * streamed through the storage front (as the functions do) by each way a
 * client can upload, on a fresh server per mode, with VmRSS sampled every
 * 100 ms; for each binary given. This is how the upload mode of the local
 * stack was chosen (docs/local-stack-memory.md). Measures; asserts nothing.
 *
 *   node build/bench/fake-gcs-upload-modes.js --bin NAME=PATH [--bin NAME=PATH]...
 *     [--mib 256]
 *
 * Modes: the Node.js client's resumable upload as one streaming request (its
 * default, what GcsObjectSink does), the same with chunkSize 8 MiB (one
 * request per chunk), its multipart upload (resumable: false), and a simple
 * media upload (uploadType=media) streamed with node:http.
 */
import {Storage} from '@google-cloud/storage';
import {mkdtemp, rm} from 'node:fs/promises';
import {request} from 'node:http';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {Readable, type Writable} from 'node:stream';
import {pipeline} from 'node:stream/promises';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {freePort, LOOPBACK} from '../local/ports.js';
import {spawnInGroup, type ManagedProcess} from '../local/process-group.js';
import {startStorageFront} from '../local/storage-front.js';
import {httpOk, waitUntil} from '../local/wait.js';
import {RssSampler} from './process-rss.js';

const MiB = 1024 * 1024;
const BUCKET = 'upload-modes';
const PROJECT = 'upload-modes';

export const UPLOAD_MODES = [
  'resumable, one request',
  'resumable, chunkSize 8 MiB',
  'multipart',
  'media',
] as const;
export type UploadMode = (typeof UPLOAD_MODES)[number];

/** `mib` MiB of bytes, in 1 MiB chunks of one random buffer. */
function content(mib: number): Readable {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4)
    block.writeUInt32LE((i * 2654435761) >>> 0, i);
  let left = mib;
  return new Readable({
    read() {
      this.push(left-- > 0 ? block : null);
    },
  });
}

function mediaUpload(base: string, name: string, mib: number): Promise<void> {
  return new Promise((done, fail) => {
    const req = request(
      `${base}/upload/storage/v1/b/${BUCKET}/o?uploadType=media&ifGenerationMatch=0&name=${encodeURIComponent(name)}`,
      {method: 'POST', headers: {'content-type': 'application/octet-stream'}},
      res => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? done()
            : fail(new Error(`media upload answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', fail);
    content(mib).pipe(req);
  });
}

async function upload(
  storage: Storage,
  base: string,
  mode: UploadMode,
  mib: number,
): Promise<void> {
  const name = `object-${mode.replace(/\W+/g, '-')}`;
  if (mode === 'media') return mediaUpload(base, name, mib);
  const stream: Writable = storage
    .bucket(BUCKET)
    .file(name)
    .createWriteStream({
      resumable: mode !== 'multipart',
      chunkSize: mode === 'resumable, chunkSize 8 MiB' ? 8 * MiB : undefined,
      validation: false,
      preconditionOpts: {ifGenerationMatch: 0},
      metadata: {contentType: 'application/octet-stream'},
    });
  await pipeline(content(mib), stream);
}

export interface ModeRun {
  binary: string;
  mode: UploadMode;
  mib: number;
  seconds: number;
  idleBytes: number;
  peakBytes: number;
  /** two seconds after the upload */
  afterBytes: number;
  error?: string;
}

/** One upload on a fresh fake-gcs-server (and front); both stopped after. */
export async function measureUploadMode(
  label: string,
  binary: string,
  mode: UploadMode,
  mib: number,
): Promise<ModeRun> {
  const dir = await mkdtemp(join(tmpdir(), 'upload-modes-'));
  const port = await freePort();
  const frontPort = await freePort();
  let server: ManagedProcess | undefined;
  const front = await startStorageFront(frontPort, port);
  const base = `http://${LOOPBACK}:${frontPort}`;
  try {
    server = spawnInGroup({
      name: 'fake-gcs-server',
      command: binary,
      args: [
        '-backend',
        'filesystem',
        '-filesystem-root',
        join(dir, 'gcs'),
        '-scheme',
        'http',
        '-host',
        LOOPBACK,
        '-port',
        String(port),
        '-public-host',
        `${LOOPBACK}:${frontPort}`,
        '-external-url',
        base,
        '-log-level',
        'warn',
      ],
      env: process.env,
      logFile: join(dir, 'fake-gcs-server.log'),
    });
    const started = server;
    await waitUntil(
      () => httpOk(`http://${LOOPBACK}:${port}/_internal/healthcheck`),
      {
        what: 'fake-gcs-server',
        timeoutMs: 30_000,
        intervalMs: 50,
        process: started,
      },
    );
    process.env.STORAGE_EMULATOR_HOST = base;
    const storage = new Storage({projectId: PROJECT});
    await storage.createBucket(BUCKET);
    const sampler = new RssSampler(
      () => new Map([[started.pid, 'fake-gcs-server']]),
      100,
    );
    const idleBytes = sampler.summary().last.total;
    const t0 = performance.now();
    let error: string | undefined;
    try {
      await upload(storage, base, mode, mib);
    } catch (err) {
      error = String(err);
    }
    const seconds = (performance.now() - t0) / 1000;
    const peakBytes = sampler.summary().peakTotal;
    await new Promise(r => setTimeout(r, 2000));
    const afterBytes = sampler.stop().last.total;
    return {
      binary: label,
      mode,
      mib,
      seconds,
      idleBytes,
      peakBytes,
      afterBytes,
      error,
    };
  } finally {
    await server?.stop();
    await front.close();
    await rm(dir, {recursive: true, force: true});
  }
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      bin: {type: 'string', multiple: true, default: []},
      mib: {type: 'string', default: '256'},
    },
  });
  const mib = Number(values.mib);
  const bins = values.bin.map(b => {
    const at = b.indexOf('=');
    return at > 0 ? [b.slice(0, at), b.slice(at + 1)] : [b, b];
  });
  if (bins.length === 0 || !Number.isInteger(mib) || mib < 1) {
    process.stderr.write(
      'usage: node build/bench/fake-gcs-upload-modes.js --bin NAME=PATH [--bin NAME=PATH]... [--mib 256]\n',
    );
    process.exit(2);
  }
  const mb = (b: number) => (b / MiB).toFixed(0).padStart(7);
  process.stdout.write(
    `${'binary'.padEnd(12)} ${'mode'.padEnd(28)} ${'idle'.padStart(7)} ${'peak'.padStart(7)} ${'+2s'.padStart(7)} ${'s'.padStart(6)}  (RSS MiB, ${mib} MiB object)\n`,
  );
  for (const [label, binary] of bins) {
    for (const mode of UPLOAD_MODES) {
      const run = await measureUploadMode(label, binary, mode, mib);
      process.stdout.write(
        `${label.padEnd(12)} ${mode.padEnd(28)} ${mb(run.idleBytes)} ${mb(run.peakBytes)} ${mb(run.afterBytes)} ${run.seconds.toFixed(1).padStart(6)}${run.error ? `  FAILED: ${run.error}` : ''}\n`,
      );
    }
  }
}

if (
  process.argv[1] &&
  resolve(process.argv[1]) === fileURLToPath(import.meta.url)
)
  await main();
