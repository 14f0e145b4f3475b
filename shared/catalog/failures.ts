/**
 * Which failures are worth retrying (docs/design.md §6). Only errors that a later
 * attempt can fix are transient: Cloud Storage 408/429/5xx, a connection
 * reset or refused, Firestore UNAVAILABLE, ABORTED, DEADLINE_EXCEEDED and
 * RESOURCE_EXHAUSTED, and our own UnavailableError. Everything else (a
 * RangeError, a 403, INVALID_ARGUMENT, ...) fails the same way every time.
 */
import {UnavailableError} from '../errors.js';

export const FAILURE_KINDS = ['transient', 'deterministic'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** gRPC status codes (Firestore) that a retry can fix. */
export const TRANSIENT_GRPC_CODES: ReadonlyMap<number, string> = new Map([
  [4, 'DEADLINE_EXCEEDED'],
  [8, 'RESOURCE_EXHAUSTED'],
  [10, 'ABORTED'],
  [14, 'UNAVAILABLE'],
]);

/** Socket-level failures (Node and undici) that a retry can fix. */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function isTransientHttpStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

function kindOfOne(error: unknown): FailureKind | undefined {
  if (error instanceof UnavailableError) return 'transient';
  if (typeof error !== 'object' || error === null) return undefined;
  const {code, status, response} = error as {
    code?: unknown;
    status?: unknown;
    response?: {status?: unknown};
  };
  if (typeof code === 'number') {
    // Cloud Storage's ApiError carries the HTTP status; gRPC codes are 0..16.
    if (code >= 100)
      return isTransientHttpStatus(code) ? 'transient' : 'deterministic';
    return TRANSIENT_GRPC_CODES.has(code) ? 'transient' : 'deterministic';
  }
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code))
    return 'transient';
  const httpStatus =
    typeof status === 'number'
      ? status
      : typeof response?.status === 'number'
        ? response.status
        : undefined;
  if (httpStatus !== undefined)
    return isTransientHttpStatus(httpStatus) ? 'transient' : 'deterministic';
  return undefined;
}

/**
 * The kind of a failure, looking through `cause` chains (a fetch failure
 * wraps the socket error) and AggregateErrors (any transient part makes the
 * whole transient). Unknown errors are deterministic: retrying a bug only
 * repeats it.
 */
export function failureKind(error: unknown): FailureKind {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === undefined || current === null || seen.has(current))
      continue;
    seen.add(current);
    if (kindOfOne(current) === 'transient') return 'transient';
    if (current instanceof AggregateError) queue.push(...current.errors);
    if (current instanceof Error) queue.push(current.cause);
  }
  return 'deterministic';
}

export function isTransient(error: unknown): boolean {
  return failureKind(error) === 'transient';
}

/** A short description for logs and failed versions: the message, never a stack. */
export function describeFailure(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
