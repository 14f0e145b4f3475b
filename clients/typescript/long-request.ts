/**
 * A request whose answer may take longer than five minutes to start: a
 * one-file POST /generateDataset writes the whole dataset before it answers
 * (a 100M-row one through the local stack takes minutes). Node's global
 * fetch gives up on any answer whose headers take more than 300 s (undici's
 * headersTimeout, which fetch cannot change without the undici package), so
 * this goes through node:http / node:https and is bounded by the caller's
 * signal alone. It hands back a web Response, as fetch does.
 */
import {request as httpRequest, type IncomingMessage} from 'node:http';
import {request as httpsRequest} from 'node:https';
import {Readable} from 'node:stream';

export interface LongRequestInit {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function responseOf(answer: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value])
      headers.append(name, one);
  }
  const status = answer.statusCode ?? 0;
  const body = NULL_BODY_STATUSES.has(status)
    ? null
    : (Readable.toWeb(answer) as ReadableStream<Uint8Array>);
  if (body === null) answer.resume();
  return new Response(body, {status, headers});
}

/** fetch()'s contract for one request, without a headers timeout. */
export function longRequest(
  url: string,
  init: LongRequestInit,
): Promise<Response> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = init.body === undefined ? undefined : Buffer.from(init.body);
  return new Promise((resolve, reject) => {
    const outgoing = send(
      target,
      {
        method: init.method,
        headers: {
          ...init.headers,
          ...(payload ? {'content-length': String(payload.length)} : {}),
        },
        signal: init.signal,
      },
      answer => resolve(responseOf(answer)),
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}
