/**
 * The one client of the HTTP API (docs/design.md §5), over Node's global fetch: used
 * by the CLI's `fetch`, `npm run smoke`, the demo and the tests.
 *
 * - every answer other than the expected 2xx is an ApiError carrying the
 *   server's code, message, field and requestId, and the URL;
 * - every request has a timeout (AbortSignal.timeout);
 * - GETs (idempotent) are retried, bounded, with backoff, on 429/503
 *   (honouring Retry-After) and on failures to connect; a POST generate is
 *   never retried, as it is not idempotent;
 * - waitReady is the one polling loop: 409 (generating) -> poll again, a
 *   failed version -> throw at once, and never longer than its timeout.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import {STATUS_TABLE} from '../../shared/catalog/statuses.js';
import {ApiError, errorBodyOf, MalformedAnswerError} from './api-error.js';
import {longRequest} from './long-request.js';
import {fileLinkOf, generateAnswerOf} from './answers.js';
import type {
  DatasetList,
  FileLink,
  GenerateAnswer,
  MetadataLink,
  VersionSelector,
} from './api-types.js';

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:8080 or https://REGION-PROJECT.cloudfunctions.net */
  baseUrl: string;
  /** An identity token, sent as `Authorization: Bearer`; never in an error. */
  token?: string;
  /** Per GET request, ms. Default 60_000. */
  timeoutMs?: number;
  /** Per POST generate, ms (it writes the dataset before answering). Default 30 min. */
  generateTimeoutMs?: number;
  /** Retries of a GET after the first attempt. Default 3. */
  retries?: number;
  /** First backoff, ms, doubled per retry. Default 200. */
  retryDelayMs?: number;
  /** Cap on any one wait, including a server's Retry-After, ms. Default 10_000. */
  maxRetryDelayMs?: number;
}

const DEFAULTS = {
  timeoutMs: 60_000,
  generateTimeoutMs: 30 * 60_000,
  retries: 3,
  retryDelayMs: 200,
  maxRetryDelayMs: 10_000,
} as const;

export interface WaitReadyOptions {
  /** Give up (ApiError 409 or the last error) after this long, ms. Default 120_000. */
  timeoutMs?: number;
  /** Between polls, ms. Default 250. */
  intervalMs?: number;
}

/**
 * fetch(), with a failure to connect or a timeout told as an ApiError naming
 * the URL and its cause (`cannot reach http://127.0.0.1:9/x: ECONNREFUSED`),
 * not as undici's bare "fetch failed". For signed URLs too.
 */
export async function reach(
  url: string,
  init?: RequestInit,
  transport: (url: string, init: RequestInit) => Promise<Response> = fetch,
): Promise<Response> {
  try {
    return await transport(url, init ?? {});
  } catch (error) {
    // fetch puts the system error in `cause`; node:http throws it itself.
    const cause = (error as {cause?: {code?: string; message?: string}}).cause;
    const own = (error as {code?: string}).code;
    const timedOut =
      (error as Error).name === 'TimeoutError' ||
      (cause as {name?: string} | undefined)?.name === 'TimeoutError';
    const why = timedOut
      ? 'timed out'
      : (cause?.code ??
        (own && own !== 'ABORT_ERR' ? own : undefined) ??
        cause?.message ??
        (error as Error).message);
    throw new ApiError(
      {
        status: 0,
        code: 'UNAVAILABLE',
        message: `cannot reach ${url}: ${why}`,
        url,
      },
      error,
    );
  }
}

function longTransport(url: string, init: RequestInit): Promise<Response> {
  return longRequest(url, {
    method: init.method ?? 'POST',
    headers: init.headers as Record<string, string> | undefined,
    body: init.body as string | undefined,
    signal: init.signal ?? undefined,
  });
}

