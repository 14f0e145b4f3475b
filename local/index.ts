/** The local stack (docs/design.md §7-§8): re-exports only. */
export {LocalStackError} from './errors.js';
export {
  DEFAULT_PROJECT_ID,
  DEFAULT_SHARD_SUBSCRIPTION,
  DEFAULT_SHARD_TOPIC,
  DEFAULT_SUBSCRIPTION,
  DEFAULT_TOPIC,
  EMULATOR_CHILDREN,
  NOTIFICATION_CHECK_OBJECT,
  startEmulators,
  type EmulatorKind,
  type EmulatorRestart,
  type EmulatorEnv,
  type EmulatorPorts,
  type Emulators,
  type EmulatorsOptions,
} from './emulators.js';
export {
  messagePublishedTransform,
  startEventBridge,
  storageFinalizedTransform,
  type CloudEventTransform,
  type EventBridge,
  type EventBridgeOptions,
  type EventBridgeStats,
} from './event-bridge.js';
export {
  finalizedCloudEvent,
  messagePublishedCloudEvent,
  parseNotification,
  PUBSUB_MESSAGE_PUBLISHED,
  storageObjectData,
  STORAGE_OBJECT_FINALIZED,
  type CloudEventRequest,
  type MessagePublishedData,
  type PubsubDelivery,
  type PubsubMessage,
  type StorageNotification,
  type StorageObjectData,
} from './cloud-event.js';
export {createSigningKey, type SigningKey} from './signing-key.js';
export {
  FUNCTION_NAMES,
  SIGNATURE_TYPES,
  functionsEntry,
  isFunctionName,
  startFunction,
  startFunctions,
  type FunctionName,
  type FunctionProcess,
} from './functions.js';
export {startRouter, splitFunctionPath, type Router} from './router.js';
export {
  rewriteStoragePath,
  startStorageFront,
  type StorageFront,
} from './storage-front.js';
export {
  groupMembers,
  reaperPid,
  startedGroups,
  stopAllGroups,
  watchParent,
} from './process-group.js';
export {
  DEFAULT_PORT,
  SHARD_BRIDGE_DEFAULTS,
  startLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from './stack.js';
export {
  deleteSubscription,
  ensureSubscription,
  ensureTopic,
  loadPubsub,
  pubsubClient,
} from './pubsub.js';
export {
  Supervisor,
  type ChildSpec,
  type ChildState,
  type RestartEvent,
  type SupervisedChild,
  type SupervisorOptions,
} from './supervisor.js';
export {FirestoreSnapshots, type Snapshot} from './firestore-snapshots.js';
export {portOwner, listeningInodes, type PortOwner} from './listeners.js';
export {freePort, LOOPBACK} from './ports.js';
