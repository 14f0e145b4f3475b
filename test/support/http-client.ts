/** A bare HTTP client for tests that send what fetch will not (bodies on GET, odd methods, slow streams). */
import {request, type IncomingHttpHeaders} from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Body bytes written before the answer arrived. */
  sent: number;
}

export interface Send {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Stream `body` in chunks of this size, `delayMs` apart (chunked unless a Content-Length is given). */
  chunkBytes?: number;
  delayMs?: number;
  /** Keep streaming `chunkBytes` chunks for ever (until answered). */
  endless?: boolean;
  /** Send the headers only and never the body they announce. */
  withholdBody?: boolean;
}

export function send(url: string | URL, options: Send = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const body =
      typeof options.body === 'string'
        ? Buffer.from(options.body)
        : options.body;
    // node:http frames a body on GET/HEAD/DELETE/OPTIONS only when told to.
    const headers: Record<string, string> = {...options.headers};
    const named = (h: string) =>
      Object.keys(headers).some(k => k.toLowerCase() === h);
    if (!named('content-length') && !named('transfer-encoding')) {
      if (options.chunkBytes || options.endless)
        headers['transfer-encoding'] = 'chunked';
      else if (body && body.length > 0)
        headers['content-length'] = String(body.length);
    }
    const req = request(url, {method: options.method ?? 'GET', headers});
    req.on('response', res => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          sent,
        });
        if (options.withholdBody || options.endless) req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', error => {
      if (!answered) reject(error);
    });
    if (options.withholdBody) {
      req.flushHeaders();
      return;
    }
    if (!options.chunkBytes) {
      if (body) sent = body.length;
      req.end(body);
      return;
    }
    const size = options.chunkBytes;
    let offset = 0;
    const next = () => {
      if (answered || req.destroyed) return;
      if (!options.endless && body && offset >= body.length) {
        req.end();
        return;
      }
      const chunk = options.endless
        ? Buffer.alloc(size, 0x20)
        : body!.subarray(offset, offset + size);
      offset += chunk.length;
      sent += chunk.length;
      req.write(chunk, () => setTimeout(next, options.delayMs ?? 0));
    };
    req.flushHeaders();
    next();
  });
}
