/**
 * Logging policies as the request names them (docs/design.md §12): the
 * types, their resolved form (every parameter explicit) and the one parser
 * that validates an untrusted value into it, with errors naming the JSON
 * path, the bound and the value.
 */
import {InvalidArgumentError} from '../errors.js';

export const LOGGING_POLICY_TYPES = [
  'uniform',
  'softmax',
  'epsilon-greedy',
] as const;
export type LoggingPolicyType = (typeof LOGGING_POLICY_TYPES)[number];

export function isLoggingPolicyType(
  value: unknown,
): value is LoggingPolicyType {
  return (LOGGING_POLICY_TYPES as readonly unknown[]).includes(value);
}

/** |beta| at most this: exp(beta * (s - max s)) stays meaningful in doubles. */
export const MAX_ABS_BETA = 1_000_000;
export const MAX_UPDATE_EVERY_BLOCKS = 16_384;
/** An adaptive policy keeps per-creative counts and redraws pi per epoch. */
export const MAX_ADAPTIVE_CREATIVES = 10_000;

export interface AdaptiveSpec {
  /** k: the policy is recomputed before blocks 0, k, 2k, ... */
  updateEveryBlocks: number;
}

export interface UniformPolicy {
  type: 'uniform';
}

export interface SoftmaxPolicy {
  type: 'softmax';
  beta: number;
  scoreNoise: number;
  adaptive?: AdaptiveSpec;
}

export interface EpsilonGreedyPolicy {
  type: 'epsilon-greedy';
  epsilon: number;
  scoreNoise: number;
  adaptive?: AdaptiveSpec;
}

/** The resolved form, recorded as config.loggingPolicy and metadata.logging_policy. */
export type LoggingPolicy = UniformPolicy | SoftmaxPolicy | EpsilonGreedyPolicy;
/** The policies that rank creatives by a score. */
export type ScoredPolicy = SoftmaxPolicy | EpsilonGreedyPolicy;
export type AdaptivePolicy = ScoredPolicy & {adaptive: AdaptiveSpec};

export function isAdaptive(policy: LoggingPolicy): policy is AdaptivePolicy {
  return policy.type !== 'uniform' && policy.adaptive !== undefined;
}

/** Members each type accepts, in the order the resolved form lists them. */
const MEMBERS: Record<LoggingPolicyType, readonly string[]> = {
  uniform: ['type'],
  softmax: ['type', 'beta', 'scoreNoise', 'adaptive'],
  'epsilon-greedy': ['type', 'epsilon', 'scoreNoise', 'adaptive'],
};
const ANY_MEMBER = ['type', 'beta', 'epsilon', 'scoreNoise', 'adaptive'];
const ADAPTIVE_MEMBERS = ['updateEveryBlocks'];

/**
 * The policy with its members in the resolved form's order (a store that
 * reorders map keys, as Firestore does, hands them back in another).
 */
export function inResolvedOrder(policy: LoggingPolicy): LoggingPolicy {
  const given = policy as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const key of MEMBERS[policy.type]) {
    if (given[key] === undefined) continue;
    ordered[key] =
      key === 'adaptive'
        ? {
            updateEveryBlocks: (policy as AdaptivePolicy).adaptive
              .updateEveryBlocks,
          }
        : given[key];
  }
  return ordered as unknown as LoggingPolicy;
}

/** A value as an error message shows it (config.ts's convention). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function refuseUnknownMembers(
  record: Record<string, unknown>,
  path: string,
  allowed: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `${path}.${key} is not a member of ${what}; allowed: ${allowed.join(', ')}`,
        `${path}.${key}`,
      );
    }
  }
}

export interface PolicyParseOptions {
  /** the dataset's creatives: an adaptive policy needs at most 10,000 */
  nCreativePackIds: number;
  /** the JSON path of the policy in its request (default `loggingPolicy`) */
  path?: string;
  /** false for an evaluated policy, which must not be adaptive (default true) */
  allowAdaptive?: boolean;
}

function betaOf(value: unknown, path: string): number {
  if (!finiteNumber(value) || Math.abs(value) > MAX_ABS_BETA) {
    throw new InvalidArgumentError(
      `${path}.beta must be a finite number in [-${MAX_ABS_BETA}, ${MAX_ABS_BETA}], got ${describeValue(value)}`,
      `${path}.beta`,
    );
  }
  return value;
}

