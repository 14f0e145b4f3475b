/**
 * The demo's flags (local/demo-usage.txt), checked before anything starts: a
 * bad one is one line and exit 2. Its imports stay within shared/ modules
 * that import no package, so scripts/demo.sh can run it from source
 * (local/check-demo-flags.ts, on Node.js 24) before installing or building.
 */
import {parseArgs} from 'node:util';
import {DEFAULTS, MAX_SEED} from '../shared/dataset/config.js';
import {parseOptionalIntegerInRange} from '../shared/dataset/integer.js';
import {MAX_SHARDS, resolveShardCount} from '../shared/dataset/shard-plan.js';
import {ConfigurationError, InvalidArgumentError} from '../shared/errors.js';
import {settingsFromEnv} from '../shared/settings.js';

export type DemoFlags =
  {help: true} | {help: false; request: Record<string, number>; keep?: string};

/** A flag's integer, as the CLI reads it (digits, `_` separators allowed). */
function integerFlag(
  raw: string | undefined,
  flag: string,
  field: string,
  bounds: {min: number; max: number; maxLabel?: string},
): number | undefined {
  return parseOptionalIntegerInRange(raw, flag, bounds, {
    field,
    separators: true,
  });
}

/** Flags, checked before anything starts; throws InvalidArgumentError (or ConfigurationError for a bad MAX_SAMPLES). */
export function parseDemoFlags(args: string[]): DemoFlags {
  let values;
  try {
    ({values} = parseArgs({
      args,
      options: {
        samples: {type: 'string'},
        seed: {type: 'string'},
        shards: {type: 'string'},
        keep: {type: 'string'},
        help: {type: 'boolean', short: 'h'},
      },
    }));
  } catch (error) {
    throw new InvalidArgumentError(
      `${(error as Error).message.split('\n')[0]} (see npm run demo -- --help)`,
    );
  }
  if (values.help) return {help: true};
  const {maxSamples} = settingsFromEnv().limits;
  const request: Record<string, number> = {};
  const samples = integerFlag(values.samples, '--samples', 'nSamples', {
    min: 1,
    max: maxSamples,
  });
  const seed = integerFlag(values.seed, '--seed', 'seed', {
    min: 0,
    max: MAX_SEED,
    maxLabel: '2^53-1',
  });
  const shards = integerFlag(values.shards, '--shards', 'shards', {
    min: 1,
    max: MAX_SHARDS,
  });
  if (samples !== undefined) request.nSamples = samples;
  if (seed !== undefined) request.seed = seed;
  if (shards !== undefined) {
    // The service's rule (docs/design.md §2): every shard at least one 65,536-row block.
    request.shards = resolveShardCount(
      samples ?? DEFAULTS.nSamples,
      shards,
      '--shards',
    );
  }
  if (values.keep === '') {
    throw new InvalidArgumentError('--keep must name a folder, got ""', 'keep');
  }
  return {help: false, request, keep: values.keep};
}

/** The one line a bad flag gets, or undefined when the flags are good. */
export function demoFlagError(args: string[]): string | undefined {
  try {
    parseDemoFlags(args);
    return undefined;
  } catch (error) {
    if (
      error instanceof InvalidArgumentError ||
      error instanceof ConfigurationError
    )
      return `demo: ${error.message}`;
    throw error;
  }
}
