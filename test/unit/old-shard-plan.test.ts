/**
 * A version written under the former shard plan keeps working: the fixture
 * test/fixtures/generator-0.2.0-shards is what generator 0.2.0's CLI wrote for
 * `generate --samples 131073 --shards 2 --seed 5 --formats parquet
 * --target-store-ids 1 --creative-pack-ids 2 --dataset-version 4` (3 blocks:
 * 2 + 1 then, 1 + 2 under today's plan). Readers follow its metadata's list;
 * nothing re-plans it.
 */
import assert from 'node:assert/strict';
import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, it} from 'node:test';
import type {DatasetRecord} from '../../shared/catalog/records.js';
import type {DatasetConfig} from '../../shared/dataset/config.js';
import {GENERATOR} from '../../shared/dataset/generator-version.js';
import {shardPlan} from '../../shared/dataset/shard-plan.js';
import {readMetadata} from '../../shared/metadata/read.js';
import {allocationMismatch} from '../../shared/service/allocation-check.js';
import {verifyDirectory} from '../../shared/verify/verify.js';

const FIXTURE = fileURLToPath(
  new URL('../../../test/fixtures/generator-0.2.0-shards', import.meta.url),
);
const OLD_ROWS = [131_072, 1];

let metadata: Record<string, unknown>;
let scratch: string;

before(async () => {
  metadata = JSON.parse(
    await readFile(join(FIXTURE, 'metadata_v4.json'), 'utf8'),
  ) as Record<string, unknown>;
  scratch = await mkdtemp(join(tmpdir(), 'exploration-old-plan-'));
});
after(() => rm(scratch, {recursive: true, force: true}));

describe('a version of generator 0.2.0 (the former shard plan)', () => {
  it("is the former plan: shard rows that today's plan does not give", async () => {
    const read = await readMetadata([
      await readFile(join(FIXTURE, 'metadata_v4.json')),
    ]);
    assert.deepEqual(read.head.generator, {
      name: 'exploration-data',
      version: '0.2.0',
    });
    const parquet = read.head.objects.parquet as {shards: {rows: number}[]};
    assert.deepEqual(
      parquet.shards.map(s => s.rows),
      OLD_ROWS,
    );
    assert.deepEqual(
      shardPlan(131_073, 2).shards.map(s => s.end - s.start),
      [65_536, 65_537],
    );
  });

  it('verify passes it, following its metadata', async () => {
    const report = await verifyDirectory(FIXTURE);
    assert.equal(
      report.ok,
      true,
      report.checks
        .filter(c => !c.ok)
        .map(c => `${c.name}: ${c.detail}`)
        .join('; '),
    );
    assert.equal(report.rows.parquet, 131_073);
    const layout = report.checks.find(c => c.name.includes('named and sized'));
    assert.deepEqual(layout, {
      name: 'parquet: 2 shards named and sized as generator 0.2.0 listed them (consecutive whole blocks)',
      ok: true,
      detail: '2 shards of 1..131072 rows',
    });
    assert.equal(report.shardRowDigests?.parquet?.length, 2);
  });

  it('verify fails the same files claimed by this generator: its plan puts other rows in each shard', async () => {
    const copy = join(scratch, 'claimed');
    await cp(FIXTURE, copy, {recursive: true});
    await writeFile(
      join(copy, 'metadata_v4.json'),
      JSON.stringify({...metadata, generator: {...GENERATOR}}),
    );
    const report = await verifyDirectory(copy);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.filter(c => !c.ok).map(c => [c.name, c.detail]),
      [
        [
          'parquet: 2 shards named and sized as docs/design.md §3 places rows',
          'shard 0 has 131072 rows, expected 65536 (rows 0..65535)',
        ],
      ],
    );
  });

  it('verify fails an old version whose listed shards do not add up', async () => {
    const copy = join(scratch, 'short');
    await cp(FIXTURE, copy, {recursive: true});
    const spoiled = structuredClone(metadata) as {
      objects: {parquet: {shards: {rows: number}[]}};
    };
    spoiled.objects.parquet.shards[0].rows = 65_536;
    await writeFile(join(copy, 'metadata_v4.json'), JSON.stringify(spoiled));
    const report = await verifyDirectory(copy);
    assert.equal(report.ok, false);
    const failed = report.checks.filter(c => !c.ok).map(c => c.detail);
    assert.ok(
      failed.includes('the shards hold 65537 rows, the config 131073'),
      failed.join('; '),
    );
  });

  describe('the recorder (allocationMismatch)', () => {
    /** The fixture as the service names objects: datasets/v4/... */
    function inBucket(generator: {name: string; version: string}) {
      const copy = structuredClone(metadata) as {
        generator: unknown;
        objects: {parquet: {shards: {name: string}[]}};
      };
      copy.generator = generator;
      for (const shard of copy.objects.parquet.shards)
        shard.name = `datasets/v4/${shard.name}`;
      return copy as unknown as Record<string, unknown>;
    }
    const allocation = (generator: {
      name: string;
      version: string;
    }): DatasetRecord => ({
      version: 4,
      status: 'generating',
      config: metadata.config as DatasetConfig,
      createdAt: metadata.createdAt as string,
      generator,
    });
    const old = {name: 'exploration-data', version: '0.2.0'};

    it('accepts the metadata of a version allocated by 0.2.0', () => {
      assert.equal(
        allocationMismatch(inBucket(old), allocation(old), 'datasets/'),
        undefined,
      );
    });

    it('refuses those rows from a version of this generator', () => {
      assert.equal(
        allocationMismatch(
          inBucket(GENERATOR),
          allocation({...GENERATOR}),
          'datasets/',
        ),
        "metadata's parquet shards: shard 0 has 131072 rows, expected 65536 (rows 0..65535)",
      );
    });

    it('refuses an old version whose shards are not whole blocks', () => {
      const spoiled = inBucket(old) as unknown as {
        objects: {parquet: {shards: {rows: number}[]}};
      };
      spoiled.objects.parquet.shards[0].rows = 131_071;
      spoiled.objects.parquet.shards[1].rows = 2;
      assert.equal(
        allocationMismatch(
          spoiled as unknown as Record<string, unknown>,
          allocation(old),
          'datasets/',
        ),
        "metadata's parquet shards: shard 0 has 131071 rows, not a whole number of 65536-row blocks",
      );
    });
  });
});
