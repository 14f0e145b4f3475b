/** Small datasets generated in memory, for tests. */
import {
  resolveConfig,
  type DatasetRequest,
} from '../../shared/dataset/config.js';
import {planOf} from '../../shared/dataset/shard-plan.js';
import {generateDataset} from '../../shared/generation/orchestrator.js';
import {
  dataFileName,
  type DatasetFileKind,
} from '../../shared/dataset/object-names.js';
import {MemoryDestination} from './memory-destination.js';

export const FIXED_TIME = () => new Date('2026-01-02T03:04:05.000Z');

/** `md5`: hash MD5 too, as the CLI's --md5 does (default: no md5 recorded). */
export async function generateInMemory(
  request: DatasetRequest,
  version = 1,
  options: {md5?: boolean} = {},
) {
  const config = resolveConfig({seed: 1, ...request});
  const names = {} as Record<DatasetFileKind, string>;
  for (const kind of ['parquet', 'tfrecord', 'metadata'] as const) {
    names[kind] = dataFileName(kind, version, config.tfrecordCompression);
  }
  const destination = new MemoryDestination();
  const result = await generateDataset({
    config,
    plan: planOf(config),
    version,
    names,
    destination,
    md5: options.md5 ?? false,
    now: FIXED_TIME,
  });
  return {config, names, destination, result};
}
