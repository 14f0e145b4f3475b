/**
 * The HTTP plumbing every HTTP function shares: query checks, a
 * request-scoped logger, and every error answered as the JSON error of
 * docs/design.md §5 (http-error.ts), with the request id the front door gave the
 * request. Method, path and body were checked by the front door already.
 */
import type {Request, Response} from '@google-cloud/functions-framework';
import {InvalidArgumentError} from '../shared/errors.js';
import {jsonLogger, type Logger} from '../shared/logger.js';
import {exchangeOf, requestIdFrom, type Exchange} from './exchange.js';
import {errorBody, HttpError, toHttpError} from './http-error.js';
import type {FunctionName} from './function-names.js';
import {REQUEST_POLICIES} from './request-policy.js';

export {
  HTTP_ERROR_CODES,
  HttpError,
  toHttpError,
  type HttpErrorCode,
} from './http-error.js';

/** Query parameters: only the known ones, each at most once. */
export function queryOf(
  req: Request,
  allowed: readonly string[],
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(
        `unknown query parameter ${JSON.stringify(key.slice(0, 64))}; allowed: ${allowed.join(', ') || 'none'}`,
        key.slice(0, 64),
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
  name: FunctionName;
  log: () => Logger;
}

/**
 * Wraps a handler: the request's Exchange (set by the front door; a request
 * without one was not checked, and is refused rather than trusted), a
 * request-scoped logger, errors as JSON.
 */
export function httpFunction(
  options: HttpHandlerOptions,
  handler: (
    req: Request,
    log: Logger,
    exchange: Exchange,
  ) => Promise<{status: number; body: unknown}>,
): (req: Request, res: Response) => Promise<void> {
  const method = REQUEST_POLICIES[options.name].method;
  return async (req, res) => {
    const exchange = exchangeOf(req);
    const requestId = exchange?.requestId ?? requestIdFrom(req.headers);
    res.set('X-Request-Id', requestId);
    res.set('Cache-Control', 'no-store');
    let log: Logger = jsonLogger({requestId, function: options.name});
    try {
      log = options.log().with({requestId, function: options.name});
      if (req.method !== method) {
        throw new HttpError(
          405,
          'METHOD_NOT_ALLOWED',
          `${options.name} takes ${method}, got ${req.method}`,
          undefined,
          {Allow: method},
        );
      }
      if (!exchange) {
        throw new Error('the request did not pass the front door');
      }
      const {status, body} = await handler(req, log, exchange);
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
      res.status(http.status).json(errorBody(http, requestId));
    }
  };
}
