/**
 * The one table of a version's statuses (docs/design.md §6): what each means, whether
 * it is terminal, what the loaders answer for it, and whether a client
 * waiting for the version should keep polling. The loaders (resolveReady),
 * the HTTP error (`versionStatus`, Retry-After), the API client's waitReady,
 * the CLI and docs/http.md all follow this table; the Python client mirrors
 * it (clients/python/src/exploration_data/errors.py, VERSION_STATUSES).
 */
import {FailedPreconditionError} from '../errors.js';
import {
  DATASET_STATUSES,
  type DatasetRecord,
  type DatasetStatus,
} from './records.js';

export {DATASET_STATUSES, type DatasetStatus};

export interface StatusRule {
  /** what the status means, for people (docs/http.md prints the same) */
  meaning: string;
  /** no later status can follow it */
  terminal: boolean;
  /** what loadParquet, loadTfrecord and loadMetadata answer for such a version */
  loaders: 200 | 409;
  /** a client waiting for the version to be ready should poll again */
  keepWaiting: boolean;
  /** Retry-After of the 409, seconds (only where keepWaiting) */
  retryAfterSeconds?: number;
  /** the message of the 409 */
  notReady?: (record: DatasetRecord) => string;
}

export const STATUS_TABLE: Readonly<Record<DatasetStatus, StatusRule>> = {
  generating: {
    meaning:
      'allocated; its files are being written, under a lease (a version past its lease is read as failed)',
    terminal: false,
    loaders: 409,
    keepWaiting: true,
    retryAfterSeconds: 2,
    notReady: record =>
      `dataset version ${record.version} is not ready yet (still generating, at most until ${record.leaseExpiresAt ?? 'its lease ends'}); retry shortly`,
  },
  ready: {
    meaning:
      'recorded: every file and the metadata are in the bucket and checked; `latest` is the newest of these',
    terminal: true,
    loaders: 200,
    keepWaiting: false,
  },
  failed: {
    meaning:
      'generation or recording went wrong (or its lease ran out); `error` says why',
    terminal: true,
    loaders: 409,
    keepWaiting: false,
    notReady: record =>
      `dataset version ${record.version} failed and will never be ready: ${record.error ?? 'unknown error'}`,
  },
};

export function isDatasetStatus(value: unknown): value is DatasetStatus {
  return (DATASET_STATUSES as readonly unknown[]).includes(value);
}

/**
 * A loader asked for a version that is not ready: 409 FAILED_PRECONDITION
 * with `versionStatus` in the error JSON, and Retry-After while generating.
 */
export class VersionNotReadyError extends FailedPreconditionError {
  readonly versionStatus: DatasetStatus;
  readonly retryAfterSeconds: number | undefined;

  constructor(record: DatasetRecord) {
    const rule = STATUS_TABLE[record.status];
    super(
      rule.notReady?.(record) ??
        `dataset version ${record.version} is ${record.status}`,
    );
    this.versionStatus = record.status;
    this.retryAfterSeconds = rule.retryAfterSeconds;
  }
}

/** The record when the table lets loaders answer 200 for it; else VersionNotReadyError. */
export function requireServable(record: DatasetRecord): DatasetRecord {
  if (STATUS_TABLE[record.status].loaders !== 200)
    throw new VersionNotReadyError(record);
  return record;
}
