/**
 * The per-file part of verify: every data file of a version (one per format,
 * or every shard) checked on worker threads in parallel: size, CRC-32C, MD5,
 * SHA-256 and row count against the metadata; for a sharded version also the
 * layout (shard names, each shard's rows as docs/design.md §3 places them for
 * this generator's versions, as listed for an older one's; totals).
 * The rows of each format are merged, in shard order, into one summary for
 * the statistical checks; the metadata's empirical tallies are checked
 * against them per target store.
 */
import {createHash} from 'node:crypto';
import {availableParallelism} from 'node:os';
import {basename, join} from 'node:path';
import {FORMATS, type Format} from '../dataset/config.js';
import type {ObjectDigests} from '../digest/digests.js';
import {
  filesOf,
  isSharded,
  type FormatObjects,
  type MetadataHead,
  type ObjectRecord,
} from '../metadata/document.js';
import {dataFileName, shardFileName} from '../dataset/object-names.js';
import {WorkerPool} from '../parallel/worker-pool.js';
import type {RowsSummary} from '../storage/sinks/row-sink.js';
import {shardRowsMismatch} from '../dataset/shard-plan.js';
import {isThisGenerator} from '../dataset/generator-version.js';
import type {RowSchemaConfig} from '../formats/row-schema.js';
import type {RowCheckResult, RowCheckTask} from './policy/row-checks.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface FileCheckTask {
  format: Format;
  /** shard index, or null for a version of one file per format */
  shard: number | null;
  path: string;
  object: ObjectRecord;
  /** what the file's columns depend on (rowSchemaFor); absent: the base columns */
  schemaConfig?: RowSchemaConfig;
  /** a logging policy's row check to run on the rows (policy/row-checks.ts) */
  rowCheck?: RowCheckTask;
}

export interface FileCheckResult extends Omit<FileCheckTask, 'rowCheck'> {
  /** -1 when the file is missing */
  size: number;
  digests: ObjectDigests | null;
  summary: RowsSummary | null;
  /** why the rows could not be read */
  readError?: string;
  /** the row check's result, when the task had one and the rows were read */
  rowCheckResult?: RowCheckResult;
}

export interface DataFilesReport {
  checks: Check[];
  /** per format, every file's rows merged in order */
  summaries: Partial<Record<Format, RowsSummary>>;
  rows: Partial<Record<Format, number>>;
  /**
   * per format: the row digest of the file; for a sharded version the sha256
   * hex of its shards' row digests, one per line ("d0\nd1\n...")
   */
  rowDigest: Partial<Record<Format, string>>;
  /** per format of a sharded version: each shard's row digest */
  shardRowDigests?: Partial<Record<Format, string[]>>;
  /**
   * per format whose every file was read: each file's summary and row
   * check result, in row order (only with options.rowChecks)
   */
  files?: Partial<Record<Format, ReadFile[]>>;
}

/** A file read whole: where its rows start, what they held. */
export interface ReadFile {
  path: string;
  firstRow: number;
  summary: RowsSummary;
  rowCheck?: RowCheckResult;
}

/** The files' rows of a dataset with a logging policy (docs/design.md §12). */
export interface RowCheckOptions {
  schemaConfig: RowSchemaConfig;
  /** the row check of a format's file `index` (in row order), whose rows start at firstRow */
  rowCheckFor(
    format: Format,
    index: number,
    firstRow: number,
  ): RowCheckTask | undefined;
}

/** The target store id a creative id is served to, per the metadata. */
export type TargetOf = (creative: string) => string | undefined;

