/**
 * Which Parquet writer, by measurement: the same rows (the engine's model and
 * row blocks, seed 42, 10 target stores, 100 creative packs) written by each
 * candidate, each in its own child process (under bench/measure.py) for a
 * clean peak RSS, then read back by pandas/pyarrow (test/interop/read_dataset.py)
 * to check the dtypes docs/design.md §2 requires and that the rows are the same.
 *
 *   node build/bench/parquet-writers.js [--rows 1000000] [--writers a,b] [--python PY]
 *     [--json FILE]
 *
 * Child mode (run by the parent): --child WRITER --rows N --seed S --out FILE.
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {closeSync, openSync, readFileSync, writeSync} from 'node:fs';
import {mkdtemp, rm, stat, writeFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {
  ParquetDatasetWriter,
  SCHEMA,
} from '../shared/formats/parquet/dataset-writer.js';
import {buildModel, type DatasetModel} from '../shared/dataset/model.js';
import {
  COLUMNS,
  digestLine,
  rowMaker,
  rowSchemaDescription,
} from '../shared/formats/row-schema.js';
import {rowBlocks} from '../shared/dataset/rows.js';
import {
  formatLoad,
  loadAverage,
  machineFacts,
  type LoadAverage,
} from './machine.js';
import {lastJsonLine, runMeasured} from './measured.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // build/bench
const ROOT = resolve(HERE, '..', '..');
const MEASURE = join(ROOT, 'bench', 'measure.py');
const READER = join(ROOT, 'test', 'interop', 'read_dataset.py');
const ROW_GROUP_ROWS = 1 << 20;
const CREATED_BY = 'exploration-data bench';

interface WriterInfo {
  label: string;
  packageName: string;
  how: string;
  write(
    model: DatasetModel,
    seed: number,
    rows: number,
    path: string,
  ): Promise<void>;
}

function modelFor(seed: number): DatasetModel {
  return buildModel({seed, nTargetStoreIds: 10, nCreativePackIds: 100});
}

function packageVersion(name: string): string {
  try {
    const file = join(ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as {version: string})
      .version;
  } catch {
    return '?';
  }
}

/** Sync file output, the same for every writer that hands us bytes. */
class FileOut {
  private readonly fd: number;
  bytes = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'wx');
  }
  write(chunk: Uint8Array): void {
    let done = 0;
    while (done < chunk.length) {
      done += writeSync(this.fd, chunk, done, chunk.length - done);
    }
    this.bytes += chunk.length;
  }
  close(): void {
    closeSync(this.fd);
  }
}

// ------------------------------------------------------------ the writers ---

async function writeOurs(
  model: DatasetModel,
  seed: number,
  rows: number,
  path: string,
) {
  const out = new FileOut(path);
  const writer = new ParquetDatasetWriter(model, {createdBy: CREATED_BY});
  for (const c of writer.start()) out.write(c);
  for (const block of rowBlocks(model, seed, rows)) {
    for (const c of writer.push(block)) out.write(c);
  }
  for (const c of writer.finish()) out.write(c);
  out.close();
}

async function writeHyparquet(
  model: DatasetModel,
  seed: number,
  rows: number,
  path: string,
) {
  const {ParquetWriter, fileWriter} = await import('hyparquet-writer');
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    schema: SCHEMA,
    createdBy: CREATED_BY,
  });
  // One row group of strings as JS arrays at a time (its streaming API).
  let targets: string[] = [];
  let creatives: string[] = [];
  let labels = new BigInt64Array(ROW_GROUP_ROWS);
  const flush = async () => {
    if (targets.length === 0) return;
    await writer.write({
      columnData: [
        {name: 'target_store_id', data: targets},
        {name: 'creative_pack_id', data: creatives},
        {name: 'label', data: labels.subarray(0, targets.length)},
      ],
      rowGroupSize: targets.length,
    });
    targets = [];
    creatives = [];
    labels = new BigInt64Array(ROW_GROUP_ROWS);
  };
  for (const block of rowBlocks(model, seed, rows)) {
    for (let i = 0; i < block.count; i++) {
      const c = block.creative[i];
      labels[targets.length] = BigInt(block.label[i]);
      targets.push(model.targetIds[model.creativeTarget[c]]);
      creatives.push(model.creativeIds[c]);
      if (targets.length === ROW_GROUP_ROWS) await flush();
    }
  }
  await flush();
  await writer.finish();
}

