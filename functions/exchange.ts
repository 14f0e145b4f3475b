/**
 * One request as the functions see it once the front door has admitted it:
 * its id (in the X-Request-Id header, the error body and every log line),
 * the function it is for, and the body the front door read. HTTP handlers
 * find it by their request; the CloudEvent handler, which gets only the
 * event, finds it through async context.
 */
import {AsyncLocalStorage} from 'node:async_hooks';
import {randomUUID} from 'node:crypto';
import type {IncomingHttpHeaders, IncomingMessage} from 'node:http';

export type RequestBody =
  {present: false} | {present: true; value: unknown; bytes: Buffer};

export interface Exchange {
  readonly requestId: string;
  readonly functionName: string;
  readonly body: RequestBody;
  /** What the CloudEvent handler threw, so that the crash answer can say what it was. */
  failure?: unknown;
}

/** Ids a client or the platform sent are echoed only when they look like ids. */
const ID = /^[A-Za-z0-9._-]{1,128}$/;

function header(headers: IncomingHttpHeaders, name: string) {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The platform's execution id (`Function-Execution-Id`), else the trace id
 * of `X-Cloud-Trace-Context`, else a fresh UUID.
 */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const execution = header(headers, 'function-execution-id');
  if (execution && ID.test(execution)) return execution;
  const trace = header(headers, 'x-cloud-trace-context')?.split('/')[0];
  if (trace && ID.test(trace)) return trace;
  return randomUUID();
}

const byRequest = new WeakMap<IncomingMessage, Exchange>();
const current = new AsyncLocalStorage<Exchange>();

/** Runs `fn` (the framework's handling of `req`) with `exchange` as the current one. */
export function runInExchange<T>(
  req: IncomingMessage,
  exchange: Exchange,
  fn: () => T,
): T {
  byRequest.set(req, exchange);
  return current.run(exchange, fn);
}

export function exchangeOf(req: IncomingMessage): Exchange | undefined {
  return byRequest.get(req);
}

export function currentExchange(): Exchange | undefined {
  return current.getStore();
}
