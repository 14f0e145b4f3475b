/**
 * Puts the front door (front-door.ts) in front of functions-framework.
 *
 * functions-framework 5 builds its Express app in getServer() with its body
 * parsers first: bodyParser.json/text/urlencoded/raw, `limit: '1024mb'`,
 * `inflate` on (the default), `verify` saving `req.rawBody`, and `raw` for
 * every other type. It offers no hook before them, so a gzip body was
 * inflated and buffered (up to 1 GiB) before any function code could refuse
 * it, and its errors went to Express's default HTML handler (upstream issue
 * functions-framework-nodejs#686).
 *
 * Express's `app.handle` is the first code that sees a request, and
 * functions-framework makes its app only after loading our functions, so
 * this module, imported first by index.ts, wraps `application.handle` of the
 * very Express instance functions-framework requires (resolved from its own
 * location, not ours, so a second copy of Express in node_modules cannot
 * silently bypass it). The same code runs in the cloud and locally.
 *
 * For each request the wrapper: (1) runs the front door, which answers
 * refused requests itself and reads admitted bodies to their end, so every
 * body parser finds the request finished and skips it (body-parser checks
 * `onFinished.isFinished(req)` first); (2) hands `req.body`/`req.rawBody` to
 * the framework (the CloudEvent wrapper takes the event data from
 * `req.body`); (3) renders the framework's own crash answers (`X-Google-Status`,
 * text/plain 500, e.g. a CloudEvent handler that throws for a retry) and
 * Express errors as the JSON error, with the request id.
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
