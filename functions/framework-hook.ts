/**
 * Puts the front door (front-door.ts) in front of functions-framework, whose
 * body parsers would otherwise inflate and buffer a body (up to 1 GiB) before
 * any function code could refuse it. Imported first by index.ts, it wraps
 * `application.handle` of the Express instance functions-framework itself
 * requires; it runs the front door, hands `req.body`/`req.rawBody` on, and
 * renders the framework's crash answers and Express errors as the JSON
 * error. Why and how: docs/http.md.
 */
import {createRequire} from 'node:module';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {jsonLogger, type Logger} from '../shared/logger.js';
import {runInExchange, requestIdFrom, type Exchange} from './exchange.js';
import {admit} from './front-door.js';
import {HttpError, toHttpError, writeError} from './http-error.js';
import {REQUEST_POLICIES, servedFunction} from './request-policy.js';

interface ExpressError {
  status?: number;
  statusCode?: number;
  type?: string;
}

const EXPRESS_CODES: Record<number, HttpError['code']> = {
  400: 'INVALID_ARGUMENT',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** An error Express or a framework middleware passed on (or none: no route) as an HttpError. */
export function frameworkError(error: unknown, requestId: string): HttpError {
  if (error === undefined) {
    return new HttpError(404, 'NOT_FOUND', 'nothing answers at this path');
  }
  const e = (
    typeof error === 'object' && error !== null ? error : {}
  ) as ExpressError;
  const status = e.status ?? e.statusCode ?? 500;
  const code = EXPRESS_CODES[status];
  if (code === undefined) return toHttpError(error, requestId);
  return new HttpError(
    status,
    code,
    e.type === 'entity.parse.failed'
      ? 'the body is not valid JSON'
      : `the request could not be read (${e.type ?? status})`,
  );
}

type Send = (this: ServerResponse, body?: unknown) => unknown;

/**
 * functions-framework answers a crashed or failed function with
 * `X-Google-Status` and `res.send(text)` / `res.sendStatus(500)`; both end
 * in `res.send`, which on this one response is made to send the JSON
 * error instead (the status stays what the framework chose).
 */
function renderCrashAnswersAsJson(
  req: IncomingMessage,
  res: ServerResponse,
  exchange: Exchange,
) {
  const own = res as ServerResponse & {send?: Send};
  own.send = function (this: ServerResponse, body?: unknown) {
    const send = (Object.getPrototypeOf(this) as {send: Send}).send;
    if (this.headersSent || this.getHeader('x-google-status') === undefined) {
      return send.call(this, body);
    }
    const http = toHttpError(
      exchange.failure ?? new Error('crash'),
      exchange.requestId,
    );
    writeError(req, this, http, exchange.requestId);
    return this;
  };
}

type Handle = (
  this: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  callback?: (error?: unknown) => void,
) => void;

interface PatchableApplication {
  handle: Handle;
  frontDoorInstalled?: boolean;
}

/** Installs the wrapper on functions-framework's Express; idempotent. */
export function installFrontDoor(
  log: Logger = jsonLogger(),
  name = servedFunction(),
): void {
  const frameworkRequire = createRequire(
    createRequire(import.meta.url).resolve('@google-cloud/functions-framework'),
  );
  const express = frameworkRequire('express') as {
    application: PatchableApplication;
  };
  const application = express.application;
  if (application.frontDoorInstalled) return;
  const handle = application.handle;
  application.handle = function (req, res, callback) {
    // A mounted sub-app is handled by its parent's door.
    if (callback) return handle.call(this, req, res, callback);
    if (name === undefined) {
      const requestId = requestIdFrom(req.headers);
      writeError(
        req,
        res,
        new HttpError(
          500,
          'INTERNAL',
          'this instance serves no known function',
        ),
        requestId,
      );
      return;
    }
    admit(req, res, name, REQUEST_POLICIES[name], log).then(
      exchange => {
        if (!exchange) return;
        const withBody = req as IncomingMessage & {
          body?: unknown;
          rawBody?: Buffer;
        };
        if (exchange.body.present) {
          withBody.body = exchange.body.value;
          withBody.rawBody = exchange.body.bytes;
        }
        renderCrashAnswersAsJson(req, res, exchange);
        const done = (error?: unknown) => {
          const http = frameworkError(error, exchange.requestId);
          log.log(
            http.status >= 500 ? 'ERROR' : 'INFO',
            `${name} answered ${http.status}: ${error instanceof Error ? error.message : 'no route'}`,
            {
              requestId: exchange.requestId,
              function: name,
              status: http.status,
              code: http.code,
            },
          );
          writeError(req, res, http, exchange.requestId);
        };
        runInExchange(req, exchange, () => handle.call(this, req, res, done));
      },
      (error: unknown) => {
        // admit answers every error itself; this is a bug guard.
        const requestId = requestIdFrom(req.headers);
        log.log('ERROR', `front door failed: ${String(error)}`, {requestId});
        writeError(req, res, toHttpError(error, requestId), requestId);
      },
    );
  };
  application.frontDoorInstalled = true;
}
