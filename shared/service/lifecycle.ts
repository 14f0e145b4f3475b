/**
 * A version's lifecycle as every reader sees it (docs/design.md §6): `generating`
 * under a lease, then `ready` or `failed`. A version found past its lease is
 * reported failed and recorded so by whoever reads it; marking a version
 * failed never holds up the request that does it (the lease covers a
 * catalogue that is down).
 */
import {isPastLease, leaseExpiredMessage} from '../catalog/catalog.js';
import {describeFailure} from '../catalog/failures.js';
import type {DatasetRecord} from '../catalog/records.js';
import type {ServiceContext} from './service-context.js';

/** How long a request waits for markFailed before it moves on. */
export const MARK_FAILED_WAIT_MS = 5_000;

/**
 * Marks `version` failed, waiting at most `waitMs`; logs and swallows its
 * failure (the version's lease ends it anyway). True when it was marked.
 */
export async function markFailedBounded(
  context: Pick<ServiceContext, 'catalog' | 'log' | 'now'>,
  version: number,
  reason: string,
  waitMs = MARK_FAILED_WAIT_MS,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(resolve => {
    timer = setTimeout(() => resolve('timeout'), waitMs);
  });
  const marking = context.catalog.markFailed(version, reason, context.now());
  try {
    const outcome = await Promise.race([marking, timeout]);
    if (outcome === 'timeout') {
      marking.catch(() => undefined);
      context.log.log(
        'ERROR',
        'could not mark version failed in time; its lease will end it',
        {version, waitMs},
      );
      return false;
    }
    return outcome;
  } catch (error) {
    context.log.log(
      'ERROR',
      'could not mark version failed; its lease will end it',
      {version, error: describeFailure(error)},
    );
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The record as readers must treat it: a `generating` version past its lease
 * is `failed` (and is recorded failed, best effort, on the way).
 */
export async function withLeaseApplied(
  record: DatasetRecord,
  context: Pick<ServiceContext, 'catalog' | 'log' | 'now'>,
): Promise<DatasetRecord> {
  if (!isPastLease(record, context.now())) return record;
  const error = leaseExpiredMessage(record);
  context.log.log('WARNING', 'version found past its lease; failed', {
    version: record.version,
    leaseExpiresAt: record.leaseExpiresAt ?? null,
  });
  await markFailedBounded(context, record.version, error);
  return {...record, status: 'failed', error};
}
