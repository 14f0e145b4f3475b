/**
 * verify's checks of a dataset drawn under a logging policy
 * (docs/design.md §12, docs/verify.md "Logging policies"): what the files'
 * first pass runs on the rows (row-checks.ts), then, with its results, the
 * pscore and policy_epoch checks, an adaptive log's second pass
 * (adaptive-runs.ts), the creatives drawn against the policy
 * (draw-fit.ts, inside the family-wise bound) and the metadata's policy
 * members (policy-metadata.ts).
 */
import type {Format} from '../../dataset/config.js';
import type {RowSchemaConfig} from '../../formats/row-schema.js';
import type {MetadataHead} from '../../metadata/document.js';
import type {ProbabilityTables} from '../../metadata/probability-tables.js';
import {epochPlan, rowWeightedValue} from '../../policy/adaptive.js';
import {storesOf} from '../../policy/stores.js';
import {isAdaptive, type LoggingPolicy} from '../../policy/spec.js';
import {
  bestCreativeIds,
  bestValue,
  policyValue,
  uniformValue,
} from '../../policy/values.js';
import {
  addCreativeChains,
  addPart,
  addStoreChain,
  drawFitOf,
  emptyPart,
  type DrawFit,
  type DrawFitPart,
} from '../statistics/draw-fit.js';
import type {
  Check,
  DataFilesReport,
  ReadFile,
  RowCheckOptions,
} from '../verify-files.js';
import {
  firstPassCheck,
  mergeRuns,
  planRuns,
  runAdaptiveRuns,
  runTasks,
  type AdaptiveRun,
} from './adaptive-runs.js';
import {
  ExpectationsError,
  modelOfTables,
  policyExpectations,
  type PolicyExpectations,
} from './expectations.js';
import {checkFixedPscores, pscorePrecisionOf} from './fixed-pscores.js';
import {
  entriesOf,
  policyMetadataChecks,
  readPolicyMetadata,
} from './policy-metadata.js';
import type {
  AdaptiveContext,
  AdaptiveRowsResult,
  FixedRowsResult,
} from './row-checks.js';

export interface PolicyChecks {
  checks: Check[];
  /** the creatives drawn against the policy; null when no format was read whole */
  draws: DrawFit | null;
}

export class PolicyVerification {
  private readonly expectations: PolicyExpectations | null;
  private readonly failure: string | null;
  private readonly context: AdaptiveContext | null = null;
  private readonly runs = new Map<Format, AdaptiveRun[]>();

  constructor(
    private readonly head: MetadataHead,
    private readonly tables: ProbabilityTables,
    readonly policy: LoggingPolicy,
    private readonly workers: number,
  ) {
    let expectations: PolicyExpectations | null = null;
    let failure: string | null = null;
    try {
      expectations = policyExpectations(
        head.config,
        policy,
        modelOfTables(tables),
      );
    } catch (error) {
      if (!(error instanceof ExpectationsError)) throw error;
      failure = error.message;
    }
    this.expectations = expectations;
    this.failure = failure;
    if (expectations && isAdaptive(policy)) {
      this.context = {
        policy,
        nSamples: head.config.nSamples,
        model: expectations.model,
        noise: expectations.noise,
      };
    }
  }

  private indexOf = (creative: string) => this.tables.creativeIndexOf(creative);

  /** What the columns depend on: pscore with a policy, policy_epoch when adaptive. */
  private get schemaConfig(): RowSchemaConfig {
    return {
      loggingPolicy: isAdaptive(this.policy)
        ? {adaptive: this.policy.adaptive}
        : {},
    };
  }

  /** What the files' first pass reads and runs (verify-files.ts). */
  rowChecks(): RowCheckOptions {
    return {
      schemaConfig: this.schemaConfig,
      rowCheckFor: (format, index, firstRow) => {
        if (!this.expectations) return undefined;
        if (!this.context) return {kind: 'fixed'};
        let runs = this.runs.get(format);
        if (!runs) {
          const object = this.head.objects[format];
          const rows =
            object && 'shards' in object
              ? object.shards.map(s => s.rows)
              : [this.head.config.nSamples];
          runs = planRuns(
            rows,
            this.context.policy.adaptive.updateEveryBlocks,
            this.workers,
          );
          this.runs.set(format, runs);
        }
        return firstPassCheck(
          index,
          firstRow,
          runs,
          this.context,
          pscorePrecisionOf(format),
        );
      },
    };
  }

