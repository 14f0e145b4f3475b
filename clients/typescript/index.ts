/** The HTTP API client (docs/design.md §5): re-exports only. */
export {ApiClient, reach} from './api-client.js';
export type {ApiClientOptions, WaitReadyOptions} from './api-client.js';
export {ApiError, describeError, MalformedAnswerError} from './api-error.js';
export {
  fileLinkOf,
  filesOfLink,
  generateAnswerOf,
  isGenerating,
  isShardedLink,
} from './answers.js';
export {
  generateAndWait,
  GENERATE_AND_WAIT_TIMEOUT_MS,
} from './generate-and-wait.js';
export type {
  GenerateAndWaitOptions,
  GeneratedVersion,
} from './generate-and-wait.js';
export type * from './api-types.js';
