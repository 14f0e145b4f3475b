/**
 * The local router against odd and broken request lines, headers and
 * clients, in front of a tiny upstream that echoes what it got. Every case
 * must get an answer (or a closed socket) and the router must keep serving.
 */
import assert from 'node:assert/strict';
import {createServer, type Server} from 'node:http';
import {connect} from 'node:net';
import {after, before, describe, it} from 'node:test';
import {jsonLogger} from '../../shared/logger.js';
import {
  splitFunctionPath,
  startRouter,
  type Router,
} from '../../local/router.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Writes `bytes` on a fresh connection; the first response, or status 0 when closed without one. */
function raw(port: number, bytes: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split === -1) return resolve({status: 0, headers: {}, body: text});
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line
          .slice(colon + 1)
          .trim();
      }
      let body = text.slice(split + 4);
      const length = Number(headers['content-length']);
      if (Number.isFinite(length)) body = body.slice(0, length);
      resolve({status: Number(statusLine.split(' ')[1]), headers, body});
    };
    const timer = setTimeout(finish, 3000);
    socket.on('data', chunk => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const match = /content-length: *(\d+)/i.exec(text.slice(0, split));
      if (split !== -1 && match && text.length - split - 4 >= Number(match[1]))
        finish();
    });
    socket.on('end', finish);
    socket.on('error', () => finish());
    socket.on('connect', () => socket.write(bytes));
    socket.on('timeout', reject);
  });
}

let upstream: Server;
let router: Router;
const logged: string[] = [];

before(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        bytes: Buffer.concat(chunks).length,
        headers: req.headers,
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r));
  const address = upstream.address();
  const upstreamPort =
    typeof address === 'object' && address ? address.port : 0;
  router = await startRouter(
    0,
    new Map([
      ['echo', upstreamPort],
      ['gone', 1], // nothing listens on port 1
    ]),
    {log: jsonLogger({}, line => logged.push(line))},
  );
});

after(async () => {
  await router?.close();
  await new Promise(r => upstream?.close(r));
});

describe('splitFunctionPath', () => {
  const cases: Array<[string, {name: string; path: string} | undefined]> = [
    ['/echo', {name: 'echo', path: '/'}],
    ['/echo?x=1', {name: 'echo', path: '/?x=1'}],
    ['/echo/a/b?x', {name: 'echo', path: '/a/b?x'}],
    ['/ech%6F', {name: 'echo', path: '/'}],
    ['//', {name: '', path: '/'}],
    ['/%ZZ', undefined],
    ['/%E0%A4%A', undefined],
    ['*', undefined],
    ['http://example.com/echo/x?q=1', {name: 'echo', path: '/x?q=1'}],
    ['http://[::1', undefined],
    ['ftp://example.com/echo', undefined],
  ];
  for (const [url, expected] of cases) {
    it(`${JSON.stringify(url)}`, () => {
      assert.deepEqual(splitFunctionPath(url), expected);
    });
  }
});

