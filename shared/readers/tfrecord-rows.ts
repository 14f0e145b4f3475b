/**
 * Reads a TFRecord file (GZIP when its name ends in .gz), verifying both CRCs
 * of every record and parsing each tf.train.Example.
 */
import {createReadStream} from 'node:fs';
import {createGunzip} from 'node:zlib';
import type {Readable} from 'node:stream';
import {decodeExample} from '../formats/tfrecord/example.js';
import {TfrecordDeframer} from '../formats/tfrecord/framing.js';
import {RowCollector, type RowsSummary} from './row-sink.js';

export async function readTfrecordRows(path: string): Promise<RowsSummary> {
  const file = createReadStream(path, {highWaterMark: 4 * 1024 * 1024});
  const stream: Readable = path.endsWith('.gz')
    ? file.pipe(createGunzip())
    : file;
  file.on('error', error => stream.destroy(error));
  const deframer = new TfrecordDeframer();
  const collector = new RowCollector();
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (const payload of deframer.push(chunk)) {
      const row = decodeExample(payload);
      collector.add(row.target_store_id, row.creative_pack_id, row.label);
    }
  }
  deframer.end();
  return collector.summary();
}