interface ParquetjsModule {
  ParquetSchema: new (fields: Record<string, unknown>) => unknown;
  ParquetWriter: {
    openFile(
      schema: unknown,
      path: string,
      opts?: Record<string, unknown>,
    ): Promise<{
      appendRow(row: Record<string, unknown>): Promise<void>;
      close(): Promise<void>;
    }>;
  };
}

/** parquetjs-lite and @dsnp/parquetjs share one row-at-a-time API. */
function writeParquetjs(packageName: string) {
  return async (
    model: DatasetModel,
    seed: number,
    rows: number,
    path: string,
  ) => {
    const require = createRequire(import.meta.url);
    const parquet = require(packageName) as ParquetjsModule;
    const schema = new parquet.ParquetSchema({
      target_store_id: {type: 'UTF8', compression: 'SNAPPY'},
      creative_pack_id: {type: 'UTF8', compression: 'SNAPPY'},
      label: {type: 'INT64', compression: 'SNAPPY'},
    });
    const writer = await parquet.ParquetWriter.openFile(schema, path);
    for (const block of rowBlocks(model, seed, rows)) {
      for (let i = 0; i < block.count; i++) {
        const c = block.creative[i];
        await writer.appendRow({
          target_store_id: model.targetIds[model.creativeTarget[c]],
          creative_pack_id: model.creativeIds[c],
          label: block.label[i],
        });
      }
    }
    await writer.close();
  };
}

/** utf8 offsets + bytes for one block of a string column. */
function utf8Column(
  ids: string[],
  index: (i: number) => number,
  count: number,
) {
  const encoded = ids.map(s => Buffer.from(s, 'utf8'));
  let total = 0;
  for (let i = 0; i < count; i++) total += encoded[index(i)].length;
  const offsets = new Int32Array(count + 1);
  const data = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const bytes = encoded[index(i)];
    data.set(bytes, at);
    at += bytes.length;
    offsets[i + 1] = at;
  }
  return {offsets, data};
}

function writeParquetWasm(dictionary: boolean) {
  return async (
    model: DatasetModel,
    seed: number,
    rows: number,
    path: string,
  ) => {
    const arrow = await import('apache-arrow');
    const wasm = await import('parquet-wasm');
    const batches: import('apache-arrow').RecordBatch[] = [];
    const targetDict = arrow.vectorFromArray(model.targetIds, new arrow.Utf8());
    const creativeDict = arrow.vectorFromArray(
      model.creativeIds,
      new arrow.Utf8(),
    );
    for (const block of rowBlocks(model, seed, rows)) {
      const n = block.count;
      const labels = new BigInt64Array(n);
      for (let i = 0; i < n; i++) labels[i] = BigInt(block.label[i]);
      const label = arrow.makeData({
        type: new arrow.Int64(),
        length: n,
        data: labels,
      });
      if (dictionary) {
        const t = new Int32Array(n);
        for (let i = 0; i < n; i++)
          t[i] = model.creativeTarget[block.creative[i]];
        const c = Int32Array.from(block.creative.subarray(0, n));
        batches.push(
          new arrow.RecordBatch({
            target_store_id: arrow.makeData({
              type: new arrow.Dictionary(
                new arrow.Utf8(),
                new arrow.Int32(),
                0,
              ),
              length: n,
              data: t,
              dictionary: targetDict,
            }),
            creative_pack_id: arrow.makeData({
              type: new arrow.Dictionary(
                new arrow.Utf8(),
                new arrow.Int32(),
                1,
              ),
              length: n,
              data: c,
              dictionary: creativeDict,
            }),
            label,
          }),
        );
      } else {
        const t = utf8Column(
          model.targetIds,
          i => model.creativeTarget[block.creative[i]],
          n,
        );
        const c = utf8Column(model.creativeIds, i => block.creative[i], n);
        batches.push(
          new arrow.RecordBatch({
            target_store_id: arrow.makeData({
              type: new arrow.Utf8(),
              length: n,
              valueOffsets: t.offsets,
              data: t.data,
            }),
            creative_pack_id: arrow.makeData({
              type: new arrow.Utf8(),
              length: n,
              valueOffsets: c.offsets,
              data: c.data,
            }),
            label,
          }),
        );
      }
    }
    const table = new arrow.Table(batches);
    const wasmTable = wasm.Table.fromIPCStream(
      arrow.tableToIPC(table, 'stream'),
    );
    const props = new wasm.WriterPropertiesBuilder()
      .setCompression(wasm.Compression.SNAPPY)
      .setMaxRowGroupSize(ROW_GROUP_ROWS)
      .setCreatedBy(CREATED_BY)
      .build();
    const bytes = wasm.writeParquet(wasmTable, props);
    const out = new FileOut(path);
    out.write(bytes);
    out.close();
  };
}