describe('the router never falls over', () => {
  const request = (line: string, headers = 'Host: x\r\n', body = '') =>
    `${line}\r\n${headers}\r\n${body}`;
  const cases: Array<[string, string | Buffer, number, string?]> = [
    [
      'bad percent-encoding',
      request('GET /%ZZ HTTP/1.1'),
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'bad percent-encoding in the name',
      request('GET /ec%ZZho/x HTTP/1.1'),
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'truncated UTF-8 escape',
      request('GET /%E0%A4%A HTTP/1.1'),
      400,
      'INVALID_ARGUMENT',
    ],
    ['double slash', request('GET // HTTP/1.1'), 404, 'NOT_FOUND'],
    ['root', request('GET / HTTP/1.1'), 404, 'NOT_FOUND'],
    ['asterisk-form', request('OPTIONS * HTTP/1.1'), 400, 'INVALID_ARGUMENT'],
    ['unknown function', request('GET /nope?x=1 HTTP/1.1'), 404, 'NOT_FOUND'],
    [
      'a 15 KB path',
      request(`GET /${'a'.repeat(15_000)} HTTP/1.1`),
      404,
      'NOT_FOUND',
    ],
    [
      'a 40 KB path',
      request(`GET /echo/${'a'.repeat(40_000)} HTTP/1.1`),
      431,
      'INVALID_ARGUMENT',
    ],
    [
      'a space in a header name',
      request('GET /echo HTTP/1.1', 'Host: x\r\nBad Header: y\r\n'),
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'a NUL in a header value',
      request('GET /echo HTTP/1.1', 'Host: x\r\nX-A: a\u0000b\r\n'),
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'Content-Length and Transfer-Encoding',
      request(
        'POST /echo HTTP/1.1',
        'Host: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n',
        '0\r\n\r\n',
      ),
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'a non-numeric Content-Length',
      request('POST /echo HTTP/1.1', 'Host: x\r\nContent-Length: abc\r\n'),
      400,
      'INVALID_ARGUMENT',
    ],
    ['not HTTP at all', 'FOO BAR BAZ\r\n\r\n', 400, 'INVALID_ARGUMENT'],
    [
      'binary garbage',
      Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]),
      400,
      'INVALID_ARGUMENT',
    ],
    [
      'a function that is not answering',
      request('GET /gone HTTP/1.1'),
      503,
      'UNAVAILABLE',
    ],
    [
      'a bad chunked body',
      request(
        'POST /echo HTTP/1.1',
        'Host: x\r\nTransfer-Encoding: chunked\r\n',
        'zz\r\nabc\r\n',
      ),
      0,
    ],
    [
      'an Upgrade request',
      request(
        'GET /echo HTTP/1.1',
        'Host: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n',
      ),
      0,
    ],
    ['CONNECT', request('CONNECT example.com:443 HTTP/1.1'), 0],
  ];
  for (const [name, bytes, status, code] of cases) {
    it(`${name} -> ${status || 'answered or closed'}`, async () => {
      const response = await raw(router.port, bytes);
      if (status === 0) {
        // Either answered (any status) or closed: the point is the router lives on.
        assert.ok(response.status === 0 || response.status >= 100);
      } else {
        assert.equal(response.status, status, response.body);
        const body = JSON.parse(response.body) as {
          error: {code: string; message: string; requestId: string};
        };
        assert.equal(body.error.code, code);
        assert.ok(body.error.message.length > 0);
        assert.ok(body.error.message.length < 1000);
        assert.equal(body.error.requestId, response.headers['x-request-id']);
        assert.ok(
          logged.some(l => l.includes(body.error.requestId)),
          'a log line with the request id',
        );
      }
      const alive = await raw(router.port, request('GET /echo/ping HTTP/1.1'));
      assert.equal(alive.status, 200, 'the router still serves');
    });
  }

  it('forwards absolute-form requests by their path', async () => {
    const response = await raw(
      router.port,
      request('GET http://example.com/echo/x?q=1 HTTP/1.1'),
    );
    assert.equal(response.status, 200);
    assert.equal((JSON.parse(response.body) as {url: string}).url, '/x?q=1');
  });

  it('strips hop-by-hop headers and keeps the rest', async () => {
    const response = await raw(
      router.port,
      request(
        'GET /echo HTTP/1.1',
        'Host: x\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nTE: trailers\r\nX-Kept: 2\r\n',
      ),
    );
    const echoed = JSON.parse(response.body) as {
      headers: Record<string, string>;
    };
    assert.equal(echoed.headers['x-kept'], '2');
    assert.equal(echoed.headers['x-secret'], undefined);
    assert.equal(echoed.headers.te, undefined);
  });

  it('survives clients that vanish mid-body', async () => {
    for (let i = 0; i < 5; i++) {
      await new Promise<void>(resolve => {
        const socket = connect(router.port, '127.0.0.1', () => {
          socket.write(
            request(
              'POST /echo HTTP/1.1',
              'Host: x\r\nContent-Length: 100000\r\n',
              'x'.repeat(1000),
            ),
          );
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 20);
        });
      });
    }
    const alive = await raw(router.port, request('GET /echo HTTP/1.1'));
    assert.equal(alive.status, 200);
  });

  it('streams a chunked body through', async () => {
    const response = await raw(
      router.port,
      request(
        'POST /echo HTTP/1.1',
        'Host: x\r\nTransfer-Encoding: chunked\r\n',
        '5\r\nhello\r\n0\r\n\r\n',
      ),
    );
    assert.equal(response.status, 200);
    assert.equal((JSON.parse(response.body) as {bytes: number}).bytes, 5);
  });
});
