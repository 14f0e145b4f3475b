/**
 * POST /generateDataset: body JSON per docs/design.md §2 (empty = defaults) ->
 * 201 {version, objects, rows, seed, checksums, durationMs} for one shard,
 * 202 {version, status: "generating", shards, rows, seed} for a sharded
 * request (docs/design.md §5). The front door has read the body (JSON, at most
 * 64 KiB, never inflated).
 */
import * as functions from '@google-cloud/functions-framework';
import {resolveConfig} from '../shared/dataset/config.js';
import {InvalidArgumentError} from '../shared/errors.js';
import {
  generateOrFanOut,
  isAccepted,
} from '../shared/service/generate-service.js';
import {MAX_BODY_BYTES} from './body-reader.js';
import {serviceContext} from './instance-context.js';
import type {RequestBody} from './exchange.js';
import {httpFunction, queryOf} from './http.js';

export {MAX_BODY_BYTES};

/** The request as resolveConfig takes it: {} for no body, else a JSON object. */
export function requestObjectOf(body: RequestBody): Record<string, unknown> {
  if (!body.present) return {};
  const value = body.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind =
      value === null
        ? 'null'
        : Array.isArray(value)
          ? 'an array'
          : `a ${typeof value}`;
    throw new InvalidArgumentError(
      `the body must be a JSON object (or empty for all defaults), got ${kind}`,
    );
  }
  return value as Record<string, unknown>;
}

export const generateDatasetHandler = httpFunction(
  {name: 'generateDataset', log: () => serviceContext().log},
  async (req, log, exchange) => {
    queryOf(req, []);
    const context = serviceContext();
    const config = resolveConfig(
      requestObjectOf(exchange.body),
      context.settings.limits,
    );
    const body = await generateOrFanOut(config, {...context, log});
    return {status: isAccepted(body) ? 202 : 201, body};
  },
);

functions.http('generateDataset', generateDatasetHandler);