function retryAfterSeconds(response: Response): number | undefined {
  const raw = response.headers.get('retry-after');
  if (raw === null) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly options: Required<
    Omit<ApiClientOptions, 'token' | 'baseUrl'>
  >;
  private readonly token: string | undefined;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.options = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      generateTimeoutMs:
        options.generateTimeoutMs ?? DEFAULTS.generateTimeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
    };
  }

  /** POST /generateDataset: 201 written, or 202 generating (then waitReady). Never retried. */
  /**
   * The answer is checked: a 201 `GeneratedDataset` or a 202
   * `GeneratingDataset` (tell them apart with isGenerating); any other shape
   * is an ApiError. generateAndWait (generate-and-wait.ts) does both steps.
   */
  async generate(body: Record<string, unknown> = {}): Promise<GenerateAnswer> {
    const path = '/generateDataset';
    const answer = await this.send<unknown>(path, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(body),
      expect: [201, 202],
      retries: 0,
      timeoutMs: this.options.generateTimeoutMs,
    });
    return this.checked(path, () => generateAnswerOf(answer));
  }

  /** One file (`url`, `object`, ...) or a sharded version's `shards` (isShardedLink, filesOfLink). */
  loadParquet(
    version: VersionSelector,
    ttlSeconds?: number,
  ): Promise<FileLink> {
    return this.loadFile('/loadParquet', version, ttlSeconds);
  }

  /** As loadParquet, for the TFRecord file or shards. */
  loadTfrecord(
    version: VersionSelector,
    ttlSeconds?: number,
  ): Promise<FileLink> {
    return this.loadFile('/loadTfrecord', version, ttlSeconds);
  }

  private async loadFile(
    path: '/loadParquet' | '/loadTfrecord',
    version: VersionSelector,
    ttlSeconds: number | undefined,
  ): Promise<FileLink> {
    const answer = await this.get<unknown>(path, {version, ttlSeconds});
    return this.checked(path, () => fileLinkOf(answer, path.slice(1)));
  }

  /** A malformed 2xx answer as an ApiError (status 200 for any 2xx, code INTERNAL) naming the URL. */
  private checked<T>(path: string, parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof MalformedAnswerError)) throw error;
      throw new ApiError(
        {
          status: 200,
          code: 'INTERNAL',
          message: error.reason,
          url: `${this.baseUrl}${path}`,
        },
        error,
      );
    }
  }

  loadMetadata(version: VersionSelector): Promise<MetadataLink> {
    return this.get<MetadataLink>('/loadMetadata', {version});
  }

  listDatasets(limit?: number, pageToken?: string): Promise<DatasetList> {
    return this.get<DatasetList>('/listDatasets', {limit, pageToken});
  }

  /**
   * Polls loadMetadata until the version is ready. A 409 whose
   * `versionStatus` the status table says to keep waiting on (generating)
   * polls again; a failed version, any other error, or the timeout throws.
   */
  async waitReady(
    version: number,
    options: WaitReadyOptions = {},
  ): Promise<MetadataLink> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    const intervalMs = options.intervalMs ?? 250;
    for (;;) {
      try {
        return await this.loadMetadata(version);
      } catch (error) {
        const keepWaiting =
          error instanceof ApiError &&
          error.status === 409 &&
          error.versionStatus !== undefined &&
          STATUS_TABLE[error.versionStatus].keepWaiting;
        if (!keepWaiting || Date.now() + intervalMs > deadline) throw error;
      }
      await sleep(intervalMs);
    }
  }

  private get<T>(
    path: string,
    query: Record<string, string | number | undefined>,
  ): Promise<T> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) search.set(key, String(value));
    const suffix = search.size > 0 ? `?${search.toString()}` : '';
    return this.send<T>(`${path}${suffix}`, {
      method: 'GET',
      expect: [200],
      retries: this.options.retries,
      timeoutMs: this.options.timeoutMs,
    });
  }

  private async send<T>(
    path: string,
    request: {
      method: 'GET' | 'POST';
      headers?: Record<string, string>;
      body?: string;
      expect: number[];
      retries: number;
      timeoutMs: number;
    },
  ): Promise<T> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = {...request.headers};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    for (let attempt = 0; ; attempt++) {
      let failure: ApiError;
      try {
        // A POST generate may take longer to answer than fetch allows (long-request.ts).
        const response = await reach(
          url,
          {
            method: request.method,
            headers,
            body: request.body,
            signal: AbortSignal.timeout(request.timeoutMs),
          },
          request.method === 'POST' ? longTransport : fetch,
        );
        const text = await response.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (request.expect.includes(response.status) && body !== undefined)
          return body as T;
        const said = errorBodyOf(body);
        failure = new ApiError({
          status: response.status,
          code:
            said?.code ?? (response.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL'),
          message:
            said?.message ??
            `${path} answered ${response.status} with ${body === undefined ? 'a body that is not JSON' : 'no error'}: ${text.slice(0, 200)}`,
          url,
          field: said?.field,
          requestId: said?.requestId,
          versionStatus: said?.versionStatus,
          retryAfterSeconds: retryAfterSeconds(response),
        });
      } catch (error) {
        // reach() names a refused connection; a timeout while the body
        // streams in is the same kind of failure.
        failure =
          error instanceof ApiError
            ? error
            : new ApiError(
                {
                  status: 0,
                  code: 'UNAVAILABLE',
                  message: `cannot reach ${url}: ${(error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message}`,
                  url,
                },
                error,
              );
      }
      const retryable =
        failure.status === 0 ||
        failure.status === 429 ||
        failure.status === 503;
      if (!retryable || attempt >= request.retries) throw failure;
      const backoff = this.options.retryDelayMs * 2 ** attempt;
      const wait =
        failure.retryAfterSeconds !== undefined
          ? failure.retryAfterSeconds * 1000
          : backoff;
      await sleep(Math.min(wait, this.options.maxRetryDelayMs));
    }
  }
}
