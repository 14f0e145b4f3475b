/**
 * The exploration-data command line: wires flags to the commands and maps
 * every error to one line on stderr and a non-zero exit status.
 * (`main.ts` is the executable; this module has no side effects.)
 */
import {Command, CommanderError, Option} from 'commander';
import {ApiError, describeError} from '../clients/typescript/index.js';
import {STATUS_TABLE} from '../shared/catalog/statuses.js';
import {
  DatasetError,
  InvalidArgumentError,
  ConfigurationError,
} from '../shared/errors.js';
import {GENERATOR} from '../shared/dataset/generator-version.js';
import {runGenerate, type GenerateFlags} from './generate-command.js';
import {runVerify, type VerifyFlags} from './verify-command.js';
import {runFetch, type FetchFlags} from './fetch-command.js';
import {runEvaluate, type EvaluateFlags} from './evaluate-command.js';

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** `--version N` after a command: docs/design.md §9's name for --dataset-version N. */
function datasetVersionAlias(): Option {
  return new Option(
    '--version <n>',
    'the same as --dataset-version N (the spelling of the design contract)',
  );
}

function applyDatasetVersionAlias(command: Command): void {
  const alias = command.getOptionValue('version') as string | undefined;
  if (alias === undefined) return;
  const explicit = command.getOptionValueSource('datasetVersion') === 'cli';
  const current = command.getOptionValue('datasetVersion') as
    string | undefined;
  if (explicit && current !== alias) {
    throw new InvalidArgumentError(
      `--version ${alias} and --dataset-version ${current} disagree; give one of them`,
      'datasetVersion',
    );
  }
  command.setOptionValue('datasetVersion', alias);
}