function epsilonOf(value: unknown, path: string): number {
  if (!finiteNumber(value) || value < 0 || value > 1) {
    throw new InvalidArgumentError(
      `${path}.epsilon must be a number in [0, 1], got ${describeValue(value)}`,
      `${path}.epsilon`,
    );
  }
  return value;
}

function scoreNoiseOf(value: unknown, path: string): number {
  if (value === undefined) return 0;
  if (!finiteNumber(value) || value < 0) {
    throw new InvalidArgumentError(
      `${path}.scoreNoise must be a finite number >= 0, got ${describeValue(value)}`,
      `${path}.scoreNoise`,
    );
  }
  return value;
}

function adaptiveOf(
  value: unknown,
  path: string,
  options: PolicyParseOptions,
): AdaptiveSpec | undefined {
  if (value === undefined) return undefined;
  const field = `${path}.adaptive`;
  if (options.allowAdaptive === false) {
    throw new InvalidArgumentError(
      `${field} is not allowed here: an evaluated policy must not be adaptive`,
      field,
    );
  }
  if (!isPlainObject(value)) {
    throw new InvalidArgumentError(
      `${field} must be an object {"updateEveryBlocks": k}, got ${describeValue(value)}`,
      field,
    );
  }
  refuseUnknownMembers(value, field, ADAPTIVE_MEMBERS, field);
  const k = value.updateEveryBlocks;
  if (
    typeof k !== 'number' ||
    !Number.isInteger(k) ||
    k < 1 ||
    k > MAX_UPDATE_EVERY_BLOCKS
  ) {
    throw new InvalidArgumentError(
      `${field}.updateEveryBlocks must be an integer in 1..${MAX_UPDATE_EVERY_BLOCKS}, got ${describeValue(k)}`,
      `${field}.updateEveryBlocks`,
    );
  }
  if (options.nCreativePackIds > MAX_ADAPTIVE_CREATIVES) {
    throw new InvalidArgumentError(
      `${field} needs nCreativePackIds in 1..${MAX_ADAPTIVE_CREATIVES}, got ${options.nCreativePackIds}`,
      field,
    );
  }
  return {updateEveryBlocks: k};
}

/**
 * Validates an untrusted logging policy and resolves it: softmax
 * `{type, beta, scoreNoise}`, epsilon-greedy `{type, epsilon, scoreNoise}`
 * (scoreNoise 0 when absent), plus `adaptive` only when given; uniform
 * `{type}`. Checks, in order: an object; members known to some policy;
 * the type; members of that type; then each parameter.
 */
export function parseLoggingPolicy(
  value: unknown,
  options: PolicyParseOptions,
): LoggingPolicy {
  const path = options.path ?? 'loggingPolicy';
  if (!isPlainObject(value)) {
    throw new InvalidArgumentError(
      `${path} must be an object such as {"type": "softmax", "beta": 10}, got ${describeValue(value)}`,
      path,
    );
  }
  refuseUnknownMembers(value, path, ANY_MEMBER, 'a policy');
  const type = value.type;
  if (!isLoggingPolicyType(type)) {
    throw new InvalidArgumentError(
      `${path}.type must be one of ${LOGGING_POLICY_TYPES.join(', ')}, got ${describeValue(type)}`,
      `${path}.type`,
    );
  }
  if (type === 'uniform' && value.adaptive !== undefined) {
    throw new InvalidArgumentError(
      `${path}.adaptive applies to softmax and epsilon-greedy only, got type "uniform"`,
      `${path}.adaptive`,
    );
  }
  refuseUnknownMembers(
    value,
    path,
    MEMBERS[type],
    `a policy of type "${type}"`,
  );
  if (type === 'uniform') return {type};
  if (type === 'softmax') {
    const beta = betaOf(value.beta, path);
    const scoreNoise = scoreNoiseOf(value.scoreNoise, path);
    const adaptive = adaptiveOf(value.adaptive, path, options);
    return adaptive
      ? {type, beta, scoreNoise, adaptive}
      : {type, beta, scoreNoise};
  }
  const epsilon = epsilonOf(value.epsilon, path);
  const scoreNoise = scoreNoiseOf(value.scoreNoise, path);
  const adaptive = adaptiveOf(value.adaptive, path, options);
  return adaptive
    ? {type, epsilon, scoreNoise, adaptive}
    : {type, epsilon, scoreNoise};
}
