/**
 * Reads a request body under the rules of docs/design.md §5, before anything else
 * touches it: only `application/json` (charset, if given, utf-8), never a
 * `Content-Encoding` (nothing is ever inflated), at most 64 KiB counted
 * while the bytes arrive (raw-body stops at the first byte over the limit,
 * and refuses a declared Content-Length over it without reading at all).
 */
import {parse as parseContentType} from 'content-type';
import type {IncomingHttpHeaders, IncomingMessage} from 'node:http';
import {finished} from 'node:stream/promises';
import getRawBody from 'raw-body';
import type {RequestBody} from './exchange.js';
import {badRequest, HttpError} from './http-error.js';

export const MAX_BODY_BYTES = 64 * 1024;

/** Charsets read as UTF-8; JSON is UTF-8 (RFC 8259 §8.1), nothing is transcoded. */
const UTF8 = ['utf-8', 'utf8'];

export interface BodyRules {
  /** Media types read; anything else with a body is 415. */
  types: readonly string[];
  limit: number;
}

export const JSON_BODY: BodyRules = {
  types: ['application/json'],
  limit: MAX_BODY_BYTES,
};

function single(headers: IncomingHttpHeaders, name: string) {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Whether the request says a body follows: any Transfer-Encoding, or Content-Length > 0. */
export function declaresBody(headers: IncomingHttpHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** 415 for any Content-Encoding but identity (gzip, deflate, br, zstd, lists of them). */
export function refuseContentEncoding(headers: IncomingHttpHeaders): void {
  const encoding = single(headers, 'content-encoding');
  if (encoding === undefined) return;
  const normalized = encoding.trim().toLowerCase();
  if (normalized === '' || normalized === 'identity') return;
  throw new HttpError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Encoding ${JSON.stringify(encoding.slice(0, 64))} is not accepted: send the JSON body unencoded`,
  );
}

/** 415 unless Content-Type is one of `types`, with at most a utf-8 charset. */
export function requireMediaType(
  headers: IncomingHttpHeaders,
  types: readonly string[],
): void {
  const raw = single(headers, 'content-type') ?? '';
  const parsed = parseContentType(raw);
  const shown = JSON.stringify(raw.slice(0, 64));
  if (!types.includes(parsed.type)) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      raw === ''
        ? `the body must be sent as ${types.join(' or ')}, and the request has no Content-Type`
        : `the body must be sent as ${types.join(' or ')}, got Content-Type ${shown}`,
    );
  }
  const charset = parsed.parameters.charset;
  if (charset !== undefined && !UTF8.includes(charset.toLowerCase())) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `the body must be UTF-8 JSON, got Content-Type ${shown}`,
    );
  }
}

const utf8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true});

/** Bytes -> JSON value; 400 for bytes that are not UTF-8 or not JSON. */
export function parseJson(bytes: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw badRequest('the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('the body is not valid JSON');
  }
}

interface RawBodyError {
  type?: string;
}

function readError(error: unknown, limit: number): HttpError {
  const type = (error as RawBodyError | null)?.type;
  if (type === 'entity.too.large') {
    return new HttpError(
      413,
      'PAYLOAD_TOO_LARGE',
      `the body must be at most ${limit} bytes`,
    );
  }
  if (type === 'request.size.invalid') {
    return badRequest('the body is shorter or longer than its Content-Length');
  }
  if (type === 'request.aborted') {
    return badRequest('the client stopped sending the body');
  }
  return new HttpError(500, 'INTERNAL', 'the body could not be read');
}

/**
 * The body under `rules`. A request that declares no body is read to its
 * (immediate) end and counts as absent, whatever its Content-Type; one that
 * declares a body must have an accepted type before a byte is read; a body
 * that turns out empty (chunked, zero bytes) is absent too.
 */
export async function readBody(
  req: IncomingMessage,
  rules: BodyRules,
): Promise<RequestBody> {
  refuseContentEncoding(req.headers);
  if (!declaresBody(req.headers)) {
    if (!req.readableEnded) {
      req.resume();
      await finished(req).catch(() => undefined);
    }
    return {present: false};
  }
  requireMediaType(req.headers, rules.types);
  const length = req.headers['content-length'];
  let bytes: Buffer;
  try {
    bytes = await getRawBody(req, {
      limit: rules.limit,
      length: length === undefined ? null : Number(length),
    });
  } catch (error) {
    throw readError(error, rules.limit);
  }
  if (bytes.length === 0) return {present: false};
  return {present: true, value: parseJson(bytes), bytes};
}