export const WRITERS: Record<string, WriterInfo> = {
  ours: {
    label: 'ours (ParquetDatasetWriter)',
    packageName: 'hyparquet-writer',
    how: "bit-packed dictionary indices straight from the row blocks; hyparquet-writer's page headers, PLAIN dictionary, Snappy and Thrift footer",
    write: writeOurs,
  },
  'hyparquet-writer': {
    label: 'hyparquet-writer ParquetWriter',
    packageName: 'hyparquet-writer',
    how: 'streaming write() of one 2^20-row group at a time, strings as JS arrays, labels as BigInt64Array',
    write: writeHyparquet,
  },
  'parquetjs-lite': {
    label: 'parquetjs-lite',
    packageName: 'parquetjs-lite',
    how: 'openFile + await appendRow per row, SNAPPY on every column, default row groups',
    write: writeParquetjs('parquetjs-lite'),
  },
  '@dsnp/parquetjs': {
    label: '@dsnp/parquetjs',
    packageName: '@dsnp/parquetjs',
    how: 'openFile + await appendRow per row, SNAPPY on every column, default row groups',
    write: writeParquetjs('@dsnp/parquetjs'),
  },
  'parquet-wasm': {
    label: 'parquet-wasm (utf8 Arrow)',
    packageName: 'parquet-wasm',
    how: 'apache-arrow Table of utf8 + int64 record batches (one per 65,536-row block) -> IPC -> writeParquet, SNAPPY, 2^20-row groups',
    write: writeParquetWasm(false),
  },
  'parquet-wasm-dict': {
    label: 'parquet-wasm (dictionary Arrow)',
    packageName: 'parquet-wasm',
    how: 'as above, with Dictionary<Int32, Utf8> string columns (the indices we already have)',
    write: writeParquetWasm(true),
  },
};

// ------------------------------------------------------------ child mode ---

async function child(name: string, rows: number, seed: number, out: string) {
  const writer = WRITERS[name];
  if (!writer) throw new Error(`unknown writer ${name}`);
  const started = performance.now();
  const model = modelFor(seed);
  await writer.write(model, seed, rows, out);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    JSON.stringify({
      writer: name,
      rows,
      writeSeconds: seconds,
      bytes: (await stat(out)).size,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    }) + '\n',
  );
}

// ----------------------------------------------------------- parent mode ---

/** The row digest (row-schema.ts DIGEST_DEFINITION; read_dataset.py computes the same). */
function expectedDigest(seed: number, rows: number): string {
  const model = modelFor(seed);
  const hash = createHash('sha256');
  const rowOf = rowMaker(model);
  const lines: string[][] = model.creativeIds.map((_, c) => [
    digestLine(rowOf(c, 0)),
    digestLine(rowOf(c, 1)),
  ]);
  for (const block of rowBlocks(model, seed, rows)) {
    const parts: string[] = new Array<string>(block.count);
    for (let i = 0; i < block.count; i++) {
      parts[i] = lines[block.creative[i]][block.label[i]];
    }
    hash.update(parts.join(''));
  }
  return hash.digest('hex');
}

interface WriterResult {
  writer: string;
  label: string;
  version: string;
  how: string;
  status: 'ok' | 'failed';
  reason?: string;
  writeSeconds?: number;
  processWallSeconds?: number;
  rowsPerSecond?: number;
  peakRssBytes?: number;
  fileBytes?: number;
  pandasDtypes?: Record<string, string>;
  arrowTypes?: Record<string, string>;
  rowGroups?: number;
  dtypesOk?: boolean;
  sameRows?: boolean;
  readBack?: string;
  loadBefore?: LoadAverage;
  loadAfter?: LoadAverage;
}

