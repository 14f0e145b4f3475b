/**
 * What the services need, made once per process by the function entry points
 * (or by tests, pointed at the emulators).
 */
import type {Bucket} from '@google-cloud/storage';
import type {DatasetCatalog} from '../catalog/firestore-catalog.js';
import type {Logger} from '../logger.js';
import type {Settings} from '../settings.js';

export interface ServiceContext {
  settings: Settings;
  bucket: Bucket;
  catalog: DatasetCatalog;
  log: Logger;
  now(): Date;
}
