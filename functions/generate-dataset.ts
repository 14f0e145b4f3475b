/**
 * POST /generateDataset: body JSON per DESIGN §2 (empty = defaults) ->
 * 201 {version, objects, rows, seed, checksums, durationMs}.
 */
import * as functions from '@google-cloud/functions-framework';
import type {Request} from '@google-cloud/functions-framework';
import {resolveConfig} from '../shared/config.js';
import {InvalidArgumentError} from '../shared/errors.js';
import {generateToBucket} from '../shared/service/generate-service.js';
import {serviceContext} from './context.js';
import {HttpError, httpFunction, queryOf} from './http.js';

export const MAX_BODY_BYTES = 64 * 1024;

/** The request body as JSON: size, media type and syntax checked before anything else. */
export function jsonBodyOf(req: Request): unknown {
  const raw = req.rawBody ?? Buffer.alloc(0);
  if (raw.length > MAX_BODY_BYTES) {
    throw new HttpError(
      413,
      'PAYLOAD_TOO_LARGE',
      `the body must be at most ${MAX_BODY_BYTES} bytes, got ${raw.length}`,
    );
  }
  if (raw.length === 0) return {};
  const type = (req.get('content-type') ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `the body must be application/json, got ${type || 'no content type'}`,
    );
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidArgumentError('the body is not valid JSON');
  }
}

export const generateDatasetHandler = httpFunction(
  {name: 'generateDataset', method: 'POST', log: () => serviceContext().log},
  async (req, log) => {
    queryOf(req, []);
    const context = serviceContext();
    const config = resolveConfig(jsonBodyOf(req), context.settings.limits);
    const body = await generateToBucket(config, {...context, log});
    return {status: 201, body};
  },
);

functions.http('generateDataset', generateDatasetHandler);
