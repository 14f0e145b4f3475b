/**
 * Settings and clients, made once per instance and shared by every function
 * in it. A bad setting fails at start-up, before any request is taken.
 */
import {Firestore} from '@google-cloud/firestore';
import {Storage} from '@google-cloud/storage';
import {FirestoreCatalog} from '../shared/catalog/firestore-catalog.js';
import {jsonLogger} from '../shared/logger.js';
import {PubsubShardPublisher} from '../shared/messaging/pubsub-shard-publisher.js';
import type {ServiceContext} from '../shared/service/service-context.js';
import {settingsFromEnv} from '../shared/settings.js';
import {GcsObjectStore} from '../shared/storage/gcs-object-store.js';
import {ConfigurationError} from '../shared/errors.js';

export function createServiceContext(
  env: Record<string, string | undefined> = process.env,
): ServiceContext {
  const settings = settingsFromEnv(env);
  if (!settings.bucket)
    throw new ConfigurationError(
      'DATASETS_BUCKET must name the datasets bucket',
    );
  // The clients find the emulators through FIRESTORE_EMULATOR_HOST,
  // STORAGE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST, and the project through
  // GOOGLE_CLOUD_PROJECT. The publisher loads its library on first use.
  const storage = new Storage(
    settings.projectId ? {projectId: settings.projectId} : {},
  );
  const firestore = new Firestore({
    ...(settings.projectId ? {projectId: settings.projectId} : {}),
    ignoreUndefinedProperties: true,
  });
  return {
    settings,
    store: new GcsObjectStore(storage.bucket(settings.bucket)),
    catalog: new FirestoreCatalog(firestore, settings.collection),
    log: jsonLogger(),
    now: () => new Date(),
    shardPublisher: new PubsubShardPublisher({
      topic: settings.shardTopic,
      projectId: settings.projectId,
    }),
  };
}

let shared: ServiceContext | undefined;

/** The instance's context, created on first use. */
export function serviceContext(): ServiceContext {
  shared ??= createServiceContext();
  return shared;
}
