/** The local stack for integration tests, plus clients pointed at its emulators. */
import {Firestore} from '@google-cloud/firestore';
import {Storage, type Bucket} from '@google-cloud/storage';
import {ApiClient, ApiError} from '../../clients/typescript/index.js';
import {
  startLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from '../../local/index.js';

export interface TestStack {
  stack: LocalStack;
  url: string;
  bucket: Bucket;
  firestore: Firestore;
  stop(): Promise<void>;
}

export async function startTestStack(
  functionEnv: Record<string, string> = {},
  /** More options, e.g. a run directory to restart on. */
  stackOptions: Omit<LocalStackOptions, 'functionEnv'> = {},
): Promise<TestStack> {
  const stack = await startLocalStack({port: 0, ...stackOptions, functionEnv});
  try {
    for (const [key, value] of Object.entries(stack.env))
      process.env[key] = value;
    const storage = new Storage({projectId: stack.env.GOOGLE_CLOUD_PROJECT});
    const firestore = new Firestore({
      projectId: stack.env.GOOGLE_CLOUD_PROJECT,
      ignoreUndefinedProperties: true,
    });
    return {
      stack,
      url: stack.url,
      bucket: storage.bucket(stack.env.DATASETS_BUCKET),
      firestore,
      async stop() {
        await firestore.terminate().catch(() => undefined);
        await stack.stop();
      },
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export async function call<T = Record<string, unknown>>(
  url: string,
  init: RequestInit = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return {
    status: response.status,
    body: body as T,
    headers: response.headers,
    text,
  };
}

export function postJson(url: string, body: unknown): Promise<JsonResponse> {
  return call(url, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify(body),
  });
}

/**
 * Waits (ApiClient.waitReady, the one polling loop) until the version is
 * ready; answers loadMetadata's 200 body as a JsonResponse (status 200, the
 * body, its JSON text; headers empty, the client keeps none). Throws on a
 * failed version, any other error, or the timeout.
 */
export async function waitReady(
  url: string,
  version: number,
  timeoutMs = 120_000,
): Promise<JsonResponse> {
  const client = new ApiClient({baseUrl: url});
  try {
    const body = await client.waitReady(version, {timeoutMs, intervalMs: 250});
    return {
      status: 200,
      body,
      headers: new Headers(),
      text: JSON.stringify(body),
    };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    throw new Error(
      `version ${version} not ready: ${error.status} ${error.code} ${error.message}`,
      {cause: error},
    );
  }
}

/** Every object name in the bucket, sorted. */
export async function objectNames(bucket: Bucket): Promise<string[]> {
  const [files] = await bucket.getFiles();
  return files.map(f => f.name).sort();
}