export function buildProgram(): Command {
  const program = new Command('exploration-data')
    .description(
      'Synthetic ad-exploration datasets with known true install probabilities.',
    )
    .version(
      GENERATOR.version,
      '-V, --version',
      'print the generator version (recorded with every dataset)',
    )
    // Before a command, --version is the program's (the generator version).
    // After one, `--version N` is docs/design.md §9's spelling of --dataset-version N
    // (see datasetVersionAlias): never the program's version printed with exit 0.
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({outputError: () => undefined});

  program
    .command('generate')
    .description(
      'write dataset_v{N}.parquet, dataset_v{N}.tfrecord (or their shards) and metadata_v{N}.json into DIR',
    )
    .requiredOption(
      '--out <dir>',
      'folder to write into (created if missing; existing files are never overwritten)',
    )
    .option(
      '--samples <n>',
      'rows to generate, 1..MAX_SAMPLES (default 10000000)',
    )
    .option('--target-store-ids <n>', 'target stores, 1..10000 (default 10)')
    .option(
      '--creative-pack-ids <n>',
      'creative packs, 1..1000000 (default 100)',
    )
    .option(
      '--seed <n>',
      'seed, 0..2^53-1 (default: drawn at random and recorded)',
    )
    .option(
      '--formats <list>',
      'comma-separated: parquet,tfrecord (default both)',
    )
    .option('--tfrecord-compression <c>', 'none or gzip (default none)')
    .option(
      '--logging-policy <json>',
      'draw each row\'s creative by a logging policy and add a pscore column (docs/design.md §12): {"type":"uniform"}, {"type":"softmax","beta":B}, {"type":"epsilon-greedy","epsilon":E}; optional "scoreNoise":S and, for softmax and epsilon-greedy, "adaptive":{"updateEveryBlocks":K} (adds policy_epoch). Default: none (uniform draw, no pscore)',
    )
    .option(
      '--shards <s>',
      'write S shards per format, dataset_v{N}-00000-of-000SS.*, S in 1..min(1024, ceil(rows / 65536)), the 65536-row blocks split evenly (default 1 up to 33554432 rows, else ceil(rows / 16777216))',
    )
    .option(
      '--workers <w>',
      'worker threads writing shards in parallel (default one per core, at most the shards)',
    )
    .option(
      '--dataset-version <n>',
      'dataset version N used in the file names, 1..2^53-1',
      '1',
    )
    .option(
      '--md5',
      "record each data file's MD5 in the metadata too (off by default: SHA-256 and CRC-32C are always recorded; MD5 costs ~2.5 s of one core per 10M rows)",
    )
    .option(
      '--timings',
      'report the CPU seconds per 1M rows of each stage (draw, encode, hash, write) in the summary (one file only)',
    )
    .option('--json', 'print a JSON summary on stdout instead of text')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .addOption(datasetVersionAlias())
    .hook('preAction', applyDatasetVersionAlias)
    .exitOverride()
    .action(async (flags: GenerateFlags) => runGenerate(flags));

  program
    .command('fetch')
    .description(
      'download a ready version (both files, or every shard, several at once) through the loader functions (signed URLs) into DIR; each file is checked against the size, crc32c and md5 its loader gives, then the folder against everything verify checks; on any failure nothing is kept',
    )
    .requiredOption(
      '--base-url <url>',
      'the functions: https://REGION-PROJECT.cloudfunctions.net, or http://127.0.0.1:8080 locally',
    )
    .requiredOption(
      '--out <dir>',
      'folder to write into (existing files are never overwritten)',
    )
    .option('--dataset-version <n>', 'N or latest', 'latest')
    .option(
      '--token <token>',
      'identity token for the cloud (default: env EXPLORATION_DATA_ID_TOKEN)',
    )
    .option(
      '--gcloud-token',
      'get the identity token from `gcloud auth print-identity-token`',
    )
    .option(
      '--parallel <n>',
      'files (shards) downloaded at once, 1..64 (default 4)',
    )
    .option(
      '--no-verify',
      "skip verify's checks after the downloads (each file's size, crc32c and md5 are still checked)",
    )
    .option('--json', 'print a JSON summary')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .addOption(datasetVersionAlias())
    .hook('preAction', applyDatasetVersionAlias)
    .exitOverride()
    .action(async (flags: FetchFlags) => runFetch(flags));

  program
    .command('verify')
    .argument('<dir>', 'folder holding the files and metadata_v{N}.json')
    .description(
      'check files (or every shard, in parallel) against their metadata: checksums, rows, same rows in both formats, rates within bounds, goodness-of-fit over creatives and target stores',
    )
    .option(
      '--dataset-version <n>',
      'which dataset version, when DIR holds several',
    )
    .option('--json', 'print the report as JSON')
    .addOption(datasetVersionAlias())
    .hook('preAction', applyDatasetVersionAlias)
    .exitOverride()
    .action(async (directory: string, flags: VerifyFlags) => {
      const ok = await runVerify(directory, flags);
      if (!ok) process.exitCode = EXIT_FAILED;
    });

  program
    .command('evaluate')
    .argument('<dir>', 'folder holding metadata_v{N}.json')
    .description(
      "the exact value of a policy on the dataset in DIR, from its metadata alone; prints POST /evaluatePolicy's JSON: {version, value, logging, uniform, best}",
    )
    .requiredOption(
      '--policy <json>',
      'the policy: {"type":"uniform"}, {"type":"softmax","beta":B[,"scoreNoise":S]}, {"type":"epsilon-greedy","epsilon":E[,"scoreNoise":S]} or {"probs":{"<creative id>":P,...}}',
    )
    .option(
      '--dataset-version <n>',
      'which dataset version, when DIR holds several',
    )
    .addOption(datasetVersionAlias())
    .hook('preAction', applyDatasetVersionAlias)
    .exitOverride()
    .action(async (directory: string, flags: EvaluateFlags) =>
      runEvaluate(directory, flags),
    );
  return program;
}

/** Errors that mean the user asked for something wrong: exit 2, not 1. */
export function isBadInput(error: unknown): boolean {
  return (
    error instanceof InvalidArgumentError ||
    error instanceof ConfigurationError ||
    (error instanceof DatasetError &&
      (error.code === 'ALREADY_EXISTS' || error.code === 'NOT_FOUND')) ||
    // the server said the request was wrong: no such version, bad argument,
    // or a version that will never be ready (a terminal status, statuses.ts);
    // a version still generating is worth another try later: exit 1
    (error instanceof ApiError &&
      (error.code === 'NOT_FOUND' ||
        error.code === 'INVALID_ARGUMENT' ||
        (error.versionStatus !== undefined &&
          STATUS_TABLE[error.versionStatus].terminal)))
  );
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      const message = error.message.replace(/^error: /, '');
      process.stderr.write(`exploration-data: ${message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`exploration-data: ${describeError(error)}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    return isBadInput(error) ? EXIT_USAGE : EXIT_FAILED;
  }
}
