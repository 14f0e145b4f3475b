/**
 * POST /generateDataset, then follow loadMetadata until the version is
 * ready: the long-running-operation pattern of docs/design.md §5 in one call, for
 * both answers. A 201 (one file) is written but recorded by the storage
 * trigger a moment later; a 202 (sharded) is being written shard by shard.
 * Either way ApiClient.waitReady polls, bounded, and a failed version
 * throws at once.
 */
import type {ApiClient, WaitReadyOptions} from './api-client.js';
import type {GenerateAnswer, MetadataLink} from './api-types.js';

export interface GenerateAndWaitOptions extends WaitReadyOptions {
  /** Called with the POST's answer before the polling starts (e.g. to log the version). */
  onAnswer?: (answer: GenerateAnswer) => void;
}

export interface GeneratedVersion {
  /** The POST's answer: 201 GeneratedDataset or 202 GeneratingDataset (isGenerating). */
  answer: GenerateAnswer;
  /** loadMetadata's answer once the version is ready. */
  ready: MetadataLink;
  /** POST to answer, and POST to ready, ms. */
  answeredMs: number;
  readyMs: number;
}

/** Default bound on the wait: a sharded 100M-row version takes minutes locally. */
export const GENERATE_AND_WAIT_TIMEOUT_MS = 30 * 60_000;

export async function generateAndWait(
  client: ApiClient,
  body: Record<string, unknown> = {},
  options: GenerateAndWaitOptions = {},
): Promise<GeneratedVersion> {
  const started = performance.now();
  const answer = await client.generate(body);
  const answeredMs = performance.now() - started;
  options.onAnswer?.(answer);
  const ready = await client.waitReady(answer.version, {
    timeoutMs: options.timeoutMs ?? GENERATE_AND_WAIT_TIMEOUT_MS,
    intervalMs: options.intervalMs,
  });
  return {
    answer,
    ready,
    answeredMs,
    readyMs: performance.now() - started,
  };
}
