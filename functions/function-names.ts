/**
 * The seven functions and their signature types: the names Terraform deploys
 * and the local stack serves. No side effects, so anything may import it.
 */
export const FUNCTION_NAMES = [
  'generateDataset',
  'recordDatasetMetadata',
  'generateShard',
  'loadParquet',
  'loadTfrecord',
  'loadMetadata',
  'listDatasets',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export function isFunctionName(value: unknown): value is FunctionName {
  return (FUNCTION_NAMES as readonly unknown[]).includes(value);
}

export const SIGNATURE_TYPES: Readonly<
  Record<FunctionName, 'http' | 'cloudevent'>
> = {
  generateDataset: 'http',
  recordDatasetMetadata: 'cloudevent',
  generateShard: 'cloudevent',
  loadParquet: 'http',
  loadTfrecord: 'http',
  loadMetadata: 'http',
  listDatasets: 'http',
};
