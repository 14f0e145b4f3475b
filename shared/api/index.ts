/** The HTTP API client (DESIGN §5): re-exports only. */
export {ApiClient, reach} from './api-client.js';
export type {ApiClientOptions, WaitReadyOptions} from './api-client.js';
export {ApiError, describeError} from './api-error.js';
export type * from './api-types.js';
