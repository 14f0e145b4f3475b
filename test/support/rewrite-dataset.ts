/**
 * Rewrites a generated one-file dataset's data files with its own row
 * drawer, each block passed through a tampering function first, then sets
 * the metadata's objects (sizes, checksums) and empirical tallies to what
 * the new files hold: a tampered log that only verify's checks of the rows
 * themselves can tell from an honest one.
 */
import {createHash} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {blockCount} from '../../shared/dataset/blocks.js';
import {buildModel, type DatasetModel} from '../../shared/dataset/model.js';
import type {RowBlock} from '../../shared/dataset/rows.js';
import {crc32c, crc32cBase64} from '../../shared/formats/crc32c.js';
import {ParquetDatasetWriter} from '../../shared/formats/parquet/dataset-writer.js';
import {rowSchemaFor} from '../../shared/formats/row-schema.js';
import {TfrecordBlockEncoder} from '../../shared/formats/tfrecord/block-encoder.js';
import {resolveConfig} from '../../shared/dataset/config.js';
import {rowDrawerFor} from '../../shared/policy/row-drawer.js';

export type Tamper = (block: RowBlock, model: DatasetModel) => void;

interface FileRecord {
  name: string;
  rows: number;
  bytes: number;
  crc32c: string;
  md5?: string;
  sha256: string;
}

export function rewriteDataset(dir: string, tamper: Tamper): void {
  const metadataPath = join(dir, 'metadata_v1.json');
  const metadata = JSON.parse(readFileSync(metadataPath, 'utf8'));
  const config = resolveConfig(metadata.config);
  const model = buildModel(config);
  const schema = rowSchemaFor(config);
  const drawer = rowDrawerFor(config, model);
  const block = drawer.newBlock();
  const objects = metadata.objects as Record<string, FileRecord>;
  const parquet = objects.parquet
    ? new ParquetDatasetWriter(model, {createdBy: 'tampered', schema})
    : null;
  const tfrecord = objects.tfrecord
    ? new TfrecordBlockEncoder(model, {schema})
    : null;
  const parquetChunks: Uint8Array[] = parquet ? [...parquet.start()] : [];
  const tfrecordChunks: Buffer[] = [];
  const slot = tfrecord
    ? Buffer.alloc(tfrecord.bytesFor(block.creative.length))
    : null;
  const storeRows = new Float64Array(model.targetIds.length);
  const storePositives = new Float64Array(model.targetIds.length);
  for (let b = 0; b < blockCount(config.nSamples); b++) {
    drawer.draw(b, block);
    tamper(block, model);
    for (let i = 0; i < block.count; i++) {
      const t = model.creativeTarget[block.creative[i]];
      storeRows[t]++;
      storePositives[t] += block.label[i];
    }
    if (parquet) parquetChunks.push(...parquet.push(block));
    if (tfrecord && slot)
      tfrecordChunks.push(Buffer.from(tfrecord.encode(block, slot)));
  }
  if (parquet) parquetChunks.push(...parquet.finish());
  const write = (record: FileRecord, bytes: Buffer) => {
    writeFileSync(join(dir, record.name), bytes);
    record.bytes = bytes.length;
    record.crc32c = crc32cBase64(crc32c(bytes));
    if (record.md5 !== undefined)
      record.md5 = createHash('md5').update(bytes).digest('base64');
    record.sha256 = createHash('sha256').update(bytes).digest('hex');
  };
  if (objects.parquet) write(objects.parquet, Buffer.concat(parquetChunks));
  if (objects.tfrecord) write(objects.tfrecord, Buffer.concat(tfrecordChunks));
  let positives = 0;
  model.targetIds.forEach((id, t) => {
    const entry = metadata.empirical.perTargetStore[id];
    entry.rows = storeRows[t];
    entry.positives = storePositives[t];
    entry.rate = storeRows[t] > 0 ? storePositives[t] / storeRows[t] : null;
    positives += storePositives[t];
  });
  metadata.empirical.positives = positives;
  metadata.empirical.rate = positives / config.nSamples;
  writeFileSync(metadataPath, JSON.stringify(metadata, null, 2) + '\n');
}

/** Edits the metadata JSON in place. */
export function editMetadata(
  dir: string,
  edit: (metadata: Record<string, unknown>) => void,
): void {
  const path = join(dir, 'metadata_v1.json');
  const metadata = JSON.parse(readFileSync(path, 'utf8'));
  edit(metadata);
  writeFileSync(path, JSON.stringify(metadata, null, 2) + '\n');
}
