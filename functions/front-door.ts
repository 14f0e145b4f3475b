/**
 * The front door of every function: each request is checked against its
 * function's policy (path, method, encoding, body) and its body read here,
 * before functions-framework's body parsers could inflate or buffer it.
 * A request it refuses is answered here with the JSON error of docs/design.md §5
 * and one log line; one it admits goes on with its Exchange.
 */
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {Logger} from '../shared/logger.js';
import {JSON_BODY, readBody, type BodyRules} from './body-reader.js';
import {requestIdFrom, type Exchange, type RequestBody} from './exchange.js';
import {badRequest, HttpError, toHttpError, writeError} from './http-error.js';
import type {RequestPolicy} from './request-policy.js';

/** The attributes a binary-mode CloudEvent must carry (CloudEvents HTTP binding §3.1). */
const CLOUD_EVENT_HEADERS = [
  'ce-id',
  'ce-source',
  'ce-specversion',
  'ce-type',
] as const;

/** The path a function answers at: its root, as in the cloud. */
function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function check(req: IncomingMessage, name: string, policy: RequestPolicy) {
  const path = pathOf(req.url ?? '/');
  if (path !== '/' && path !== '') {
    throw new HttpError(
      404,
      'NOT_FOUND',
      `${name} answers only at its root; there is nothing at ${JSON.stringify(path.slice(0, 200))}`,
    );
  }
  if (req.method !== policy.method) {
    throw new HttpError(
      405,
      'METHOD_NOT_ALLOWED',
      `${name} takes ${policy.method}, got ${String(req.method).slice(0, 32)}`,
      undefined,
      {Allow: policy.method},
    );
  }
  if (policy.body === 'cloudevent') {
    const missing = CLOUD_EVENT_HEADERS.filter(h => !req.headers[h]);
    if (missing.length > 0) {
      throw badRequest(
        `${name} takes CloudEvents in binary content mode; missing ${missing.join(', ')}`,
      );
    }
  }
}

async function bodyOf(
  req: IncomingMessage,
  name: string,
  policy: RequestPolicy,
): Promise<RequestBody> {
  if (policy.body === 'none') {
    if (
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] ?? '0') !== '0'
    ) {
      throw badRequest(
        `${name} takes its parameters in the query string; a ${policy.method} request must have no body`,
      );
    }
  }
  const rules: BodyRules = JSON_BODY;
  const body = await readBody(req, rules);
  if (policy.body === 'cloudevent') {
    const data = body.present ? body.value : undefined;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw badRequest(`${name}: the event data must be a JSON object`);
    }
  }
  return body;
}

/**
 * Checks and reads `req` for function `name`. Resolves to its Exchange when
 * admitted; otherwise it has already answered and resolves undefined.
 */
export async function admit(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  policy: RequestPolicy,
  log: Logger,
): Promise<Exchange | undefined> {
  const requestId = requestIdFrom(req.headers);
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Cache-Control', 'no-store');
  try {
    check(req, name, policy);
    const body = await bodyOf(req, name, policy);
    return {requestId, functionName: name, body};
  } catch (error) {
    const http = toHttpError(error, requestId);
    log.log(
      http.status >= 500 ? 'ERROR' : 'INFO',
      `${name} answered ${http.status}: ${error instanceof Error ? error.message : String(error)}`,
      {
        requestId,
        function: name,
        status: http.status,
        code: http.code,
        method: String(req.method).slice(0, 32),
      },
    );
    writeError(req, res, http, requestId);
    return undefined;
  }
}
