/**
 * The public port: `http://127.0.0.1:8080/<functionName>`, laid out like
 * `https://REGION-PROJECT.cloudfunctions.net/<functionName>`. Each request
 * is streamed, both ways, to the function's own functions-framework
 * process, with the function name taken off the path (the function sees
 * `/` and the query string, as in the cloud).
 *
 * Nothing a client sends may take it down: a request line it cannot route
 * (bad percent-encoding, `*`, a broken absolute URL), a request Node's parser
 * refuses (bad headers, a header block over 16 KiB), a client or a function
 * that goes away mid-stream are each answered with the JSON error of docs/design.md
 * §5 (with a request id in the body and X-Request-Id) or closed, and the
 * router goes on.
 */
import {randomUUID} from 'node:crypto';
import {
  createServer,
  request,
  STATUS_CODES,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type {Duplex} from 'node:stream';
import {drainAfterAnswer} from '../functions/drain.js';
import type {Logger} from '../shared/logger.js';
import {LOOPBACK} from './ports.js';

export interface RouterOptions {
  /** Where the router's own refusals are logged (one structured line each); default nowhere. */
  log?: Logger;
}

export interface Router {
  port: number;
  url: string;
  close(): Promise<void>;
}

/**
 * `/name/rest?q` -> {name, path: '/rest?q'}; `/name?q` -> {name, path: '/?q'};
 * absolute-form `http://host/name?q` likewise. Undefined for a target that
 * names no path (`*`) or whose name is not valid percent-encoding.
 */
export function splitFunctionPath(
  url: string,
): {name: string; path: string} | undefined {
  let target = url;
  if (!target.startsWith('/')) {
    if (!/^https?:\/\//i.test(target)) return undefined;
    try {
      const parsed = new URL(target);
      target = `${parsed.pathname}${parsed.search}`;
    } catch {
      return undefined;
    }
  }
  const match = /^\/([^/?#]*)([^?#]*)(.*)$/s.exec(target);
  if (!match) return undefined;
  const [, rawName, rest, query] = match;
  let name: string;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    return undefined;
  }
  return {name, path: `${rest || '/'}${query}`};
}

function errorJson(code: string, message: string, requestId: string) {
  return JSON.stringify({error: {code, message, requestId}});
}

function sendError(
  log: Logger | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const requestId = randomUUID();
  const body = errorJson(code, message, requestId);
  log?.log(
    status >= 500 ? 'ERROR' : 'INFO',
    `router answered ${status}: ${message}`,
    {
      requestId,
      status,
      code,
    },
  );
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    'cache-control': 'no-store',
  });
  res.end(body);
  drainAfterAnswer(req, res);
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their hop; the router answered Expect itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

function forwardedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map(h => h.trim().toLowerCase());
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name) || named.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

function shown(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}...` : name);
}

function forward(
  log: Logger | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  port: number,
  routes: ReadonlyMap<string, number>,
  known: string,
) {
  let upstream: ClientRequest | undefined;
  req.on('error', () => upstream?.destroy());
  const split = splitFunctionPath(req.url ?? '/');
  if (!split) {
    sendError(
      log,
      req,
      res,
      400,
      'INVALID_ARGUMENT',
      'the request target is not a path this server can route (bad percent-encoding?)',
    );
    return;
  }
  const {name, path} = split;
  const target = routes.get(name);
  if (target === undefined) {
    sendError(
      log,
      req,
      res,
      404,
      'NOT_FOUND',
      `no function at /${shown(name).slice(1, -1)}; functions: ${known}`,
    );
    return;
  }
  try {
    upstream = request({
      host: LOOPBACK,
      port: target,
      method: req.method,
      path,
      headers: {
        ...forwardedHeaders(req.headers),
        'x-forwarded-for': req.socket.remoteAddress ?? LOOPBACK,
        'x-forwarded-host': req.headers.host ?? `${LOOPBACK}:${port}`,
        'x-forwarded-proto': 'http',
      },
    });
  } catch {
    sendError(
      log,
      req,
      res,
      400,
      'INVALID_ARGUMENT',
      'the request cannot be forwarded as it is (bad path or header)',
    );
    return;
  }
  forwardTo(log, upstream, req, res, name);
}

function forwardTo(
  log: Logger | undefined,
  upstream: ClientRequest,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
) {
  let answered = false;
  upstream.on('response', upstreamRes => {
    answered = true;
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
    upstreamRes.on('aborted', () => res.destroy());
    if (!req.complete) {
      // The function answered before the whole body arrived (a refusal):
      // stop forwarding, drop the rest within bounds, let the function go.
      req.unpipe(upstream);
      drainAfterAnswer(req, res);
      upstreamRes.once('end', () => upstream.destroy());
    }
  });
  upstream.on('error', err => {
    // Once the function has answered, an error writing the rest of the
    // body to it (it closed the connection on a refusal) changes nothing.
    if (answered) return;
    sendError(
      log,
      req,
      res,
      503,
      'UNAVAILABLE',
      `function ${name} is not answering: ${err.message}`,
    );
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** Node's parser refused the request: answer JSON on the raw socket and close it. */
function refuseUnparsable(
  log: Logger | undefined,
  error: NodeJS.ErrnoException,
  socket: Duplex,
) {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const requestId = randomUUID();
  const body = errorJson(
    'INVALID_ARGUMENT',
    tooLarge
      ? 'the request line and headers are over 16 KiB'
      : 'the request is not valid HTTP/1.1',
    requestId,
  );
  log?.log('INFO', `router refused an unparsable request: ${error.code}`, {
    requestId,
    status,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
  socket.on('error', () => socket.destroy());
}

/** `routes`: function name -> port of its process. */
export function startRouter(
  port: number,
  routes: ReadonlyMap<string, number>,
  options: RouterOptions = {},
): Promise<Router> {
  const log = options.log;
  const known = [...routes.keys()].join(', ');
  const server = createServer((req, res) => {
    try {
      forward(log, req, res, port, routes, known);
    } catch {
      sendError(
        log,
        req,
        res,
        500,
        'INTERNAL',
        'the router could not forward the request',
      );
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
    refuseUnparsable(log, error, socket),
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      const address = server.address();
      const actual =
        typeof address === 'object' && address ? address.port : port;
      resolve({
        port: actual,
        url: `http://${LOOPBACK}:${actual}`,
        close: () =>
          new Promise<void>(done => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
