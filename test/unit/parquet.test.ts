import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {parquetMetadata, parquetReadObjects} from 'hyparquet';
import {
  bitWidthFor,
  encodeDictionaryIndices,
} from '../../shared/formats/parquet/bit-pack.js';
import {ParquetDatasetWriter} from '../../shared/formats/parquet/dataset-writer.js';
import {buildModel} from '../../shared/dataset/model.js';
import {COLUMNS, rowMaker, valueOf} from '../../shared/formats/row-schema.js';
import {rowBlocks} from '../../shared/dataset/rows.js';

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength,
  ) as ArrayBuffer;
}

async function writeAndRead(
  nSamples: number,
  nTargetStoreIds: number,
  nCreativePackIds: number,
  rowGroupRows: number,
  pageRows: number,
) {
  const model = buildModel({seed: 4, nTargetStoreIds, nCreativePackIds});
  const writer = new ParquetDatasetWriter(model, {
    createdBy: 'test',
    rowGroupRows,
    pageRows,
  });
  const chunks: Uint8Array[] = [...writer.start()];
  // each row as hyparquet reads it back: the schema's values in Parquet form
  const rowOf = rowMaker(model);
  const expected: Array<Record<string, string | bigint>> = [];
  for (const block of rowBlocks(model, 4, nSamples)) {
    for (let i = 0; i < block.count; i++) {
      const row = rowOf(block.creative[i], block.label[i]);
      expected.push(
        Object.fromEntries(
          COLUMNS.map(c => [c.name, c.type.toParquet(valueOf(row, c))]),
        ),
      );
    }
    chunks.push(...writer.push(block));
  }
  chunks.push(...writer.finish());
  const file = toArrayBuffer(Buffer.concat(chunks));
  const rows = await parquetReadObjects({file});
  return {file, rows, expected};
}

describe('ParquetDatasetWriter', () => {
  const cases: Array<[string, number, number, number, number, number]> = [
    ['one row group, one page', 1000, 10, 100, 1 << 20, 1 << 17],
    [
      'several row groups and pages, ragged ends',
      70_001,
      10,
      100,
      25_000,
      4096,
    ],
    ['one target, one creative', 100, 1, 1, 1 << 20, 1 << 17],
    ['many creatives (17-bit indices)', 140_000, 50, 100_000, 65_536, 8192],
  ];
  for (const [name, n, t, c, rowGroupRows, pageRows] of cases) {
    it(`round-trips through hyparquet: ${name}`, async () => {
      const {file, rows, expected} = await writeAndRead(
        n,
        t,
        c,
        rowGroupRows,
        pageRows,
      );
      assert.equal(rows.length, n);
      assert.deepEqual(rows, expected);
      const metadata = parquetMetadata(file);
      assert.equal(metadata.row_groups.length, Math.ceil(n / rowGroupRows));
      assert.deepEqual(
        metadata.schema.slice(1).map(e => [e.name, e.type, e.repetition_type]),
        COLUMNS.map(c => [c.name, c.type.parquet.type, c.repetition]),
      );
      for (const group of metadata.row_groups) {
        for (const column of group.columns) {
          assert.equal(column.meta_data?.codec, 'SNAPPY');
          assert.ok(column.meta_data?.encodings.includes('RLE_DICTIONARY'));
          assert.ok(column.meta_data?.dictionary_page_offset !== undefined);
        }
      }
    });
  }

  it('records exact min/max statistics per column chunk', async () => {
    const {file, expected} = await writeAndRead(
      5000,
      10,
      100,
      1 << 20,
      1 << 17,
    );
    const stats = parquetMetadata(file).row_groups[0].columns.map(
      c => c.meta_data?.statistics,
    );
    for (const [k, column] of COLUMNS.entries()) {
      const values = expected.map(r => r[column.name]).sort();
      assert.equal(stats[k]?.min_value, values[0], column.name);
      assert.equal(stats[k]?.max_value, values[values.length - 1], column.name);
      assert.equal(stats[k]?.null_count, 0n, column.name);
    }
  });
});

describe('bit packing', () => {
  it('picks the smallest width, at least 1', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 100, 1 << 20].map(bitWidthFor),
      [1, 1, 2, 2, 3, 7, 20],
    );
  });

  it('packs LSB first in groups of 8 after the width and run header', () => {
    const values = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 0, 1]);
    const identity = Int32Array.from({length: 8}, (_, i) => i);
    const out = encodeDictionaryIndices(values, 0, values.length, identity, 3);
    // width 3; header: 2 groups -> (2 << 1) | 1 = 5; 8 values * 3 bits = 3 bytes per group
    assert.deepEqual(
      Array.from(out),
      [3, 5, 0xd1, 0x58, 0x1f, 0x01, 0x00, 0x00],
    );
  });
});
