/**
 * `exploration-data fetch` of a sharded version against a real node:http
 * server on 127.0.0.1 that plays the loader functions (docs/design.md §5 shapes)
 * and serves real shard files written by the CLI's engine, with their real
 * checksums: the parallel downloads (bounded), the per-file checks, the
 * folder `verify` accepts, and every failure leaving nothing behind.
 */
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, beforeEach, describe, it} from 'node:test';
import {fileURLToPath} from 'node:url';
import {crc32c, crc32cBase64} from '../../shared/formats/crc32c.js';
import type {
  DatasetMetadata,
  ShardedObjectRecord,
} from '../../shared/metadata/document.js';

const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const VERSION = 3;
const SHARDS = 4;
const scratch = mkdtempSync(join(tmpdir(), 'exploration-fetch-shards-'));
const source = join(scratch, 'source');

/** What the server does to one file: serve it, flip a byte, cut it short, refuse it, or flip a byte and announce the flipped file's checksums. */
type Fault = 'corrupt' | 'truncate' | 'forbid' | 'consistent-corrupt' | 'stall';

let server: Server;
let base: string;
let metadata: DatasetMetadata;
const faults = new Map<string, Fault>();
let inFlight = 0;
let maxInFlight = 0;
let fileRequests = 0;
let stalled = 0;
let overlap = 4;
let held: Array<() => void> = [];

function served(name: string): Buffer {
  const bytes = readFileSync(join(source, name));
  const fault = faults.get(name);
  if (fault === 'corrupt' || fault === 'consistent-corrupt')
    bytes[bytes.length >> 1] ^= 0x01;
  if (fault === 'truncate') return bytes.subarray(0, bytes.length - 10);
  return bytes;
}

function checksumsOf(bytes: Buffer) {
  return {
    sizeBytes: bytes.length,
    crc32c: crc32cBase64(crc32c(bytes)),
    md5: createHash('md5').update(bytes).digest('base64'),
  };
}

/** The loader's answer for a format: every shard, with what GCS would report. */
function shardsAnswer(format: 'parquet' | 'tfrecord') {
  const object = metadata.objects[format] as ShardedObjectRecord;
  return {
    version: VERSION,
    expiresAt: '2026-11-25T18:00:00.000Z',
    shards: object.shards.map(shard => ({
      url: `${base}/files/${shard.name}`,
      object: `datasets/v${VERSION}/${shard.name}`,
      rows: shard.rows,
      ...(faults.get(shard.name) === 'consistent-corrupt'
        ? checksumsOf(served(shard.name))
        : {sizeBytes: shard.bytes, crc32c: shard.crc32c, md5: shard.md5}),
    })),
  };
}

before(async () => {
  const generated = spawnSync(
    process.execPath,
    [
      CLI,
      'generate',
      '--samples',
      String(SHARDS * 65_536),
      '--shards',
      String(SHARDS),
      '--seed',
      '7',
      '--dataset-version',
      String(VERSION),
      '--out',
      source,
      // a served version has md5 (Cloud Storage's); --md5 gives the same here
      '--md5',
      '--no-progress',
      '--json',
    ],
    {encoding: 'utf8', env: {...process.env, MAX_SAMPLES: ''}},
  );
  assert.equal(generated.status, 0, generated.stderr);
  metadata = JSON.parse(
    readFileSync(join(source, `metadata_v${VERSION}.json`), 'utf8'),
  ) as DatasetMetadata;

  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', base);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, {'content-type': 'application/json'});
      response.end(JSON.stringify(body));
    };
    if (url.pathname === '/loadMetadata')
      return json(200, {
        version: VERSION,
        status: 'ready',
        metadata,
        url: `${base}/files/metadata_v${VERSION}.json`,
        expiresAt: '2026-11-25T18:00:00.000Z',
      });
    if (url.pathname === '/loadParquet')
      return json(200, shardsAnswer('parquet'));
    if (url.pathname === '/loadTfrecord')
      return json(200, shardsAnswer('tfrecord'));
    if (url.pathname.startsWith('/files/')) {
      const name = url.pathname.slice('/files/'.length);
      fileRequests++;
      if (faults.get(name) === 'forbid') {
        response.writeHead(403, {'content-type': 'text/plain'});
        response.end('signature expired');
        return;
      }
      const bytes = served(name);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      response.on('finish', () => inFlight--);
      response.on('close', () => {
        if (!response.writableFinished) inFlight--;
      });
      response.writeHead(200, {'content-length': bytes.length});
      if (faults.get(name) === 'stall') {
        // Half the bytes, then nothing more until the client goes.
        response.write(bytes.subarray(0, bytes.length >> 1));
        stalled++;
        return;
      }
      // Held until `overlap` downloads are in flight (or 300 ms passed), so
      // that downloads the client runs at once overlap here however loaded
      // the machine is; the client alone bounds how many there are.
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        clearTimeout(timer);
        response.end(bytes);
      };
      const timer = setTimeout(release, 300);
      held.push(release);
      if (inFlight >= overlap) held.splice(0).forEach(r => r());
      return;
    }
    json(404, {error: {code: 'NOT_FOUND', message: `no ${url.pathname}`}});
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server?.closeAllConnections();
  await new Promise(resolve => server?.close(resolve));
  rmSync(scratch, {recursive: true, force: true});
});

