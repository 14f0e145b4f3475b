/**
 * The HTTP plumbing every HTTP function shares: method and query checks, the
 * JSON error body of DESIGN §5, one mapping from domain errors to status
 * codes, a request id, and no stack trace or internal path to the client.
 */
import type {Request, Response} from '@google-cloud/functions-framework';
import {randomUUID} from 'node:crypto';
import {
  DatasetError,
  InvalidArgumentError,
  UnavailableError,
} from '../shared/errors.js';
import {jsonLogger, type Logger} from '../shared/logger.js';

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
  ) {
    super(message);
  }
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

export function toHttpError(error: unknown, requestId: string): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof UnavailableError) {
    return new HttpError(503, 'UNAVAILABLE', error.message, undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterSeconds))),
    });
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

export function requestIdOf(req: Request): string {
  const execution = req.get('function-execution-id');
  if (execution) return execution;
  const trace = req.get('x-cloud-trace-context');
  if (trace) return trace.split('/')[0];
  return randomUUID();
}

/** Query parameters: only the known ones, each at most once. */
export function queryOf(
  req: Request,
  allowed: readonly string[],
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `unknown query parameter ${JSON.stringify(key)}; allowed: ${allowed.join(', ') || 'none'}`,
        key,
      );
    }
    if (typeof value !== 'string')
      throw new InvalidArgumentError(
        `query parameter ${key} must be given once`,
        key,
      );
    out[key] = value;
  }
  return out;
}

export interface HttpHandlerOptions {
  name: string;
  method: 'GET' | 'POST';
  log: () => Logger;
}

/** Wraps a handler: method check, request-scoped logger, errors as JSON. */
export function httpFunction(
  options: HttpHandlerOptions,
  handler: (
    req: Request,
    log: Logger,
  ) => Promise<{status: number; body: unknown}>,
): (req: Request, res: Response) => Promise<void> {
  return async (req, res) => {
    const requestId = requestIdOf(req);
    res.set('X-Request-Id', requestId);
    res.set('Cache-Control', 'no-store');
    let log: Logger = jsonLogger({requestId, function: options.name});
    try {
      log = options.log().with({requestId, function: options.name});
      if (req.method !== options.method) {
        throw new HttpError(
          405,
          'METHOD_NOT_ALLOWED',
          `${options.name} takes ${options.method}, got ${req.method}`,
          undefined,
          {Allow: options.method},
        );
      }
      const {status, body} = await handler(req, log);
      res.status(status).json(body);
    } catch (error) {
      const http = toHttpError(error, requestId);
      const severity = http.status >= 500 ? 'ERROR' : 'INFO';
      const detail = error instanceof Error ? error.message : String(error);
      log.log(severity, `${options.name} answered ${http.status}: ${detail}`, {
        status: http.status,
        code: http.code,
      });
      res.set(http.headers);
      const body: {
        error: {
          code: string;
          message: string;
          field?: string;
          requestId: string;
        };
      } = {
        error: {code: http.code, message: http.message, requestId},
      };
      if (http.field) body.error.field = http.field;
      res.status(http.status).json(body);
    }
  };
}
