/**
 * The CloudEvent that Eventarc delivers for
 * `google.cloud.storage.object.v1.finalized`, made from a fake-gcs-server
 * notification (and the object's metadata as the emulator reports it), in
 * binary content mode: ce-* headers, and the Cloud Storage object resource
 * as the JSON body, int64 fields (size, generation, metageneration) as
 * strings, as the JSON API writes them. The HTTP message is made by the
 * CloudEvents SDK (`cloudevents`, the library functions-framework parses
 * it with), which also checks the attributes against the spec.
 */
import {CloudEvent, HTTP} from 'cloudevents';

/** A Pub/Sub message as received. */
export interface PubsubMessage {
  messageId: string;
  /** RFC 3339. */
  publishTime: string;
  data?: Buffer;
  attributes?: Record<string, string>;
}

export const STORAGE_OBJECT_FINALIZED =
  'google.cloud.storage.object.v1.finalized';
/** eventType attribute of Cloud Storage's Pub/Sub notifications. */
export const OBJECT_FINALIZE = 'OBJECT_FINALIZE';

/** A Cloud Storage Pub/Sub notification, decoded. */
export interface StorageNotification {
  messageId: string;
  publishTime: string;
  eventType: string;
  bucket: string;
  name: string;
  generation: string;
  eventTime: string | undefined;
  /** The JSON_API_V1 payload, if the message had one. */
  payload: Record<string, unknown>;
}

/** The object resource in the event body. */
export interface StorageObjectData {
  kind: 'storage#object';
  id: string;
  selfLink: string;
  mediaLink: string;
  name: string;
  bucket: string;
  generation: string;
  metageneration: string;
  contentType: string;
  contentEncoding?: string;
  metadata?: Record<string, string>;
  timeCreated: string;
  updated: string;
  timeStorageClassUpdated: string;
  storageClass: string;
  size: string;
  md5Hash: string;
  crc32c: string;
  etag: string;
}

/** An HTTP request that carries a CloudEvent in binary content mode. */
export interface CloudEventRequest<Data = StorageObjectData> {
  headers: Record<string, string>;
  body: string;
  data: Data;
}

/** Decodes a notification; throws a plain Error naming what is missing. */
export function parseNotification(message: PubsubMessage): StorageNotification {
  const attributes = message.attributes ?? {};
  let payload: Record<string, unknown> = {};
  if (message.data && message.data.length > 0) {
    const text = message.data.toString('utf8');
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object')
      payload = parsed as Record<string, unknown>;
  }
  const bucket = attributes.bucketId ?? str(payload.bucket);
  const name = attributes.objectId ?? str(payload.name);
  const generation = attributes.objectGeneration ?? str(payload.generation);
  if (!bucket || !name || !generation) {
    throw new Error(
      `notification ${message.messageId} lacks bucketId/objectId/objectGeneration`,
    );
  }
  return {
    messageId: message.messageId,
    publishTime: message.publishTime,
    eventType: attributes.eventType ?? '',
    bucket,
    name,
    generation,
    eventTime: attributes.eventTime,
    payload,
  };
}

/**
 * The object resource: the emulator's metadata of that generation where
 * known, else the notification's payload; fields Cloud Storage always sets
 * are filled in the same way it does.
 */
export function storageObjectData(
  notification: StorageNotification,
  metadata: Record<string, unknown> | undefined,
  storageUrl: string,
): StorageObjectData {
  const src = {...notification.payload, ...(metadata ?? {})};
  const {bucket, name, generation} = notification;
  const objectPath = `/b/${bucket}/o/${encodeURIComponent(name)}`;
  const md5Hash = str(src.md5Hash);
  const updated = time(
    str(src.updated) ?? str(src.timeCreated) ?? notification.eventTime,
  );
  const data: StorageObjectData = {
    kind: 'storage#object',
    id: `${bucket}/${name}/${generation}`,
    selfLink: str(src.selfLink) ?? `${storageUrl}/storage/v1${objectPath}`,
    mediaLink:
      str(src.mediaLink) ??
      `${storageUrl}/download/storage/v1${objectPath}?generation=${generation}&alt=media`,
    name,
    bucket,
    generation,
    // A finalized generation is new: its metageneration is 1.
    metageneration: str(src.metageneration) ?? '1',
    contentType: str(src.contentType) ?? 'application/octet-stream',
    timeCreated: time(str(src.timeCreated)) || updated,
    updated,
    timeStorageClassUpdated:
      time(str(src.timeStorageClassUpdated) ?? str(src.timeCreated)) || updated,
    storageClass: str(src.storageClass) ?? 'STANDARD',
    size: str(src.size) ?? '0',
    md5Hash: md5Hash ?? '',
    crc32c: str(src.crc32c) ?? '',
    etag: str(src.etag) ?? md5Hash ?? '',
  };
  const contentEncoding = str(src.contentEncoding);
  if (contentEncoding) data.contentEncoding = contentEncoding;
  if (src.metadata && typeof src.metadata === 'object') {
    data.metadata = src.metadata as Record<string, string>;
  }
  return data;
}

