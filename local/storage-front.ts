/**
 * A streaming pass-through in front of fake-gcs-server, at the address that
 * STORAGE_EMULATOR_HOST names. It exists for one reason: the Node.js client
 * (@google-cloud/storage v7) uses STORAGE_EMULATOR_HOST *verbatim* as the
 * JSON API base URL, so with `http://127.0.0.1:PORT` it asks for `/b/...`
 * while fake-gcs-server (like Cloud Storage) serves `/storage/v1/b/...`;
 * and no value of the variable suits both its JSON and its upload URLs
 * (googleapis/nodejs-storage#1314, #2069, #2092). The front rewrites the
 * prefixless JSON API paths (`/b`, `/b/...`; no bucket can be named "b") to
 * `/storage/v1/b...`, like the Firebase Storage emulator accepts both, and
 * passes everything else (uploads, downloads, signed URLs, `/storage/v1/...`
 * of the Go and Python clients) unchanged, Host header included, so that
 * fake-gcs-server's -public-host matching sees the address clients use.
 */
import {createServer, request, type Server} from 'node:http';
import {LOOPBACK} from './ports.js';

export interface StorageFront {
  port: number;
  /** Where fake-gcs-server listens now (it may be restarted on another port). */
  setUpstream(port: number): void;
  close(): Promise<void>;
}

/** Rewrites the Node.js client's prefixless JSON API paths. */
export function rewriteStoragePath(path: string): string {
  return path === '/b' || path.startsWith('/b/') || path.startsWith('/b?')
    ? `/storage/v1${path}`
    : path;
}

export function startStorageFront(
  port: number,
  upstreamPort: number,
): Promise<StorageFront> {
  let upstream = upstreamPort;
  const server: Server = createServer((req, res) => {
    const toUpstream = request(
      {
        host: LOOPBACK,
        port: upstream,
        method: req.method,
        path: rewriteStoragePath(req.url ?? '/'),
        headers: req.headers,
      },
      upstreamRes => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    toUpstream.on('error', err => {
      if (!res.headersSent) {
        // fake-gcs-server went away (killed, restarting): answer at once, and
        // read the rest of the client's body so that it can read the answer
        // (a client still writing a big chunk would otherwise wait forever).
        req.unpipe(toUpstream);
        req.resume();
        res.writeHead(502, {
          'content-type': 'application/json',
          connection: 'close',
        });
        res.end(
          JSON.stringify({
            error: {
              code: 502,
              message: `storage emulator unreachable: ${err.message}`,
            },
          }),
        );
      } else {
        res.destroy(err);
      }
    });
    req.on('aborted', () => toUpstream.destroy());
    req.pipe(toUpstream);
  });
  // Longer than a client keeps an idle socket: with Node's 5 s default the
  // front closed sockets that the Storage client was just reusing, and its
  // next upload (a resumable POST, never retried without a precondition)
  // died with ECONNRESET (test/integration/local-stack.test.ts, 50 MB case).
  server.keepAliveTimeout = 65_000;
  // An upload is one request whose body streams for as long as the dataset
  // is generated (minutes at 100M rows): no limit on receiving it (Node's
  // default requestTimeout, 300 s, would answer 408 mid-upload).
  server.requestTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve({
        port,
        setUpstream: next => {
          upstream = next;
        },
        close: () =>
          new Promise<void>(done => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
