/** The local stack (DESIGN §7-§8): re-exports only. */
export {LocalStackError} from './errors.js';
export {
  DEFAULT_PROJECT_ID,
  DEFAULT_SUBSCRIPTION,
  DEFAULT_TOPIC,
  NOTIFICATION_CHECK_OBJECT,
  startEmulators,
  type EmulatorEnv,
  type EmulatorPorts,
  type Emulators,
  type EmulatorsOptions,
} from './emulators.js';
export {
  startEventBridge,
  type EventBridge,
  type EventBridgeOptions,
  type EventBridgeStats,
} from './event-bridge.js';
export {
  finalizedCloudEvent,
  parseNotification,
  storageObjectData,
  STORAGE_OBJECT_FINALIZED,
  type CloudEventRequest,
  type StorageNotification,
  type StorageObjectData,
} from './cloud-event.js';
export {createSigningKey, type SigningKey} from './signing-key.js';
export {
  FUNCTION_NAMES,
  SIGNATURE_TYPES,
  functionsEntry,
  isFunctionName,
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
export {groupMembers, startedGroups, stopAllGroups} from './process-group.js';
export {
  DEFAULT_PORT,
  startLocalStack,
  type LocalStack,
  type LocalStackOptions,
} from './stack.js';
export {
  PubsubRestClient,
  type PubsubMessage,
  type ReceivedMessage,
} from './pubsub-rest.js';