/** docs/design.md §2: what pandas must read each column as. */
const WANT_DTYPES: Record<string, readonly string[]> = Object.fromEntries(
  COLUMNS.map(c => [c.name, c.type.pandasDtypes]),
);

function pythonPath(given: string | undefined): string {
  if (given) return given;
  return execFileSync('bash', [join(ROOT, 'scripts', 'python-env.sh')], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop()!;
}

async function measureWriter(
  name: string,
  rows: number,
  seed: number,
  python: string,
  digest: string,
): Promise<WriterResult> {
  const info = WRITERS[name];
  const version = packageVersion(info.packageName).replace(/^v/, '');
  const base: WriterResult = {
    writer: name,
    label: info.label,
    version: name === 'ours' ? `hyparquet-writer ${version} parts` : version,
    how: info.how,
    status: 'failed',
  };
  const dir = await mkdtemp(join(tmpdir(), 'parquet-writers-'));
  try {
    const file = join(dir, 'dataset_v1.parquet');
    const run = await runMeasured({
      python,
      measureScript: MEASURE,
      command: [
        process.execPath,
        fileURLToPath(import.meta.url),
        '--child',
        name,
        '--rows',
        String(rows),
        '--seed',
        String(seed),
        '--out',
        file,
      ],
      syncDir: dir,
      stdoutFile: join(dir, 'stdout.txt'),
      logFile: join(dir, 'child.log'),
    });
    const childReport = lastJsonLine(run.stdout);
    if (run.measure.exitCode !== 0 || !childReport) {
      const log = spawnSync('tail', ['-n', '5', join(dir, 'child.log')], {
        encoding: 'utf8',
      }).stdout;
      return {
        ...base,
        reason: `exit ${run.measure.exitCode}: ${log.trim()}`,
        loadBefore: run.loadBefore,
        loadAfter: run.loadAfter,
      };
    }
    const writeSeconds = Number(childReport.writeSeconds);
    const result: WriterResult = {
      ...base,
      status: 'ok',
      writeSeconds,
      processWallSeconds: run.measure.wallSeconds,
      rowsPerSecond: rows / writeSeconds,
      peakRssBytes: run.measure.peakRssBytes,
      fileBytes: Number(childReport.bytes),
      loadBefore: run.loadBefore,
      loadAfter: run.loadAfter,
    };
    const schemaFile = join(dir, 'row-schema.json');
    await writeFile(schemaFile, JSON.stringify(rowSchemaDescription()));
    const read = spawnSync(
      python,
      [READER, dir, '1', '--schema', schemaFile, '--no-per-creative'],
      {encoding: 'utf8', maxBuffer: 64 << 20},
    );
    const summary = lastJsonLine(read.stdout) as {
      parquet?: {
        rows: number;
        digest: string;
        pandasDtypes: Record<string, string>;
        arrowTypes: Record<string, string>;
        rowGroups: number;
        pandasMatchesPyarrow: boolean;
      };
    } | null;
    if (read.status !== 0 || !summary?.parquet) {
      result.readBack = `not readable: ${read.stderr.trim().split('\n').pop() ?? ''}`;
      result.dtypesOk = false;
      result.sameRows = false;
      return result;
    }
    const p = summary.parquet;
    result.pandasDtypes = p.pandasDtypes;
    result.arrowTypes = p.arrowTypes;
    result.rowGroups = p.rowGroups;
    result.dtypesOk = Object.entries(WANT_DTYPES).every(([col, ok]) =>
      ok.includes(p.pandasDtypes[col]),
    );
    result.sameRows =
      p.rows === rows && p.digest === digest && p.pandasMatchesPyarrow;
    result.readBack = `${p.rows} rows, ${p.rowGroups} row groups, digest ${p.digest === digest ? 'matches' : 'DIFFERS'}`;
    return result;
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

function markdown(results: WriterResult[], rows: number): string {
  const header =
    '| writer | version | write s | rows/s | process wall s | peak RSS MB | file MB | pandas dtypes | same rows | load 1-min before -> after |';
  const lines = [header, '|---|---|---:|---:|---:|---:|---:|---|---|---|'];
  for (const r of results) {
    if (r.status !== 'ok') {
      lines.push(
        `| ${r.label} | ${r.version} | failed |  |  |  |  | ${r.reason ?? ''} |  |  |`,
      );
      continue;
    }
    const dtypes = r.pandasDtypes
      ? `${Object.values(r.pandasDtypes).join(', ')}${r.dtypesOk ? '' : ' (wrong)'}`
      : (r.readBack ?? '');
    lines.push(
      `| ${r.label} | ${r.version} | ${r.writeSeconds!.toFixed(2)} | ${Math.round(r.rowsPerSecond!).toLocaleString('en-US')} | ${r.processWallSeconds!.toFixed(2)} | ${(r.peakRssBytes! / 1e6).toFixed(0)} | ${(r.fileBytes! / 1e6).toFixed(2)} | ${dtypes} | ${r.sameRows ? 'yes' : 'NO'} | ${r.loadBefore![0].toFixed(2)} -> ${r.loadAfter![0].toFixed(2)} |`,
    );
  }
  return `${rows.toLocaleString('en-US')} rows, seed 42, 10 target stores, 100 creative packs\n\n${lines.join('\n')}\n`;
}

async function parent(values: {
  rows: number;
  seed: number;
  writers: string[];
  python?: string;
  json?: string;
}) {
  const python = pythonPath(values.python);
  const machine = machineFacts(python);
  const loadBefore = loadAverage();
  process.stdout.write(
    `parquet writers: ${values.rows.toLocaleString('en-US')} rows; ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}; load ${formatLoad(loadBefore)}\n`,
  );
  const digest = expectedDigest(values.seed, values.rows);
  const results: WriterResult[] = [];
  for (const name of values.writers) {
    if (!WRITERS[name]) throw new Error(`unknown writer ${name}`);
    const r = await measureWriter(
      name,
      values.rows,
      values.seed,
      python,
      digest,
    );
    results.push(r);
    process.stdout.write(
      r.status === 'ok'
        ? `  ${r.label}: ${r.writeSeconds!.toFixed(2)} s write (${r.processWallSeconds!.toFixed(2)} s process), ${(r.peakRssBytes! / 1e6).toFixed(0)} MB peak RSS, ${(r.fileBytes! / 1e6).toFixed(2)} MB file; ${r.readBack}; dtypes ${JSON.stringify(r.pandasDtypes ?? {})} (load ${formatLoad(r.loadBefore!)} -> ${formatLoad(r.loadAfter!)})\n`
        : `  ${r.label}: FAILED ${r.reason}\n`,
    );
  }
  const loadAfter = loadAverage();
  process.stdout.write(
    `\n${markdown(results, values.rows)}\nload average before ${formatLoad(loadBefore)}, after ${formatLoad(loadAfter)}\n`,
  );
  if (values.json) {
    await writeFile(
      values.json,
      JSON.stringify(
        {
          rows: values.rows,
          seed: values.seed,
          machine,
          loadBefore,
          loadAfter,
          expectedDigest: digest,
          results,
        },
        null,
        2,
      ) + '\n',
    );
  }
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      rows: {type: 'string', default: '1000000'},
      seed: {type: 'string', default: '42'},
      writers: {type: 'string', default: Object.keys(WRITERS).join(',')},
      python: {type: 'string', default: process.env.BENCH_PYTHON},
      json: {type: 'string'},
      child: {type: 'string'},
      out: {type: 'string'},
    },
  });
  const rows = Number(values.rows.replaceAll('_', ''));
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(rows) || rows < 1)
    throw new Error(`--rows: ${values.rows}`);
  if (values.child) {
    if (!values.out) throw new Error('--child needs --out FILE');
    await child(values.child, rows, seed, values.out);
    return;
  }
  await parent({
    rows,
    seed,
    writers: values.writers.split(',').map(s => s.trim()),
    python: values.python,
    json: values.json,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `parquet-writers: ${(error as Error).stack ?? String(error)}\n`,
  );
  process.exitCode = 1;
});
