/**
 * Reads a TFRecord file (GZIP when its name ends in .gz), verifying both CRCs
 * of every record and parsing each tf.train.Example.
 */
import {createReadStream} from 'node:fs';
import {createGunzip} from 'node:zlib';
import type {Readable} from 'node:stream';
import {decodeExample} from './example.js';
import {payloadCrcMatches, TfrecordDeframer} from './framing.js';
import {
  BASE_SCHEMA,
  CREATIVE_PACK_ID,
  LABEL,
  TARGET_STORE_ID,
  type Row,
  type RowSchema,
} from '../row-schema.js';
import {RowCollector, type RowsSummary} from '../../storage/sinks/row-sink.js';
import type {RowObserver} from '../row-observer.js';

/**
 * A dataset repeats a few thousand distinct payloads millions of times, so
 * each distinct payload is parsed once and looked up by its exact bytes after
 * that (the same bytes always parse the same). Bounded, for datasets with
 * very many creatives.
 */
const MAX_CACHED_PAYLOADS = 200_000;

/** A distinct payload, its row, the row's digest line and its `row` columns' values. */
interface Parsed {
  payload: Buffer;
  row: Row;
  line: string;
  values: number[];
}

/**
 * Reads the file as a dataset with `schema`'s columns (rowSchemaFor its
 * config), handing each row to `observer` when given.
 */
export async function readTfrecordRows(
  path: string,
  schema: RowSchema = BASE_SCHEMA,
  observer?: RowObserver,
): Promise<RowsSummary> {
  const rowColumns = schema.rowColumns.map(c => c.name);
  const file = createReadStream(path, {highWaterMark: 4 * 1024 * 1024});
  const stream: Readable = path.endsWith('.gz')
    ? file.pipe(createGunzip())
    : file;
  file.on('error', error => stream.destroy(error));
  const deframer = new TfrecordDeframer();
  const collector = new RowCollector();
  // Distinct payloads by their stored CRC; a hit is confirmed byte for byte.
  const parsed = new Map<number, Array<Parsed>>();
  let cached = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    deframer.forEachRecord(
      chunk,
      (bytes, start, end, crc) => {
        const length = end - start;
        const candidates = parsed.get(crc);
        let row: Parsed | undefined;
        if (candidates) {
          for (const c of candidates) {
            if (
              c.payload.length === length &&
              bytes.compare(c.payload, 0, length, start, end) === 0
            ) {
              row = c;
              break;
            }
          }
        }
        if (!row) {
          // Not seen before: check its CRC here (a hit above is the same bytes
          // as a payload whose CRC was checked against the same stored CRC).
          if (!payloadCrcMatches(bytes, start, end, crc))
            throw deframer.payloadCrcError();
          const payload = Buffer.from(bytes.subarray(start, end));
          const values = decodeExample(payload, schema);
          row = {
            payload,
            row: values,
            line: schema.digestLine(values),
            values: rowColumns.map(name => values[name] as number),
          };
          if (cached < MAX_CACHED_PAYLOADS) {
            cached++;
            if (candidates) candidates.push(row);
            else parsed.set(crc, [row]);
          }
        }
        const values = row.row;
        collector.addLine(
          row.line,
          values[TARGET_STORE_ID.name],
          values[CREATIVE_PACK_ID.name],
          values[LABEL.name],
        );
        observer?.observe(
          values[CREATIVE_PACK_ID.name],
          values[LABEL.name],
          row.values,
        );
      },
      {checkPayloadCrc: false},
    );
  }
  deframer.end();
  return collector.summary();
}
