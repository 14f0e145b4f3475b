/**
 * The public port: `http://127.0.0.1:8080/<functionName>`, laid out like
 * `https://REGION-PROJECT.cloudfunctions.net/<functionName>`. Each request
 * is streamed, both ways, to the function's own functions-framework
 * process, with the function name taken off the path (the function sees
 * `/` and the query string, as in the cloud).
 */
import {
  createServer,
  request,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {LOOPBACK} from './ports.js';

export interface Router {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** `/name/rest?q` -> {name, path: '/rest?q'}; `/name?q` -> {name, path: '/?q'}. */
export function splitFunctionPath(url: string): {name: string; path: string} {
  const match = /^\/([^/?#]*)([^?#]*)(.*)$/s.exec(url);
  if (!match) return {name: '', path: '/'};
  const [, name, rest, query] = match;
  return {name: decodeURIComponent(name), path: `${rest || '/'}${query}`};
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
) {
  const body = JSON.stringify({error: {code, message}});
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** `routes`: function name -> port of its process. */
export function startRouter(
  port: number,
  routes: ReadonlyMap<string, number>,
): Promise<Router> {
  const known = [...routes.keys()].join(', ');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const {name, path} = splitFunctionPath(req.url ?? '/');
    const target = routes.get(name);
    if (target === undefined) {
      req.resume();
      sendError(
        res,
        404,
        'NOT_FOUND',
        `no function at /${name}; functions: ${known}`,
      );
      return;
    }
    const upstream = request(
      {
        host: LOOPBACK,
        port: target,
        method: req.method,
        path,
        headers: {
          ...req.headers,
          'x-forwarded-for': req.socket.remoteAddress ?? LOOPBACK,
          'x-forwarded-host': req.headers.host ?? `${LOOPBACK}:${port}`,
          'x-forwarded-proto': 'http',
        },
      },
      upstreamRes => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        upstreamRes.on('error', err => res.destroy(err));
      },
    );
    upstream.on('error', err => {
      if (res.headersSent) {
        res.destroy(err);
      } else {
        sendError(
          res,
          503,
          'UNAVAILABLE',
          `function ${name} is not answering: ${err.message}`,
        );
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
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
