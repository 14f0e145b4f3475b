/**
 * Checks a dataset folder against its metadata: every file's size and
 * checksums, row counts, that the Parquet and TFRecord files hold the same
 * rows in the same order, that every creative's observed rate is within the
 * stated bound of its true probability, that the labels fit the true
 * probabilities over all creatives and over all target stores (tests with
 * the power to see the creative effects), and that the probabilities follow
 * the model (and, for this generator version, regenerate exactly). The
 * statistical checks together fail a correct dataset with probability at
 * most FAMILY_WISE_ALPHA (1e-6).
 */
import {createReadStream} from 'node:fs';
import {readdir} from 'node:fs/promises';
import {join} from 'node:path';
import type {Format} from '../dataset/config.js';
import {
  InvalidArgumentError,
  NotFoundError,
  MalformedMetadataError,
} from '../errors.js';
import type {MetadataHead} from '../metadata/document.js';
import {readMetadata} from '../metadata/read.js';
import {buildModel, pairProbability} from '../dataset/model.js';
import type {ProbabilityTables} from '../metadata/probability-tables.js';
import type {RowsSummary} from '../storage/sinks/row-sink.js';
import {availableParallelism} from 'node:os';
import {bernsteinBound, boundDescription} from './statistics/bernstein.js';
import {alphaPerCheck, FAMILY_WISE_ALPHA} from './statistics/family-wise.js';
import type {DrawFit} from './statistics/draw-fit.js';
import {recordedLoggingPolicy} from '../policy/logging.js';
import {PolicyVerification} from './policy/verify-policy.js';
import {
  binomialGoodnessOfFit,
  poolByTarget,
  pooledGoodnessOfFit,
  type GoodnessOfFit,
  type Tally,
} from './statistics/goodness-of-fit.js';
import {GENERATOR} from '../dataset/generator-version.js';
import {verifyDataFiles} from './verify-files.js';

/** What verify reads of the metadata: the typed head, the maps as tables. */
interface VerifiedMetadata {
  head: MetadataHead;
  tables: ProbabilityTables;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  version: number;
  directory: string;
  rows: Partial<Record<Format, number>>;
  rowDigest: Partial<Record<Format, string>>;
  /** sharded versions: each shard's row digest (rowDigest is over these) */
  shardRowDigests?: Partial<Record<Format, string[]>>;
  bound: string;
  /** goodness-of-fit of the labels to the true probabilities */
  statistics: {
    familyWiseAlpha: number;
    creatives: GoodnessOfFit | null;
    targetStores: GoodnessOfFit | null;
    /**
     * a dataset with a logging policy only: the creatives drawn against
     * p(t) pi_b(c | t) (docs/design.md §12)
     */
    draws?: DrawFit | null;
  };
  /** the creative whose rate came closest to its bound (|obs - q| / bound) */
  worstPair: {
    creative: string;
    observed: number;
    expected: number;
    bound: number;
    ratio: number;
  } | null;
  checks: Check[];
}

const METADATA_FILE = /^metadata_v([1-9][0-9]*)\.json$/;

/** DIR's metadata_v{N}.json: version N's, or the only one there (verify, evaluate). */
export async function findMetadata(
  directory: string,
  version?: number,
): Promise<string> {
  const names = await readdir(directory).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw new InvalidArgumentError(`no such folder: ${directory}`, 'dir');
      if (error.code === 'ENOTDIR')
        throw new InvalidArgumentError(`not a folder: ${directory}`, 'dir');
      throw error;
    },
  );
  if (version !== undefined) {
    const name = `metadata_v${version}.json`;
    if (!names.includes(name))
      throw new NotFoundError(`no ${name} in ${directory}`);
    return join(directory, name);
  }
  const found = names.filter(n => METADATA_FILE.test(n));
  if (found.length === 1) return join(directory, found[0]);
  if (found.length === 0)
    throw new NotFoundError(`no metadata_v{N}.json in ${directory}`);
  throw new InvalidArgumentError(
    `${directory} holds ${found.length} versions (${found.join(', ')}); choose one with --dataset-version`,
    'dataset-version',
  );
}

/** The metadata through the one parser, streamed: the maps as tables, never whole. */
async function readVerifiedMetadata(path: string): Promise<VerifiedMetadata> {
  try {
    const read = await readMetadata(
      createReadStream(path, {highWaterMark: 1 << 20}),
      {tables: true},
    );
    return {head: read.head, tables: read.tables!};
  } catch (error) {
    if (error instanceof MalformedMetadataError)
      throw new InvalidArgumentError(`${path}: ${error.message}`);
    throw error;
  }
}

export async function verifyDirectory(
  directory: string,
  version?: number,
): Promise<VerifyReport> {
  const metadataPath = await findMetadata(directory, version);
  const metadata = await readVerifiedMetadata(metadataPath);
  // With a logging policy the family-wise budget has a fourth check (§9, §12).
  const policy = recordedLoggingPolicy(metadata.head.config);
  const alpha = alphaPerCheck(policy !== undefined);
  const workers = availableParallelism();
  const policyCheck = policy
    ? new PolicyVerification(metadata.head, metadata.tables, policy, workers)
    : undefined;
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) =>
    checks.push({name, ok, detail});
  const report: VerifyReport = {
    ok: false,
    version: metadata.head.version,
    directory,
    rows: {},
    rowDigest: {},
    bound: boundDescription(alpha),
    statistics: {
      familyWiseAlpha: FAMILY_WISE_ALPHA,
      creatives: null,
      targetStores: null,
    },
    worstPair: null,
    checks,
  };

  // Every data file (one per format, or every shard), on worker threads.
  const files = await verifyDataFiles(
    directory,
    metadata.head,
    creative => metadata.tables.targetOf(creative),
    workers,
    policyCheck?.rowChecks(),
  );
  checks.push(...files.checks);
  const summaries = files.summaries;
  report.rows = files.rows;
  report.rowDigest = files.rowDigest;
  if (files.shardRowDigests) report.shardRowDigests = files.shardRowDigests;

  if (summaries.parquet && summaries.tfrecord) {
    check(
      'parquet and tfrecord hold the same rows in order',
      summaries.parquet.rowDigest === summaries.tfrecord.rowDigest,
      `row digests ${summaries.parquet.rowDigest} / ${summaries.tfrecord.rowDigest}`,
    );
  }

  checkModel(metadata, check);
  const rows = summaries.parquet ?? summaries.tfrecord;
  if (rows) checkRates(metadata, rows, report, check, alpha);
  if (policyCheck) {
    const policyChecks = await policyCheck.finish(files, metadataPath, alpha);
    checks.push(...policyChecks.checks);
    report.statistics.draws = policyChecks.draws;
  }

  report.ok = checks.every(c => c.ok);
  return report;
}

