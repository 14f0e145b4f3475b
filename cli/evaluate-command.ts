/**
 * `exploration-data evaluate DIR --policy JSON`: the exact value of a policy
 * on the dataset in DIR, from its metadata_v{N}.json alone (the model is
 * rebuilt from the recorded config), printed as POST /evaluatePolicy answers
 * it: {version, value, logging, uniform, best} (docs/design.md §12).
 */
import {createReadStream} from 'node:fs';
import {resolve} from 'node:path';
import {buildModel, type DatasetModel} from '../shared/dataset/model.js';
import {
  DataLossError,
  InvalidArgumentError,
  MalformedMetadataError,
} from '../shared/errors.js';
import type {ProbabilitiesSummary} from '../shared/metadata/probabilities-summary.js';
import {RunningSummary} from '../shared/metadata/probabilities-summary.js';
import {readMetadata, type MetadataRead} from '../shared/metadata/read.js';
import {parseJsonFlag} from './json-flag.js';
import {evaluateVersionPolicy} from '../shared/policy/evaluate-version.js';
import type {EvaluateAnswer} from '../shared/service/evaluate-service.js';
import {findMetadata} from '../shared/verify/verify.js';
import {DATASET_VERSION_BOUNDS, parseIntegerFlag} from './generate-command.js';

export interface EvaluateFlags {
  policy: string;
  datasetVersion?: string;
}

async function readHead(path: string): Promise<MetadataRead> {
  try {
    return await readMetadata(createReadStream(path, {highWaterMark: 1 << 20}));
  } catch (error) {
    if (error instanceof MalformedMetadataError)
      throw new InvalidArgumentError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * The rebuilt model is the metadata's: its pair_probs, summed in file
 * (= creative index) order, give the same count, min, max and mean bits.
 */
function checkModel(
  model: DatasetModel,
  recorded: ProbabilitiesSummary,
  path: string,
): void {
  const rebuilt = new RunningSummary();
  for (const q of model.pairProbs) rebuilt.add(q);
  const mine = rebuilt.result();
  if (
    mine.count !== recorded.count ||
    mine.min !== recorded.min ||
    mine.max !== recorded.max ||
    mine.mean !== recorded.mean
  ) {
    throw new DataLossError(
      `${path}: its pair_probs (mean ${recorded.mean}) are not those of the model its config gives (mean ${mine.mean}); was it written by another generator?`,
    );
  }
}

export async function evaluateDirectory(
  directory: string,
  policyJson: string,
  datasetVersion?: number,
): Promise<EvaluateAnswer> {
  const policy = parseJsonFlag(policyJson, '--policy', 'policy');
  const path = await findMetadata(resolve(directory), datasetVersion);
  const read = await readHead(path);
  const config = read.head.config;
  const model = buildModel(config);
  checkModel(model, read.pairProbs, path);
  return {
    version: read.head.version,
    ...evaluateVersionPolicy(config, model, policy),
  };
}

export async function runEvaluate(
  directory: string,
  flags: EvaluateFlags,
): Promise<void> {
  const answer = await evaluateDirectory(
    directory,
    flags.policy,
    parseIntegerFlag(
      flags.datasetVersion,
      'datasetVersion',
      DATASET_VERSION_BOUNDS,
    ),
  );
  process.stdout.write(JSON.stringify(answer) + '\n');
}
