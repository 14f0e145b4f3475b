/**
 * Reads a TFRecord file (GZIP when its name ends in .gz), verifying both CRCs
 * of every record and parsing each tf.train.Example.
 */
import {createReadStream} from 'node:fs';
import {createGunzip} from 'node:zlib';
import type {Readable} from 'node:stream';
import {decodeExample, type ExampleRow} from '../formats/tfrecord/example.js';
import {TfrecordDeframer} from '../formats/tfrecord/framing.js';
import {RowCollector, type RowsSummary} from './row-sink.js';

/**
 * A dataset repeats a few thousand distinct payloads millions of times, so
 * each distinct payload is parsed once and looked up by its exact bytes after
 * that (the same bytes always parse the same). Bounded, for datasets with
 * very many creatives.
 */
const MAX_CACHED_PAYLOADS = 200_000;

export async function readTfrecordRows(path: string): Promise<RowsSummary> {
  const file = createReadStream(path, {highWaterMark: 4 * 1024 * 1024});
  const stream: Readable = path.endsWith('.gz')
    ? file.pipe(createGunzip())
    : file;
  file.on('error', error => stream.destroy(error));
  const deframer = new TfrecordDeframer();
  const collector = new RowCollector();
  const parsed = new Map<string, ExampleRow>();
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (const payload of deframer.push(chunk)) {
      const key = Buffer.from(
        payload.buffer,
        payload.byteOffset,
        payload.byteLength,
      ).toString('latin1');
      let row = parsed.get(key);
      if (!row) {
        row = decodeExample(payload);
        if (parsed.size < MAX_CACHED_PAYLOADS) parsed.set(key, row);
      }
      collector.add(row.target_store_id, row.creative_pack_id, row.label);
    }
  }
  deframer.end();
  return collector.summary();
}
