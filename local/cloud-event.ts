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

export interface CloudEventRequest {
  headers: Record<string, string>;
  body: string;
  data: StorageObjectData;
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
  const message = HTTP.binary(event);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = String(value);
  }
  return {headers, body: String(message.body), data};
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
