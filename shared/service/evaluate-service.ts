/**
 * POST /evaluatePolicy's domain (docs/design.md §12): `{version, policy}` ->
 * the exact values of the policy, the version's logging policy, uniform and
 * best, from the model rebuilt out of the recorded config. Reads the
 * catalogue only; writes nothing and keeps nothing past the request.
 */
import {buildModel} from '../dataset/model.js';
import {InvalidArgumentError} from '../errors.js';
import {describeValue, isPlainObject} from '../policy/spec.js';
import {
  evaluateVersionPolicy,
  type PolicyEvaluation,
} from '../policy/evaluate-version.js';
import {resolveReady, type VersionSelector} from './load-service.js';
import type {ServiceContext} from './service-context.js';

export interface EvaluateRequest {
  selector: VersionSelector;
  /** unchecked: it is validated against the version's model */
  policy: unknown;
}

export interface EvaluateAnswer extends PolicyEvaluation {
  version: number;
}

const MEMBERS = ['version', 'policy'];
const SHAPE = '{"version": N | "latest", "policy": {...}}';

function versionOf(value: unknown): VersionSelector {
  if (value === undefined) {
    throw new InvalidArgumentError(
      'version is required: a positive integer or "latest"',
      'version',
    );
  }
  if (value === 'latest') return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `version must be a positive integer or "latest", got ${describeValue(value)}`,
      'version',
    );
  }
  return value;
}

/**
 * The body's shape, checked before any read: an object of `version` and
 * `policy` only (unknown member: its name is the field), a version, a policy.
 */
export function parseEvaluateRequest(body: unknown): EvaluateRequest {
  if (!isPlainObject(body)) {
    throw new InvalidArgumentError(
      `the body must be a JSON object ${SHAPE}, got ${describeValue(body)}`,
    );
  }
  for (const key of Object.keys(body)) {
    if (!MEMBERS.includes(key)) {
      throw new InvalidArgumentError(
        `${JSON.stringify(key.slice(0, 64))} is not a member of an evaluation request; allowed: ${MEMBERS.join(', ')}`,
        key.slice(0, 64),
      );
    }
  }
  const selector = versionOf(body.version);
  if (body.policy === undefined) {
    throw new InvalidArgumentError(
      'policy is required: a named policy such as {"type": "softmax", "beta": 10} or {"probs": {creative id: probability}}',
      'policy',
    );
  }
  return {selector, policy: body.policy};
}

/** 404 / 409 exactly as the loaders (resolveReady), then the values. */
export async function evaluatePolicy(
  request: EvaluateRequest,
  context: ServiceContext,
): Promise<EvaluateAnswer> {
  const record = await resolveReady(request.selector, context);
  const started = performance.now();
  const model = buildModel(record.config);
  const values = evaluateVersionPolicy(record.config, model, request.policy);
  context.log.log('INFO', 'evaluated a policy', {
    version: record.version,
    nCreativePackIds: record.config.nCreativePackIds,
    ms: Math.round(performance.now() - started),
  });
  return {version: record.version, ...values};
}
