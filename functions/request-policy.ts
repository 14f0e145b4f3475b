/**
 * What each function accepts before any of its code runs: one method, and
 * either no body, a JSON body, or a binary-mode CloudEvent (ce-* headers and
 * JSON data, as Eventarc and the local event bridge deliver it). The front
 * door enforces it; the handlers rely on it.
 */
import {isFunctionName, type FunctionName} from './function-names.js';

export const BODY_KINDS = ['none', 'json', 'cloudevent'] as const;
export type BodyKind = (typeof BODY_KINDS)[number];

export interface RequestPolicy {
  method: 'GET' | 'POST';
  body: BodyKind;
}

export const REQUEST_POLICIES: Readonly<Record<FunctionName, RequestPolicy>> = {
  generateDataset: {method: 'POST', body: 'json'},
  recordDatasetMetadata: {method: 'POST', body: 'cloudevent'},
  generateShard: {method: 'POST', body: 'cloudevent'},
  loadParquet: {method: 'GET', body: 'none'},
  loadTfrecord: {method: 'GET', body: 'none'},
  loadMetadata: {method: 'GET', body: 'none'},
  listDatasets: {method: 'GET', body: 'none'},
};

/**
 * The function this process serves, read the way functions-framework reads
 * it (`--target NAME` / `--target=NAME`, else FUNCTION_TARGET, which Cloud
 * Functions sets); undefined when it is not one of ours.
 */
export function servedFunction(
  argv: readonly string[] = process.argv,
  env: Record<string, string | undefined> = process.env,
): FunctionName | undefined {
  let target: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--target=')) target = arg.slice('--target='.length);
    else if (arg === '--target') target = argv[i + 1];
  }
  target ??= env.FUNCTION_TARGET;
  return isFunctionName(target) ? target : undefined;
}
