/**
 * functions-framework parses request bodies before a function runs, and an
 * error there (malformed JSON, a bad charset) goes to Express's default
 * handler: an HTML page, with a stack trace outside production. Upstream:
 * functions-framework-nodejs issue #686 (open). DESIGN §5 wants JSON errors
 * and no stack traces, so every Express app made after this module loads
 * (functions-framework makes its app after loading the functions) answers
 * such errors with the JSON error body instead. It changes nothing else.
 */
import express from 'express';
import type {IncomingMessage, ServerResponse} from 'node:http';
import {randomUUID} from 'node:crypto';

interface BodyParserError {
  status?: number;
  statusCode?: number;
  type?: string;
}

const CODES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

export function frameworkErrorBody(error: unknown): {
  status: number;
  body: {error: {code: string; message: string; requestId: string}};
} {
  const e = (error ?? {}) as BodyParserError;
  const status = e.status ?? e.statusCode ?? 500;
  const known = status >= 400 && status < 500 && CODES[status] !== undefined;
  const message =
    e.type === 'entity.parse.failed'
      ? 'the body is not valid JSON'
      : known
        ? `the request could not be read (${e.type ?? status})`
        : 'internal error';
  return {
    status: known ? status : 500,
    body: {
      error: {
        code: known ? CODES[status] : 'INTERNAL',
        message,
        requestId: randomUUID(),
      },
    },
  };
}

type Handle = (
  this: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  callback?: (error?: unknown) => void,
) => void;
const application = express.application as unknown as {
  handle: Handle;
  jsonErrorsInstalled?: boolean;
};

if (!application.jsonErrorsInstalled) {
  const handle = application.handle;
  application.handle = function (req, res, callback) {
    const answer = (error?: unknown) => {
      const {status, body} = frameworkErrorBody(error ?? {status: 404});
      if (res.headersSent) {
        res.end();
        return;
      }
      res.statusCode = status;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(body));
    };
    return handle.call(this, req, res, callback ?? answer);
  };
  application.jsonErrorsInstalled = true;
}