beforeEach(() => {
  faults.clear();
  inFlight = 0;
  maxInFlight = 0;
  fileRequests = 0;
  stalled = 0;
  overlap = 4;
  held = [];
});

/** The CLI as a child, asynchronously: the server lives in this process. */
async function fetchCli(
  ...args: string[]
): Promise<{code: number | null; stdout: string; stderr: string}> {
  return finished(startFetch(...args));
}

function startFetch(...args: string[]) {
  return spawn(process.execPath, [CLI, 'fetch', '--base-url', base, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function finished(
  child: ReturnType<typeof startFetch>,
): Promise<{code: number | null; stdout: string; stderr: string}> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', chunk => (stdout += chunk));
  child.stderr.on('data', chunk => (stderr += chunk));
  const code = await new Promise<number | null>(resolve =>
    child.on('close', resolve),
  );
  return {code, stdout, stderr};
}

const shardNames = (format: string) =>
  Array.from(
    {length: SHARDS},
    (_, k) => `dataset_v${VERSION}-0000${k}-of-0000${SHARDS}.${format}`,
  );

interface FetchJson {
  version: number;
  shards: number;
  files: Array<{
    format: string;
    shard: number | null;
    path: string;
    bytes: number;
    crc32c: string;
    md5: string;
  }>;
  parallel: number;
  verified: boolean | null;
}

describe('exploration-data fetch, sharded', () => {
  it('downloads every shard, 4 at once, each checked, into a folder verify accepts', async () => {
    const out = join(scratch, 'fetched');
    const {code, stdout, stderr} = await fetchCli('--out', out, '--json');
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const summary = JSON.parse(stdout) as FetchJson;
    assert.equal(summary.version, VERSION);
    assert.equal(summary.shards, SHARDS);
    assert.equal(summary.parallel, 4);
    assert.equal(summary.verified, true);
    assert.deepEqual(
      readdirSync(out).sort(),
      [
        ...shardNames('parquet'),
        ...shardNames('tfrecord'),
        `metadata_v${VERSION}.json`,
      ].sort(),
    );
    // Byte for byte the files written by the engine, checksums as in the metadata.
    for (const format of ['parquet', 'tfrecord'] as const) {
      const shards = (metadata.objects[format] as ShardedObjectRecord).shards;
      const files = summary.files.filter(f => f.format === format);
      assert.deepEqual(
        files.map(f => [f.shard, f.bytes, f.crc32c, f.md5]),
        shards.map((s, k) => [k, s.bytes, s.crc32c, s.md5]),
      );
      for (const shard of shards)
        assert.ok(
          readFileSync(join(out, shard.name)).equals(
            readFileSync(join(source, shard.name)),
          ),
          shard.name,
        );
    }
    assert.equal(maxInFlight, 4, 'four downloads at once, never more');
    assert.equal(fileRequests, 2 * SHARDS + 1);
    const verify = spawnSync(process.execPath, [CLI, 'verify', out, '--json'], {
      encoding: 'utf8',
    });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as {ok: boolean}).ok, true);
  });

  it('--parallel bounds the downloads at once; the text summary names the shards', async () => {
    for (const parallel of [1, 3]) {
      maxInFlight = 0;
      overlap = parallel;
      const out = join(scratch, `fetched-${parallel}`);
      const {code, stdout, stderr} = await fetchCli(
        '--out',
        out,
        '--parallel',
        String(parallel),
        '--no-verify',
      );
      assert.equal(code, 0, stderr);
      assert.equal(maxInFlight, parallel);
      assert.match(
        stdout,
        new RegExp(
          `^dataset v${VERSION} fetched into .*fetched-${parallel}: 8 data files \\(4 shards per format\\), 32\\.1 MB in [\\d.]+ s, ${parallel} at once\\n`,
        ),
      );
      assert.match(
        stdout,
        /--no-verify: check the rest with exploration-data verify/,
      );
      assert.equal(readdirSync(out).length, 2 * SHARDS + 1);
    }
  });

  const failures: Array<[string, Fault, string, RegExp]> = [
    [
      'a shard with one byte flipped',
      'corrupt',
      `dataset_v${VERSION}-00002-of-00004.tfrecord`,
      /^exploration-data: dataset_v3-00002-of-00004\.tfrecord: the download does not match its loader's answer: crc32c \S+, expected \S+, md5 \S+, expected \S+\n$/,
    ],
    [
      'a shard cut short',
      'truncate',
      `dataset_v${VERSION}-00001-of-00004.parquet`,
      /^exploration-data: dataset_v3-00001-of-00004\.parquet: the download does not match its loader's answer: 100382 bytes, expected 100392, crc32c \S+, expected \S+, md5 \S+, expected \S+\n$/,
    ],
    [
      'a shard URL that answers 403',
      'forbid',
      `dataset_v${VERSION}-00003-of-00004.tfrecord`,
      /^exploration-data: download of dataset_v3-00003-of-00004\.tfrecord answered 403\n$/,
    ],
    [
      'a shard whose loader and bytes agree but the metadata does not (verify catches it)',
      'consistent-corrupt',
      `dataset_v${VERSION}-00000-of-00004.tfrecord`,
      /^exploration-data: the downloaded files of v3 fail \d+ of verify's \d+ checks \(first: tfrecord shard 0: crc32c: .*\); nothing kept\n$/,
    ],
  ];
  for (const [what, fault, name, message] of failures) {
    it(`${what}: one line, exit 1, nothing left behind`, async () => {
      faults.set(name, fault);
      // A folder that exists stays, empty; one the fetch made goes (checked
      // on the two ways out: a failed download, and a failed verify).
      const kept = join(scratch, `existing-${fault}`);
      mkdirSync(kept);
      const made = join(scratch, `made-${fault}`, 'deeper');
      const outs = fault.endsWith('corrupt') ? [kept, made] : [kept];
      for (const out of outs) {
        const {code, stdout, stderr} = await fetchCli('--out', out);
        assert.equal(code, 1, stdout + stderr);
        assert.match(stderr, message);
        assert.equal(stdout, '');
      }
      assert.deepEqual(readdirSync(kept), []);
      if (outs.includes(made))
        assert.throws(
          () => readdirSync(join(scratch, `made-${fault}`)),
          /ENOENT/,
        );
    });
  }

  it('Ctrl-C in the middle of the downloads: exit 1, one line, no partial file left', async () => {
    faults.set(shardNames('tfrecord')[1], 'stall');
    const out = join(scratch, 'interrupted');
    mkdirSync(out);
    const child = startFetch('--out', out);
    const done = finished(child);
    // The server counts the stall once it has sent half the bytes; the CLI
    // opens its partial file when its response arrives, a moment later on a
    // loaded machine, so both are awaited (bounded), not assumed at once.
    const partialExists = () =>
      readdirSync(out).some(name => name.includes('.partial-'));
    const deadline = Date.now() + 20_000;
    try {
      while ((stalled === 0 || !partialExists()) && Date.now() < deadline)
        await new Promise(resolve => setTimeout(resolve, 20));
      assert.equal(stalled, 1, 'the stalled shard was being downloaded');
      assert.ok(partialExists(), 'a partial file exists while it downloads');
    } catch (error) {
      child.kill('SIGKILL');
      await done;
      throw error;
    }
    child.kill('SIGINT');
    const {code, stdout, stderr} = await done;
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `exploration-data: fetch interrupted; nothing of v${VERSION} kept\n`,
    );
    assert.deepEqual(readdirSync(out), []);
  });

  it('refuses to overwrite, before downloading anything; a bad --parallel is exit 2', async () => {
    const out = join(scratch, 'occupied');
    mkdirSync(out);
    const occupant = join(out, shardNames('tfrecord')[3]);
    spawnSync('sh', ['-c', `echo mine > '${occupant}'`]);
    const taken = await fetchCli('--out', out);
    assert.equal(taken.code, 2);
    assert.equal(
      taken.stderr,
      `exploration-data: ${occupant} already exists; not overwritten\n`,
    );
    assert.equal(fileRequests, 0);
    assert.deepEqual(readdirSync(out), [shardNames('tfrecord')[3]]);
    assert.equal(readFileSync(occupant, 'utf8'), 'mine\n');

    for (const bad of ['0', '65', 'two']) {
      const {code, stderr} = await fetchCli(
        '--out',
        join(scratch, 'never'),
        '--parallel',
        bad,
      );
      assert.equal(code, 2);
      assert.equal(
        stderr,
        `exploration-data: --parallel must be an integer in 1..64, got "${bad}"\n`,
      );
    }
    assert.throws(() => readdirSync(join(scratch, 'never')), /ENOENT/);
  });
});
