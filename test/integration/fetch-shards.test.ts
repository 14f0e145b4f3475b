/**
 * The clients on a sharded version, end to end on the local stack (its own
 * stack for this file): POST answers 202, the shards go through the Pub/Sub
 * emulator to generateShard, the version becomes ready; then
 * `exploration-data fetch` downloads every shard in parallel, each checked,
 * into a folder that `verify` accepts and whose shards are the objects in
 * the bucket byte for byte; `npm run smoke -- --shards` does the same round.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdtemp, readdir, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'node:test';
import {
  ApiClient,
  generateAndWait,
  isGenerating,
  isShardedLink,
} from '../../clients/typescript/index.js';
import {REPO_ROOT} from '../support/python.js';
import {startTestStack, type TestStack} from '../support/stack.js';

const SHARDS = 4;
const ROWS = SHARDS * 65_536 - 1_000; // the last shard holds a partial block

let t: TestStack;
let scratch: string;
let version: number;
before(async () => {
  t = await startTestStack();
  scratch = await mkdtemp(join(tmpdir(), 'exploration-fetch-shards-'));
  const done = await generateAndWait(
    new ApiClient({baseUrl: t.url}),
    {nSamples: ROWS, shards: SHARDS, seed: 11},
    {timeoutMs: 5 * 60_000, intervalMs: 200},
  );
  assert.ok(isGenerating(done.answer), JSON.stringify(done.answer));
  assert.deepEqual(done.answer, {
    version: done.answer.version,
    status: 'generating',
    shards: SHARDS,
    rows: ROWS,
    seed: 11,
  });
  version = done.answer.version;
});
after(async () => {
  await t?.stop();
  if (scratch) await rm(scratch, {recursive: true, force: true});
});

/** A script as a child, asynchronously: the stack's router lives in this process. */
async function run(
  script: string,
  ...args: string[]
): Promise<{code: number | null; out: string; err: string}> {
  const child = spawn(process.execPath, [`${REPO_ROOT}${script}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', chunk => (out += chunk));
  child.stderr.on('data', chunk => (err += chunk));
  const code = await new Promise<number | null>(resolve =>
    child.on('close', resolve),
  );
  return {code, out, err};
}

const shardName = (k: number, ext: string) =>
  `dataset_v${version}-${String(k).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.${ext}`;

describe(
  'clients on a sharded version (local stack)',
  {timeout: 10 * 60_000},
  () => {
    it('the loaders list every shard in order, with rows and checksums', async () => {
      const client = new ApiClient({baseUrl: t.url});
      for (const [ext, link] of [
        ['parquet', await client.loadParquet(version)],
        ['tfrecord', await client.loadTfrecord(version)],
      ] as const) {
        assert.ok(isShardedLink(link), ext);
        assert.deepEqual(
          link.shards.map(s => [s.object.split('/').pop(), s.rows]),
          [65_536, 65_536, 65_536, 64_536].map((rows, k) => [
            shardName(k, ext),
            rows,
          ]),
        );
        for (const shard of link.shards)
          assert.ok(
            shard.url.includes(shard.object.split('/').pop()!),
            shard.url,
          );
      }
    });

    it('fetch downloads every shard, checks each, and verify passes on the folder', async () => {
      const out = join(scratch, 'fetched');
      const fetched = await run(
        'build/cli/main.js',
        'fetch',
        '--base-url',
        t.url,
        '--out',
        out,
        '--dataset-version',
        String(version),
        '--parallel',
        '3',
        '--json',
      );
      assert.equal(fetched.code, 0, fetched.out + fetched.err);
      const summary = JSON.parse(fetched.out) as {
        version: number;
        shards: number;
        verified: boolean;
        files: Array<{
          format: string;
          shard: number;
          path: string;
          md5: string;
        }>;
      };
      assert.equal(summary.version, version);
      assert.equal(summary.shards, SHARDS);
      assert.equal(summary.verified, true);
      assert.deepEqual(
        (await readdir(out)).sort(),
        [
          ...Array.from({length: SHARDS}, (_, k) => shardName(k, 'parquet')),
          ...Array.from({length: SHARDS}, (_, k) => shardName(k, 'tfrecord')),
          `metadata_v${version}.json`,
        ].sort(),
      );
      // Each shard is the object in the bucket, byte for byte.
      for (const file of summary.files) {
        const name = file.path.split('/').pop()!;
        const [bucketBytes] = await t.bucket
          .file(`datasets/v${version}/${name}`)
          .download();
        const local = await readFile(file.path);
        assert.ok(local.equals(bucketBytes), name);
        assert.equal(
          createHash('md5').update(local).digest('base64'),
          file.md5,
          name,
        );
      }
      const verified = await run('build/cli/main.js', 'verify', out, '--json');
      assert.equal(verified.code, 0, verified.out + verified.err);
      const report = JSON.parse(verified.out) as {
        ok: boolean;
        checks: Array<{name: string; ok: boolean}>;
      };
      assert.equal(report.ok, true);
      assert.ok(
        report.checks.some(c => /4 shards named and sized/.test(c.name)),
        'the shard layout was checked',
      );
    });

    it('npm run smoke -- --shards 2 generates, waits and checks every shard', async () => {
      const {code, out, err} = await run(
        'build/scripts/smoke.js',
        '--base-url',
        t.url,
        '--samples',
        String(2 * 65_536),
        '--shards',
        '2',
      );
      assert.equal(code, 0, out + err);
      assert.match(
        out,
        /generateDataset: version \d+ accepted \(202\), 131072 rows in 2 shards/,
      );
      assert.match(
        out,
        /loadParquet: downloaded 2 shards, \d+ bytes, each one's size, md5 and crc32c match/,
      );
      assert.match(
        out,
        /loadTfrecord: downloaded 2 shards, 15859712 bytes, each one's size, md5 and crc32c match/,
      );
      assert.match(out, /smoke: passed/);
    });
  },
);