export async function verifyDataFiles(
  directory: string,
  metadata: MetadataHead,
  targetOf: TargetOf,
  workers = availableParallelism(),
  rowChecks?: RowCheckOptions,
): Promise<DataFilesReport> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) =>
    checks.push({name, ok, detail});
  const tasks: FileCheckTask[] = [];
  for (const format of FORMATS) {
    const object = metadata.objects[format];
    if (!object) continue;
    if (isSharded(object)) checkLayout(metadata, format, object, check);
    const sharded = isSharded(object);
    // Metadata written before `shards` was part of the config does not say.
    const configured = (metadata.config as {shards?: number}).shards;
    const listed = filesOf(object).length;
    if (configured !== undefined && configured !== listed)
      check(
        `${format}: shard count`,
        false,
        `the config says ${configured} shards, the metadata lists ${listed}`,
      );
    let firstRow = 0;
    filesOf(object).forEach((file, index) => {
      const task: FileCheckTask = {
        format,
        shard: sharded ? index : null,
        path: join(directory, basename(file.name)),
        object: file,
      };
      if (rowChecks) {
        task.schemaConfig = rowChecks.schemaConfig;
        const rowCheck = rowChecks.rowCheckFor(format, index, firstRow);
        if (rowCheck) task.rowCheck = rowCheck;
      }
      tasks.push(task);
      firstRow += file.rows;
    });
  }

  const pool = new WorkerPool<FileCheckTask, FileCheckResult, never>(
    new URL('./verify-worker.js', import.meta.url),
    Math.max(1, Math.min(workers, tasks.length)),
  );
  let results: FileCheckResult[];
  try {
    results = await pool.run(tasks);
  } finally {
    await pool.close();
  }

  const report: DataFilesReport = {
    checks,
    summaries: {},
    rows: {},
    rowDigest: {},
  };
  for (const format of FORMATS) {
    const files = results.filter(r => r.format === format);
    if (files.length === 0) continue;
    let complete = true;
    for (const file of files) complete = checkFile(file, check) && complete;
    if (!complete) continue;
    const summaries = files.map(f => f.summary as RowsSummary);
    if (rowChecks) {
      report.files ??= {};
      let firstRow = 0;
      report.files[format] = files.map((f, i) => {
        const read: ReadFile = {path: f.path, firstRow, summary: summaries[i]};
        if (f.rowCheckResult) read.rowCheck = f.rowCheckResult;
        firstRow += summaries[i].rows;
        return read;
      });
    }
    const merged = mergeSummaries(summaries);
    const sharded = files[0].shard !== null;
    check(
      `${format}: rows`,
      merged.rows === metadata.config.nSamples &&
        merged.rows === metadata.objects[format]?.rows,
      `${merged.rows} rows, metadata says ${metadata.objects[format]?.rows}, config ${metadata.config.nSamples}`,
    );
    report.summaries[format] = merged;
    report.rows[format] = merged.rows;
    report.rowDigest[format] = merged.rowDigest;
    if (sharded) {
      report.shardRowDigests ??= {};
      report.shardRowDigests[format] = summaries.map(s => s.rowDigest);
    }
  }
  const rows = report.summaries.parquet ?? report.summaries.tfrecord;
  if (rows) checkEmpiricalPerTarget(metadata, targetOf, rows, check);
  return report;
}

/** Size, checksums and rows of one file against its record; false if unreadable. */
function checkFile(
  file: FileCheckResult,
  check: (name: string, ok: boolean, detail: string) => void,
): boolean {
  const label =
    file.shard === null ? file.format : `${file.format} shard ${file.shard}`;
  if (file.size < 0 || !file.digests) {
    check(`${label}: file present`, false, `${file.path} is missing`);
    return false;
  }
  const {object, digests, summary} = file;
  check(
    `${label}: size`,
    file.size === object.bytes,
    `${file.size} bytes, metadata says ${object.bytes}`,
  );
  for (const key of ['crc32c', 'md5', 'sha256'] as const) {
    // MD5 only where the metadata has one: the CLI records it only with --md5.
    if (key === 'md5' && object.md5 === undefined) continue;
    check(
      `${label}: ${key}`,
      digests[key] === object[key],
      `${digests[key]}, metadata says ${object[key]}`,
    );
  }
  if (!summary) {
    check(
      `${label}: readable`,
      false,
      `${basename(file.path)} cannot be read: ${file.readError ?? 'unknown error'}`,
    );
    return false;
  }
  if (file.shard !== null) {
    check(
      `${label}: rows`,
      summary.rows === object.rows,
      `${summary.rows} rows, metadata says ${object.rows}`,
    );
  }
  return true;
}

/**
 * Shard names, each shard's rows and the totals (docs/design.md §3). Rows are
 * checked against the plan for a version of this generator; an older
 * generator's shards (0.2.0: another plan) as the metadata lists them.
 */
