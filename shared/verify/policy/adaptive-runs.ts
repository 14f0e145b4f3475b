/**
 * How verify checks an adaptive log's rows against pi_e recomputed from the
 * log's own earlier rows (docs/design.md §12) without holding rows, and
 * still in parallel over shards:
 *
 * 1. The first pass (verify-files.ts, every file at once) checks the first
 *    file's rows itself (nothing comes before them) and counts every file;
 *    the file in which a later run's epoch starts also counts its rows
 *    before that start (row-checks.ts `count`).
 * 2. The other files are split into runs of consecutive files, at most one
 *    per worker. A run starts at a file's first row b0 (a block's first
 *    row), inside epoch e; the counts of blocks [0, e k) and [e k, b0) are
 *    sums of the first pass's counts, so each run resumes the state and
 *    checks its files in order on its own worker (adaptive-worker.ts).
 *
 * Memory: per run two count arrays (at most 10,000 creatives), whatever the
 * rows. The price is reading the files after the first one twice.
 */
import {ROWS_PER_BLOCK} from '../../dataset/blocks.js';
import {epochOfBlock} from '../../policy/adaptive.js';
import type {RowSchemaConfig} from '../../formats/row-schema.js';
import {WorkerPool} from '../../parallel/worker-pool.js';
import {addPart, emptyPart} from '../statistics/draw-fit.js';
import type {ReadFile} from '../verify-files.js';
import {
  addCounts,
  copyCounts,
  countsOfSummary,
  subtractCounts,
  zeroCounts,
  type CreativeCounts,
} from './counts.js';
import type {
  AdaptiveContext,
  AdaptiveRowsResult,
  CountRowsResult,
  PscorePrecision,
  RowCheckTask,
} from './row-checks.js';

/** A run of consecutive files (index range) checked on one worker. */
export interface AdaptiveRun {
  from: number;
  to: number;
  /** the global row the run starts at: file `from`'s first row */
  firstRow: number;
  /** the first row of the epoch that row is in */
  epochRow: number;
  /** the file that row lies in */
  epochFile: number;
}

/**
 * Files (their rows, in order) as runs: file 0 is the first pass's, the
 * rest split into at most `runs` runs of consecutive files, as even in
 * files as whole files allow (shards differ by at most one block).
 */
export function planRuns(
  fileRows: readonly number[],
  updateEveryBlocks: number,
  runs: number,
): AdaptiveRun[] {
  const starts: number[] = [];
  let row = 0;
  for (const rows of fileRows) {
    starts.push(row);
    row += rows;
  }
  const rest = fileRows.length - 1;
  if (rest <= 0) return [];
  const count = Math.max(1, Math.min(runs, rest));
  const out: AdaptiveRun[] = [];
  for (let r = 0; r < count; r++) {
    const from = 1 + Math.floor((r * rest) / count);
    const to = 1 + Math.floor(((r + 1) * rest) / count);
    const firstRow = starts[from];
    const epochRow =
      epochOfBlock(firstRow / ROWS_PER_BLOCK, updateEveryBlocks) *
      updateEveryBlocks *
      ROWS_PER_BLOCK;
    let epochFile = from;
    while (starts[epochFile] > epochRow) epochFile--;
    out.push({from, to, firstRow, epochRow, epochFile});
  }
  return out;
}

/** The first pass's row check of file `index`: file 0 checked, epoch-start files counted. */
export function firstPassCheck(
  index: number,
  firstRow: number,
  runs: readonly AdaptiveRun[],
  context: AdaptiveContext,
  precision: PscorePrecision,
): RowCheckTask | undefined {
  const nCreatives = context.model.creativeIds.length;
  const before = runs
    .filter(r => r.epochFile === index && r.epochRow > firstRow)
    .map(r => r.epochRow);
  if (index === 0)
    return {
      kind: 'adaptive',
      context,
      precision,
      start: {
        firstRow: 0,
        beforeEpoch: zeroCounts(nCreatives),
        inEpoch: zeroCounts(nCreatives),
      },
      countBefore: before,
    };
  if (before.length === 0) return undefined;
  return {
    kind: 'count',
    creativeIds: context.model.creativeIds,
    firstRow,
    before,
  };
}

