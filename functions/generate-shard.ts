/**
 * generateShard: one shard of a sharded version (docs/design.md §7), from the
 * `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent that Eventarc
 * (locally: the local stack's bridge) makes of a message on the topic
 * `dataset-shards`. A malformed event or message can never succeed: it is
 * logged and acknowledged. The service fails the version itself on a
 * deterministic error and returns (acknowledged); a transient one throws,
 * and so does this handler, so that Pub/Sub delivers the message again.
 */
import type {CloudEvent} from '@google-cloud/functions-framework';
import {InvalidArgumentError} from '../shared/errors.js';
import {shardMessageOfEvent} from '../shared/messaging/pushed-message.js';
import {generateShardOfVersion} from '../shared/service/shard-service.js';
import {serviceContext} from './instance-context.js';
import {retryingCloudEvent} from './event-not-acknowledged.js';

export type GenerateShardResult =
  Awaited<ReturnType<typeof generateShardOfVersion>> | 'ignored-event';

export async function generateShardHandler(
  event: CloudEvent<unknown>,
  requestId?: string,
): Promise<GenerateShardResult> {
  const context = serviceContext();
  const log = context.log.with({
    function: 'generateShard',
    eventId: event.id,
    requestId,
  });
  let decoded: ReturnType<typeof shardMessageOfEvent>;
  try {
    decoded = shardMessageOfEvent(event.type, event.data);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    log.log('WARNING', `not a shard message, acknowledged: ${error.message}`, {
      type: event.type,
      field: error.field,
    });
    return 'ignored-event';
  }
  const {message, pushed} = decoded;
  return generateShardOfVersion(message, {
    ...context,
    // The service adds version, shard and shards.
    log: log.with({messageId: pushed.messageId}),
  });
}

retryingCloudEvent('generateShard', generateShardHandler);