  /** Everything else, once the first pass is done. */
  async finish(
    files: DataFilesReport,
    metadataPath: string,
    alpha: number,
  ): Promise<PolicyChecks> {
    const checks: Check[] = [];
    const expectations = this.expectations;
    if (!expectations) {
      checks.push({
        name: 'the logging policy recomputes from the metadata',
        ok: false,
        detail: this.failure ?? 'unknown',
      });
      return {checks, draws: null};
    }
    const read = files.files ?? {};
    const formats = (['parquet', 'tfrecord'] as const).filter(f => read[f]);
    if (formats.length === 0) {
      checks.push({
        name: 'the rows follow the logging policy',
        ok: false,
        detail: 'not checked: no format has every file readable',
      });
    }
    const primary = formats[0];
    let draws: DrawFitPart | null = null;
    let adaptive: AdaptiveRowsResult | null = null;
    for (const format of formats) {
      const formatFiles = read[format] as ReadFile[];
      if (expectations.pi) {
        checks.push(
          checkFixedPscores(
            format,
            formatFiles.map(f => f.rowCheck as FixedRowsResult),
            expectations.pi,
            this.indexOf,
          ),
        );
        if (format === primary) draws = this.fixedDraws(formatFiles);
      } else {
        const merged = await this.adaptiveRows(format, formatFiles);
        checks.push(...adaptiveChecks(format, merged, this.context!));
        if (format === primary) {
          adaptive = merged;
          draws = emptyPart();
          addPart(draws, merged.fit);
        }
      }
    }
    if (draws && primary) {
      this.addStoreShares(draws, read[primary] as ReadFile[]);
    }
    const fit = draws ? drawFitOf(draws, alpha) : null;
    if (fit)
      checks.push({
        name: 'creatives drawn fit p(t) pi_b(c | t) (stores, then creatives per store)',
        ok: fit.ok,
        detail: describeDraws(fit, this.context !== null),
      });
    checks.push(...(await this.metadataChecks(metadataPath, adaptive)));
    return {checks, draws: fit};
  }

  /** A fixed policy: every store's creatives against pi_b's drawn weights, all rows at once. */
  private fixedDraws(files: readonly ReadFile[]): DrawFitPart {
    const {model, weights} = this.expectations!;
    const counts = new Float64Array(model.creativeIds.length);
    for (const f of files)
      for (const [creative, [n]] of f.summary.perCreative) {
        const c = this.indexOf(creative);
        if (c !== undefined) counts[c] += n;
      }
    const part = emptyPart();
    addCreativeChains(
      part,
      storesOf(model),
      counts,
      weights as Float64Array,
      model.creativeIds,
    );
    return part;
  }

  /** The stores' shares of all rows: |C_t| / C under any policy. */
  private addStoreShares(part: DrawFitPart, files: readonly ReadFile[]): void {
    const {model} = this.expectations!;
    const stores = storesOf(model);
    const storeCounts = new Float64Array(stores.nStores);
    for (const f of files)
      for (const [creative, [n]] of f.summary.perCreative) {
        const c = this.indexOf(creative);
        if (c !== undefined) storeCounts[model.creativeTarget[c]] += n;
      }
    addStoreChain(part, stores, storeCounts, model.targetIds);
  }

  /** An adaptive log's rows: the first file's check and the runs of the rest. */
  private async adaptiveRows(
    format: Format,
    files: readonly ReadFile[],
  ): Promise<AdaptiveRowsResult> {
    const context = this.context!;
    const runs = this.runs.get(format) ?? [];
    const tasks = runTasks(
      runs,
      files,
      context,
      pscorePrecisionOf(format),
      this.indexOf,
      this.schemaConfig,
    );
    const results = await runAdaptiveRuns(tasks, this.workers);
    return mergeRuns([files[0].rowCheck as AdaptiveRowsResult, ...results]);
  }