function checkModel(
  {head, tables}: VerifiedMetadata,
  check: (name: string, ok: boolean, detail: string) => void,
): void {
  const creatives = tables.creativeIds.length;
  let wrong = 0;
  for (let c = 0; c < creatives; c++) {
    const expected = pairProbability(
      tables.targetProbs[tables.creativeTarget[c]],
      tables.creativeEffects[c],
    );
    if (expected !== tables.pairProbs[c]) wrong++;
  }
  check(
    'pair probabilities follow the model',
    wrong === 0,
    `${wrong} of ${creatives} differ from p_target + e_creative (reflected)`,
  );

  if (head.generator.version !== GENERATOR.version) {
    check(
      'model regenerates',
      true,
      `skipped: written by generator ${head.generator.version}, this is ${GENERATOR.version}`,
    );
    return;
  }
  const model = buildModel(head.config);
  const same =
    model.targetIds.every(
      (id, t) => tables.targetProbOf(id) === model.targetProbs[t],
    ) &&
    model.creativeIds.every(
      (id, c) =>
        tables.pairProbOf(id) === model.pairProbs[c] &&
        tables.targetOf(id) === model.targetIds[model.creativeTarget[c]],
    ) &&
    creatives === model.creativeIds.length;
  check(
    'model regenerates from the seed',
    same,
    same
      ? `seed ${head.config.seed} gives the same ids and probabilities`
      : `seed ${head.config.seed} gives a different model`,
  );
}

function checkRates(
  {head, tables}: VerifiedMetadata,
  rows: RowsSummary,
  report: VerifyReport,
  check: (name: string, ok: boolean, detail: string) => void,
  alpha: number,
): void {
  const pairs = tables.creativeIds.length;
  let outside = 0;
  let foreign = 0;
  let wrongTarget = 0;
  for (const [creative, [n, positives]] of rows.perCreative) {
    const q = tables.pairProbOf(creative);
    if (q === undefined) {
      foreign++;
      continue;
    }
    const targets = rows.creativeTargets.get(creative);
    if (
      !targets ||
      targets.size !== 1 ||
      !targets.has(tables.targetOf(creative)!)
    )
      wrongTarget++;
    const observed = positives / n;
    const bound = bernsteinBound(n, q, pairs, alpha);
    const ratio = Math.abs(observed - q) / bound;
    if (ratio > 1) outside++;
    if (!report.worstPair || ratio > report.worstPair.ratio) {
      report.worstPair = {creative, observed, expected: q, bound, ratio};
    }
  }
  check(
    'every row has a known creative',
    foreign === 0,
    `${foreign} unknown creative ids`,
  );
  check(
    'every creative is served to its one target store',
    wrongTarget === 0,
    `${wrongTarget} creatives seen with another target`,
  );
  check(
    'every creative rate within its bound',
    outside === 0,
    `${outside} of ${rows.perCreative.size} outside; worst at ${report.worstPair ? report.worstPair.ratio.toFixed(3) : '-'} of its bound`,
  );
  const tallies: Tally[] = [];
  for (const [creative, [n, positives]] of rows.perCreative) {
    const q = tables.pairProbOf(creative);
    if (q !== undefined) tallies.push({id: creative, rows: n, positives, q});
  }
  const creatives = binomialGoodnessOfFit(tallies, alpha);
  const targetStores = pooledGoodnessOfFit(
    poolByTarget(tallies, c => tables.targetOf(c)),
    alpha,
  );
  report.statistics.creatives = creatives;
  report.statistics.targetStores = targetStores;
  check(
    'labels fit the true probabilities over all creatives',
    creatives.ok,
    describeFit(creatives, 'creatives'),
  );
  check(
    'labels fit the true probabilities over all target stores',
    targetStores.ok,
    describeFit(targetStores, 'target stores'),
  );
  check(
    'empirical totals match metadata',
    head.empirical.rows === rows.rows &&
      head.empirical.positives === rows.positives,
    `${rows.rows} rows / ${rows.positives} positives, metadata says ${head.empirical.rows} / ${head.empirical.positives}`,
  );
}

/** One line: the statistic, its p-value, the threshold and the worst group. */
export function describeFit(fit: GoodnessOfFit, groups: string): string {
  const worst = fit.worst
    ? `; worst ${fit.worst.id}: ${fit.worst.positives}/${fit.worst.rows} vs q ${fit.worst.q.toFixed(4)}, p ${fit.worst.pValue.toPrecision(3)}`
    : '';
  return `X = ${fit.statistic.toFixed(1)} over ${fit.groups} ${groups} (chi-square, ${fit.degreesOfFreedom} d.f.), p = ${fit.pValue.toPrecision(3)}, fails below ${fit.alpha.toPrecision(2)}${worst}`;
}
