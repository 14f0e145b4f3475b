import {
  isDatasetStatus,
  type DatasetStatus,
} from '../../shared/catalog/statuses.js';

/**
 * The one error the API client throws: what the server said (status, its
 * error code, message, field, versionStatus, requestId) and which URL
 * answered. The identity token is never part of it.
 */
export class ApiError extends Error {
  /** HTTP status; 0 when no answer came (connection refused, timeout). */
  readonly status: number;
  /** The server's `error.code` (docs/design.md §5), or UNAVAILABLE / INTERNAL when it sent none. */
  readonly code: string;
  readonly field: string | undefined;
  readonly requestId: string | undefined;
  readonly url: string;
  /**
   * On a 409 for a version that is not ready, its status (`generating` or
   * `failed`): what waitReady switches on (shared/catalog/statuses.ts).
   */
  readonly versionStatus: DatasetStatus | undefined;
  /** Seconds from a `Retry-After` (429, 503, a generating 409), when the server sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    fields: {
      status: number;
      code: string;
      message: string;
      url: string;
      field?: string;
      requestId?: string;
      versionStatus?: DatasetStatus;
      retryAfterSeconds?: number;
    },
    cause?: unknown,
  ) {
    super(fields.message, {cause});
    this.name = 'ApiError';
    this.status = fields.status;
    this.code = fields.code;
    this.field = fields.field;
    this.requestId = fields.requestId;
    this.versionStatus = fields.versionStatus;
    this.url = fields.url;
    this.retryAfterSeconds = fields.retryAfterSeconds;
  }

  /**
   * One line for people: `generateDataset answered 404 NOT_FOUND: ...`
   * (with the requestId to find the server's log line); a failure to connect
   * is its message alone.
   */
  summary(): string {
    if (this.status === 0) return this.message;
    const name = new URL(this.url).pathname.split('/').pop() || this.url;
    const request = this.requestId ? ` (request ${this.requestId})` : '';
    return `${name} answered ${this.status} ${this.code}: ${this.message}${request}`;
  }
}

/** The JSON error body of docs/design.md §5, when `body` is one. */
export function errorBodyOf(body: unknown):
  | {
      code: string;
      message: string;
      field?: string;
      versionStatus?: DatasetStatus;
      requestId?: string;
    }
  | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return;
  const error = (body as {error: unknown}).error;
  if (typeof error !== 'object' || error === null) return;
  const {code, message, field, versionStatus, requestId} = error as Record<
    string,
    unknown
  >;
  if (typeof code !== 'string' || typeof message !== 'string') return;
  return {
    code,
    message,
    ...(typeof field === 'string' ? {field} : {}),
    ...(isDatasetStatus(versionStatus) ? {versionStatus} : {}),
    ...(typeof requestId === 'string' ? {requestId} : {}),
  };
}

/** An error as one line: an ApiError's summary(), any other error's message. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.summary();
  return error instanceof Error ? error.message : String(error);
}

/** The answer does not have the shape docs/design.md §5 gives it. */
export class MalformedAnswerError extends Error {
  /** What is wrong, without the function's name. */
  readonly reason: string;

  constructor(what: string, why: string) {
    const reason = `an answer without the shape of docs/design.md §5: ${why}`;
    super(`${what}: ${reason}`);
    this.name = 'MalformedAnswerError';
    this.reason = reason;
  }
}
