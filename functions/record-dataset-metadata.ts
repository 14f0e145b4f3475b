/**
 * recordDatasetMetadata: the storage trigger (Eventarc,
 * google.cloud.storage.object.v1.finalized). Returns to acknowledge, throws
 * so that Eventarc retries (transient failures only).
 */
import type {CloudEvent} from '@google-cloud/functions-framework';
import {
  recordStorageEvent,
  type RecordResult,
} from '../shared/service/record-service.js';
import {serviceContext} from './instance-context.js';
import {retryingCloudEvent} from './event-not-acknowledged.js';

export const FINALIZED = 'google.cloud.storage.object.v1.finalized';

function field(data: unknown, key: string): string | undefined {
  const value = (data as Record<string, unknown> | null)?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export async function recordDatasetMetadataHandler(
  event: CloudEvent<unknown>,
  requestId?: string,
): Promise<RecordResult | 'ignored-event'> {
  const context = serviceContext();
  const log = context.log.with({
    function: 'recordDatasetMetadata',
    eventId: event.id,
    requestId,
  });
  const bucket = field(event.data, 'bucket');
  const name = field(event.data, 'name');
  const generation = field(event.data, 'generation');
  if (
    event.type !== FINALIZED ||
    !bucket ||
    !name ||
    !generation ||
    !/^[0-9]+$/.test(generation)
  ) {
    log.log(
      'WARNING',
      'not a storage finalize event with bucket, name and generation; acknowledged',
      {type: event.type},
    );
    return 'ignored-event';
  }
  return recordStorageEvent(
    {bucket, name, generation, time: event.time},
    {...context, log},
  );
}

retryingCloudEvent('recordDatasetMetadata', recordDatasetMetadataHandler);