function checkLayout(
  metadata: MetadataHead,
  format: Format,
  object: Extract<FormatObjects, {shards: ObjectRecord[]}>,
  check: (name: string, ok: boolean, detail: string) => void,
): void {
  const {nSamples, tfrecordCompression} = metadata.config;
  const count = object.shards.length;
  const single = dataFileName(format, metadata.version, tfrecordCompression);
  const wrong: string[] = [];
  const layout = shardRowsMismatch(
    nSamples,
    object.shards.map(s => s.rows),
    metadata.generator,
  );
  if (layout) wrong.push(layout);
  object.shards.forEach((shard, index) => {
    const name = shardFileName(single, index, count);
    if (basename(shard.name) !== name)
      wrong.push(`shard ${index} is named ${shard.name}, expected ${name}`);
  });
  const planned = isThisGenerator(metadata.generator);
  check(
    `${format}: ${count} shards named and sized as ${planned ? 'docs/design.md §3 places rows' : `generator ${metadata.generator.version} listed them (consecutive whole blocks)`}`,
    wrong.length === 0,
    wrong.length === 0
      ? `${count} shards of ${Math.min(...object.shards.map(s => s.rows))}..${Math.max(...object.shards.map(s => s.rows))} rows`
      : wrong.slice(0, 3).join('; '),
  );
  const rows = object.shards.reduce((s, f) => s + f.rows, 0);
  const bytes = object.shards.reduce((s, f) => s + f.bytes, 0);
  check(
    `${format}: shard totals`,
    rows === object.rows && bytes === object.bytes,
    `${rows} rows / ${bytes} bytes in the shards, metadata says ${object.rows} / ${object.bytes}`,
  );
}

/** Every file's rows, in order, as one summary. */
export function mergeSummaries(summaries: RowsSummary[]): RowsSummary {
  if (summaries.length === 1) return summaries[0];
  const perCreative = new Map<string, [number, number]>();
  const creativeTargets = new Map<string, Set<string>>();
  let rows = 0;
  let positives = 0;
  const digests = createHash('sha256');
  for (const summary of summaries) {
    rows += summary.rows;
    positives += summary.positives;
    digests.update(`${summary.rowDigest}\n`);
    for (const [creative, [n, p]] of summary.perCreative) {
      const counts = perCreative.get(creative);
      if (counts) {
        counts[0] += n;
        counts[1] += p;
      } else perCreative.set(creative, [n, p]);
    }
    for (const [creative, targets] of summary.creativeTargets) {
      const merged = creativeTargets.get(creative);
      if (merged) for (const t of targets) merged.add(t);
      else creativeTargets.set(creative, new Set(targets));
    }
  }
  return {
    rows,
    positives,
    rowDigest: digests.digest('hex'),
    perCreative,
    creativeTargets,
  };
}

/** The metadata's tallies (merged from the shards) against the rows read. */
function checkEmpiricalPerTarget(
  metadata: MetadataHead,
  targetOf: TargetOf,
  rows: RowsSummary,
  check: (name: string, ok: boolean, detail: string) => void,
): void {
  const observed = new Map<string, [number, number]>();
  for (const [creative, [n, p]] of rows.perCreative) {
    const target = targetOf(creative);
    if (target === undefined) continue; // verify.ts counts unknown creatives
    const counts = observed.get(target) ?? [0, 0];
    counts[0] += n;
    counts[1] += p;
    observed.set(target, counts);
  }
  const wrong: string[] = [];
  for (const [target, stated] of Object.entries(
    metadata.empirical.perTargetStore ?? {},
  )) {
    const [n, p] = observed.get(target) ?? [0, 0];
    if (stated.rows !== n || stated.positives !== p)
      wrong.push(
        `${target}: ${n} rows / ${p} positives, metadata says ${stated.rows} / ${stated.positives}`,
      );
  }
  check(
    'empirical per target store matches the rows',
    wrong.length === 0,
    wrong.length === 0
      ? `${Object.keys(metadata.empirical.perTargetStore ?? {}).length} target stores`
      : wrong.slice(0, 3).join('; '),
  );
}