/** Each run's start: the counts before its epoch and within it, from the first pass. */
export function runTasks(
  runs: readonly AdaptiveRun[],
  files: readonly ReadFile[],
  context: AdaptiveContext,
  precision: PscorePrecision,
  indexOf: (creative: string) => number | undefined,
  schemaConfig: RowSchemaConfig,
): AdaptiveRunTask[] {
  const nCreatives = context.model.creativeIds.length;
  const atEpoch = new Map<AdaptiveRun, CreativeCounts>();
  const atStart = new Map<AdaptiveRun, CreativeCounts>();
  const running = zeroCounts(nCreatives);
  for (let i = 0; i < files.length; i++) {
    for (const run of runs) {
      if (run.from === i) atStart.set(run, copyCounts(running));
      if (run.epochFile !== i) continue;
      const counts = copyCounts(running);
      if (run.epochRow > files[i].firstRow) {
        const partial = (
          files[i].rowCheck as CountRowsResult | AdaptiveRowsResult | undefined
        )?.before.find(b => b.row === run.epochRow);
        if (!partial)
          throw new Error(
            `the first pass did not count file ${i}'s rows before row ${run.epochRow}`,
          );
        addCounts(counts, partial.counts);
      }
      atEpoch.set(run, counts);
    }
    addCounts(
      running,
      countsOfSummary(files[i].summary.perCreative, indexOf, nCreatives),
    );
  }
  return runs.map(run => {
    const beforeEpoch = atEpoch.get(run) as CreativeCounts;
    return {
      paths: files.slice(run.from, run.to).map(f => f.path),
      schemaConfig,
      check: {
        kind: 'adaptive',
        context,
        precision,
        start: {
          firstRow: run.firstRow,
          beforeEpoch,
          inEpoch: subtractCounts(
            atStart.get(run) as CreativeCounts,
            beforeEpoch,
          ),
        },
      },
    };
  });
}

/** A second-pass task: read these files in order as one run. */
export interface AdaptiveRunTask {
  paths: string[];
  schemaConfig: RowSchemaConfig;
  check: Extract<RowCheckTask, {kind: 'adaptive'}>;
}

/** Runs the second pass on `workers` threads. */
export async function runAdaptiveRuns(
  tasks: AdaptiveRunTask[],
  workers: number,
): Promise<AdaptiveRowsResult[]> {
  if (tasks.length === 0) return [];
  const pool = new WorkerPool<AdaptiveRunTask, AdaptiveRowsResult, never>(
    new URL('./adaptive-worker.js', import.meta.url),
    Math.max(1, Math.min(workers, tasks.length)),
  );
  try {
    return await pool.run(tasks);
  } finally {
    await pool.close();
  }
}

/** The runs' results (in row order) as one: counts added, the first mismatches kept. */
export function mergeRuns(
  results: readonly AdaptiveRowsResult[],
): AdaptiveRowsResult {
  const merged: AdaptiveRowsResult = {
    kind: 'adaptive',
    firstRow: results.length > 0 ? results[0].firstRow : 0,
    rows: 0,
    unknownCreatives: 0,
    epochMismatches: 0,
    firstEpochMismatch: null,
    pscoreMismatches: 0,
    firstPscoreMismatch: null,
    epochs: [],
    fit: emptyPart(),
    before: [],
  };
  const seen = new Set<number>();
  for (const r of results) {
    merged.rows += r.rows;
    merged.unknownCreatives += r.unknownCreatives;
    merged.epochMismatches += r.epochMismatches;
    merged.firstEpochMismatch ??= r.firstEpochMismatch;
    merged.pscoreMismatches += r.pscoreMismatches;
    merged.firstPscoreMismatch ??= r.firstPscoreMismatch;
    addPart(merged.fit, r.fit);
    for (const e of r.epochs) {
      // an epoch split between runs: both recomputed it from the same counts
      if (seen.has(e.epoch)) continue;
      seen.add(e.epoch);
      merged.epochs.push(e);
    }
  }
  merged.epochs.sort((a, b) => a.epoch - b.epoch);
  return merged;
}