/** The HTTP request Eventarc makes: binary content mode. */
export function finalizedCloudEvent(
  notification: StorageNotification,
  data: StorageObjectData,
): CloudEventRequest {
  const event = new CloudEvent<StorageObjectData>({
    id: notification.messageId,
    specversion: '1.0',
    type: STORAGE_OBJECT_FINALIZED,
    source: `//storage.googleapis.com/projects/_/buckets/${data.bucket}`,
    subject: `objects/${data.name}`,
    time: data.updated || notification.eventTime || notification.publishTime,
    // Eventarc's extension attribute for Cloud Storage events.
    bucket: data.bucket,
    datacontenttype: 'application/json; charset=utf-8',
    data,
  });
  return {...binary(event), data};
}

export const PUBSUB_MESSAGE_PUBLISHED =
  'google.cloud.pubsub.topic.v1.messagePublished';

/** Where a Pub/Sub message was published and received. */
export interface PubsubDelivery {
  projectId: string;
  topic: string;
  subscription: string;
}

/** The data of a messagePublished event, as Eventarc writes it. */
export interface MessagePublishedData {
  message: {
    /** base64 of the published bytes; absent when there were none. */
    data?: string;
    attributes?: Record<string, string>;
    messageId: string;
    publishTime: string;
  };
  /** projects/P/subscriptions/S */
  subscription: string;
}

/**
 * The request Eventarc makes of a Pub/Sub message
 * (`google.cloud.pubsub.topic.v1.messagePublished`), binary content mode:
 * ce-id the message id, ce-source the topic, ce-time the publish time, and
 * the body `{message: {data, attributes, messageId, publishTime},
 * subscription}` with data in base64.
 */
export function messagePublishedCloudEvent(
  message: PubsubMessage,
  delivery: PubsubDelivery,
): CloudEventRequest<MessagePublishedData> {
  const data: MessagePublishedData = {
    message: {
      ...(message.data && message.data.length > 0
        ? {data: message.data.toString('base64')}
        : {}),
      ...(message.attributes && Object.keys(message.attributes).length > 0
        ? {attributes: {...message.attributes}}
        : {}),
      messageId: message.messageId,
      publishTime: message.publishTime,
    },
    subscription: `projects/${delivery.projectId}/subscriptions/${delivery.subscription}`,
  };
  const event = new CloudEvent<MessagePublishedData>({
    id: message.messageId,
    specversion: '1.0',
    type: PUBSUB_MESSAGE_PUBLISHED,
    source: `//pubsub.googleapis.com/projects/${delivery.projectId}/topics/${delivery.topic}`,
    time: message.publishTime,
    datacontenttype: 'application/json',
    data,
  });
  return {...binary(event), data};
}

/** The CloudEvents SDK's binary-mode HTTP message: ce-* headers, the data as the body. */
function binary<T>(event: CloudEvent<T>): {
  headers: Record<string, string>;
  body: string;
} {
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = String(value);
  }
  return {headers, body: String(message.body)};
}

/**
 * RFC 3339 in UTC with milliseconds, as Cloud Storage writes times
 * (fake-gcs-server writes Go's nanosecond form); '' when absent or invalid.
 */
function time(value: string | undefined): string {
  if (!value) return '';
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** int64 and string fields alike, as strings; undefined when absent or empty. */
function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint')
    return String(value);
  return undefined;
}
