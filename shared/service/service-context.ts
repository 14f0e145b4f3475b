/**
 * What the services need, made once per process by the function entry points
 * (or by tests: the emulator-backed adapters, or the in-memory fakes of
 * test/support).
 */
import type {Catalog} from '../catalog/catalog.js';
import type {Logger} from '../logger.js';
import type {Settings} from '../settings.js';
import type {ObjectStore} from '../storage/object-store.js';
import type {ShardPublisher} from '../messaging/shard-messages.js';

export interface ServiceContext {
  settings: Settings;
  store: ObjectStore;
  catalog: Catalog;
  log: Logger;
  now(): Date;
  /** Where a sharded generate publishes its shard messages (docs/design.md §7); absent: sharded requests are refused. */
  shardPublisher?: ShardPublisher;
}