  private async metadataChecks(
    path: string,
    adaptive: AdaptiveRowsResult | null,
  ): Promise<Check[]> {
    const {model, pi} = this.expectations!;
    const ids = model.creativeIds;
    const best = Object.entries(bestCreativeIds(model));
    const metadata = await readPolicyMetadata(path, {
      loggingProbs: pi
        ? {length: ids.length, at: i => [ids[i], pi[i]]}
        : entriesOf([]),
      bestCreative: entriesOf(best),
    });
    const {nSamples} = this.head.config;
    let epochs: Array<{
      epoch: number;
      firstRow: number;
      rows: number;
      value: number;
    }> | null = null;
    let logging = pi ? policyValue(pi, model) : NaN;
    if (this.context) {
      const values = new Map(adaptive?.epochs.map(e => [e.epoch, e.value]));
      const plan = epochPlan(
        nSamples,
        this.context.policy.adaptive.updateEveryBlocks,
      );
      epochs = plan.map(e => ({
        epoch: e.epoch,
        firstRow: e.firstRow,
        rows: e.rows,
        value: values.get(e.epoch) ?? NaN,
      }));
      logging = rowWeightedValue(epochs, nSamples);
    }
    return policyMetadataChecks(metadata, {
      loggingPolicy: this.policy,
      adaptive: this.context !== null,
      values: {logging, uniform: uniformValue(model), best: bestValue(model)},
      epochs,
    });
  }
}

/** policy_epoch, pscore and the creatives of an adaptive log's rows, for one format. */
function adaptiveChecks(
  format: Format,
  merged: AdaptiveRowsResult,
  context: AdaptiveContext,
): Check[] {
  const k = context.policy.adaptive.updateEveryBlocks;
  const float32 = pscorePrecisionOf(format) === 'float32';
  const e = merged.firstEpochMismatch;
  const p = merged.firstPscoreMismatch;
  return [
    {
      name: `${format}: policy_epoch is floor(row / 65,536 / ${k}) on every row`,
      ok: merged.epochMismatches === 0,
      detail:
        merged.epochMismatches === 0
          ? `${merged.rows} rows in ${merged.epochs.length} epochs`
          : `${merged.epochMismatches} of ${merged.rows} rows differ; e.g. row ${e!.row}: policy_epoch ${e!.found}, expected ${e!.expected}`,
    },
    {
      name: `${format}: pscore is pi_e(c | m(c)), pi_e from the file's earlier rows, on every row`,
      ok: merged.pscoreMismatches === 0 && merged.unknownCreatives === 0,
      detail:
        merged.pscoreMismatches === 0
          ? `${merged.rows} rows, ${float32 ? 'equal as float32' : 'exactly equal'}${merged.unknownCreatives > 0 ? `; ${merged.unknownCreatives} rows of unknown creatives not counted` : ''}`
          : `${merged.pscoreMismatches} of ${merged.rows} rows differ; e.g. row ${p!.row} (${p!.creative}, epoch ${p!.epoch}): pscore ${p!.found}, pi_e ${p!.expected}${float32 ? ' (as float32)' : ''}`,
    },
  ];
}

function describeDraws(fit: DrawFit, adaptive: boolean): string {
  const worst = fit.worst
    ? `; worst ${fit.worst.id}: ${fit.worst.drawn} of ${fit.worst.trials} vs p ${fit.worst.probability.toPrecision(4)}, p-value ${fit.worst.pValue.toPrecision(3)}`
    : '';
  return `X = ${fit.statistic.toFixed(1)} over ${fit.groups} conditional binomials${adaptive ? ' (per epoch and run of files against pi_e)' : ''} (chi-square, ${fit.degreesOfFreedom} d.f.), p = ${fit.pValue.toPrecision(3)}, fails below ${fit.alpha.toPrecision(2)}${worst}`;
}
