/**
 * The JSON error of docs/design.md §5, `{"error": {code, message, field?, requestId}}`,
 * and the one mapping from domain errors to status codes. Node-level (no
 * Express), so the front door can answer before Express has seen a request.
 */
import type {IncomingMessage, ServerResponse} from 'node:http';
import {drainAfterAnswer} from './drain.js';
import {VersionNotReadyError} from '../shared/catalog/statuses.js';
import type {DatasetStatus} from '../shared/catalog/records.js';
import {DatasetError, UnavailableError} from '../shared/errors.js';

export const HTTP_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'FAILED_PRECONDITION',
  'ALREADY_EXISTS',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'DATA_LOSS',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
    /** a 409 for a version that is not ready: its status (statuses.ts) */
    readonly versionStatus?: DatasetStatus,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    field?: string;
    /** on a 409 for a version that is not ready: `generating` or `failed` */
    versionStatus?: DatasetStatus;
    requestId: string;
  };
}

const STATUS_OF: Record<DatasetError['code'], number> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  FAILED_PRECONDITION: 409,
  ALREADY_EXISTS: 409,
  DATA_LOSS: 500,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Any thrown value as the answer the client gets: internals become a bare 500. */
export function toHttpError(error: unknown, requestId: string): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof UnavailableError) {
    return new HttpError(503, 'UNAVAILABLE', error.message, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterSeconds))),
    });
  }
  if (error instanceof VersionNotReadyError) {
    const retry = error.retryAfterSeconds;
    return new HttpError(
      409,
      'FAILED_PRECONDITION',
      error.message,
      undefined,
      retry === undefined ? {} : {'Retry-After': String(retry)},
      error.versionStatus,
    );
  }
  if (
    error instanceof DatasetError &&
    error.code !== 'INTERNAL' &&
    error.code !== 'DATA_LOSS'
  ) {
    return new HttpError(
      STATUS_OF[error.code],
      error.code,
      error.message,
      error.field,
    );
  }
  return new HttpError(
    500,
    'INTERNAL',
    `internal error; the logs have the details under request id ${requestId}`,
  );
}

export function errorBody(http: HttpError, requestId: string): ErrorBody {
  const body: ErrorBody = {
    error: {code: http.code, message: http.message, requestId},
  };
  if (http.field !== undefined) body.error.field = http.field;
  if (http.versionStatus !== undefined)
    body.error.versionStatus = http.versionStatus;
  return body;
}

export function badRequest(message: string, field?: string): HttpError {
  return new HttpError(400, 'INVALID_ARGUMENT', message, field);
}

/**
 * Writes the JSON error with plain Node calls (works before and after
 * Express has decorated `res`), then drops, within bounds, whatever body
 * the client is still sending (drain.ts).
 */
export function writeError(
  req: IncomingMessage,
  res: ServerResponse,
  http: HttpError,
  requestId: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(errorBody(http, requestId));
  res.statusCode = http.status;
  for (const [name, value] of Object.entries(http.headers))
    res.setHeader(name, value);
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
  drainAfterAnswer(req, res);
}
