/**
 * The whole local stack: emulators, the local signing key, the seven
 * functions behind one public port, and two event bridges: one delivers
 * the bucket's finalize events to recordDatasetMetadata, the other the
 * shard messages of the topic `dataset-shards` to generateShard (docs/design.md §7).
 *
 * Every child is supervised (supervisor.ts): a function process that dies
 * is started again on its port (the router follows it if it has to move);
 * when the Firestore or Pub/Sub emulator comes back on another port, the
 * functions are restarted with the new variables, and the bridge follows
 * the Pub/Sub emulator wherever it is.
 */
import {appendFileSync} from 'node:fs';
import {join} from 'node:path';
import {
  NOTIFICATION_CHECK_OBJECT,
  startEmulators,
  type EmulatorEnv,
  type Emulators,
  type EmulatorsOptions,
} from './emulators.js';
import {
  messagePublishedTransform,
  startEventBridge,
  type EventBridge,
  type EventBridgeOptions,
} from './event-bridge.js';
import {
  FUNCTION_NAMES,
  functionsEntry,
  functionsFrameworkMain,
  startFunction,
  type FunctionName,
  type FunctionProcess,
} from './functions.js';
import {parseIntegerInRange} from '../shared/dataset/integer.js';
import {makeRunDir, repoRoot, type RunDir} from './paths.js';
import {startRouter} from './router.js';
import {createSigningKey, type SigningKey} from './signing-key.js';
import {Supervisor, type SupervisorOptions} from './supervisor.js';

export const DEFAULT_PORT = 8080;
/** gcp-metadata's setting for "there is no metadata server; do not probe". */
const NO_METADATA_SERVER = 'none';

export interface LocalStackOptions extends Omit<EmulatorsOptions, 'runDir'> {
  /** Public port of the functions; default env PORT, else 8080; 0 picks a free one. */
  port?: number;
  /** Directory functions-framework loads (--source); default the repository (build/functions/index.js). */
  sourceDir?: string;
  /** Functions to serve; default all seven. */
  functions?: readonly FunctionName[];
  /** Extra environment for the functions (DATASETS_PREFIX, MAX_SAMPLES, ...). */
  functionEnv?: Record<string, string>;
  /** Run directory (logs/, data/, keys); default a new temp dir. */
  runDir?: string;
  /** Tuning of the storage event bridge. */
  bridge?: Partial<
    Omit<
      EventBridgeOptions,
      'pubsub' | 'subscription' | 'targetUrl' | 'storageUrl' | 'transform'
    >
  >;
  /** Tuning of the shard bridge (see SHARD_BRIDGE_DEFAULTS). */
  shardBridge?: Partial<
    Omit<
      EventBridgeOptions,
      | 'pubsub'
      | 'subscription'
      | 'targetUrl'
      | 'storageUrl'
      | 'transform'
      | 'ignore'
    >
  >;
  /** Deadline for each function process to listen; default 60 s. */
  functionsTimeoutMs?: number;
  /** Restart budget of every child; default 5 restarts a minute each. */
  restarts?: Pick<SupervisorOptions, 'maxRestarts' | 'windowMs'>;
}

export interface LocalStack {
  /** http://127.0.0.1:PORT */
  url: string;
  /** URL of each function served. */
  endpoints: Partial<Record<FunctionName, string>>;
  /** What the functions get: the emulator variables and GOOGLE_APPLICATION_CREDENTIALS. */
  env: EmulatorEnv & {GOOGLE_APPLICATION_CREDENTIALS: string};
  emulators: Emulators;
  /** Storage finalize events -> recordDatasetMetadata. */
  bridge: EventBridge;
  /** Shard messages of `dataset-shards` -> generateShard. */
  shardBridge: EventBridge;
  signingKey: SigningKey;
  /** The function processes now (port and process change when one is restarted). */
  functions: FunctionProcess[];
  /** Restarts the children that die; its events: 'restarted', 'gave-up'. */
  supervisor: Supervisor;
  runDir: RunDir;
  startupMs: number;
  /** Stops everything (bridge, router, functions, emulators) and deletes the key; idempotent. */
  stop(): Promise<void>;
}

/**
 * The shard bridge: shards in flight at once (docs/local-stack.md has the
 * measurement behind 2; the functions get it as SHARD_MAX_INSTANCES, so a
 * sharded lease counts the local waves), and a POST deadline of
 * generateShard's timeout in the cloud (540 s) plus a margin, as a shard
 * of 16,777,216 rows takes long. Retries at most 2 s apart, for 74 s: a
 * shard whose generateShard was killed is redelivered within 2 s of the
 * process being back (docs/sharding.md, "After a crash"), and a restart
 * may take the 60 s a function has to listen.
 */
export const SHARD_BRIDGE_DEFAULTS = Object.freeze({
  maxInFlight: 2,
  maxPending: 16,
  requestTimeoutMs: 600_000,
  initialBackoffMs: 250,
  maxBackoffMs: 2_000,
  maxAttempts: 40,
});

/** A TCP port as text (env PORT, --port): 0 picks a free one. */
export const PORT_BOUNDS = {min: 0, max: 65535} as const;

function defaultPort(): number {
  const fromEnv = process.env.PORT;
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_PORT;
  return parseIntegerInRange(fromEnv, 'PORT', PORT_BOUNDS, {
    error: message => new RangeError(message),
  });
}

export async function startLocalStack(
  options: LocalStackOptions = {},
): Promise<LocalStack> {
  const t0 = Date.now();
  // No metadata server is ever here: without this, google-auth (in the
  // clients of this process and of the functions) probes 169.254.169.254,
  // an address off this machine, and warns (MetadataLookupWarning).
  process.env.METADATA_SERVER_DETECTION ??= NO_METADATA_SERVER;
  const log = options.log ?? (() => {});
  const port = options.port ?? defaultPort();
  const sourceDir = options.sourceDir ?? repoRoot();
  functionsEntry(sourceDir); // fail before starting anything
  const runDir = makeRunDir(options.runDir);
  const supervisorLog = join(runDir.logs, 'supervisor.log');
  const supervisor = new Supervisor({
    ...options.restarts,
    log: line => {
      appendFileSync(supervisorLog, `${new Date().toISOString()} ${line}\n`);
      log(line);
    },
  });
  const stops: (() => Promise<void> | void)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      supervisor.close(); // no restart while stopping
      const errors: unknown[] = [];
      // Last started, first stopped.
      for (const s of stops.reverse()) {
        await Promise.resolve()
          .then(s)
          .catch(err => errors.push(err));
      }
      if (errors.length > 0) throw errors[0];
    })());

  try {
    const emulators = await startEmulators({...options, runDir, supervisor});
    stops.push(() => emulators.stop());

    const signingKey = createSigningKey(
      join(runDir.root, 'keys'),
      emulators.projectId,
    );
    stops.push(() => signingKey.remove());
    const env = {
      ...emulators.env,
      GOOGLE_APPLICATION_CREDENTIALS: signingKey.credentialsFile,
    };
    const shardsAtOnce =
      options.shardBridge?.maxInFlight ?? SHARD_BRIDGE_DEFAULTS.maxInFlight;
    /** What a function process gets, read when it (re)starts. */
    const functionEnv = () => ({
      ...process.env,
      // generateShard's "instances" here are the shard bridge's deliveries
      // in flight: a sharded version's lease has a wave per that many shards.
      SHARD_MAX_INSTANCES: String(shardsAtOnce),
      ...options.functionEnv,
      ...emulators.env,
      GOOGLE_APPLICATION_CREDENTIALS: signingKey.credentialsFile,
      GCLOUD_PROJECT: emulators.projectId,
      SHARD_TOPIC: emulators.shardTopic,
      METADATA_SERVER_DETECTION: NO_METADATA_SERVER,
    });

    log(`starting the functions (logs in ${runDir.logs})`);
    functionsFrameworkMain();
    const names = options.functions ?? FUNCTION_NAMES;
    const routes = new Map<string, number>();
    const childName = (name: FunctionName) => `function ${name}`;
    const stopFunctions = async () => {
      await Promise.allSettled(names.map(n => supervisor.stop(childName(n))));
    };
    stops.push(stopFunctions);
    const timeoutMs = options.functionsTimeoutMs ?? 60_000;
    const started = await Promise.allSettled(
      names.map(name =>
        supervisor.add({
          name: childName(name),
          start: async port => {
            const proc = await startFunction({
              name,
              port,
              sourceDir,
              env: functionEnv(),
              logDir: runDir.logs,
              timeoutMs,
            });
            routes.set(name, port);
            return proc;
          },
        }),
      ),
    );
    const failed = started.find(r => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const functions: FunctionProcess[] = names.map(name => {
      const child = supervisor.child(childName(name));
      return {
        name,
        get port() {
          return child.port;
        },
        get process() {
          return child.process;
        },
      };
    });

    const router = await startRouter(port, routes);
    stops.push(() => router.close());

    const bridgeLog = join(runDir.logs, 'event-bridge.log');
    const bridge = startEventBridge({
      ignore: name => name === NOTIFICATION_CHECK_OBJECT,
      log: line =>
        appendFileSync(bridgeLog, `${new Date().toISOString()} ${line}\n`),
      ...options.bridge,
      pubsubHost: emulators.env.PUBSUB_EMULATOR_HOST,
      projectId: emulators.projectId,
      subscription: emulators.subscription,
      targetUrl: `${router.url}/recordDatasetMetadata`,
      storageUrl: emulators.storageUrl,
    });
    stops.push(() => bridge.stop());

    const shardBridgeLog = join(runDir.logs, 'shard-bridge.log');
    const shardBridge = startEventBridge({
      ...SHARD_BRIDGE_DEFAULTS,
      log: line =>
        appendFileSync(shardBridgeLog, `${new Date().toISOString()} ${line}\n`),
      ...options.shardBridge,
      pubsubHost: emulators.env.PUBSUB_EMULATOR_HOST,
      projectId: emulators.projectId,
      subscription: emulators.shardSubscription,
      targetUrl: `${router.url}/generateShard`,
      transform: messagePublishedTransform({
        projectId: emulators.projectId,
        topic: emulators.shardTopic,
        subscription: emulators.shardSubscription,
      }),
    });
    stops.push(() => shardBridge.stop());

    emulators.onRestart(async ({kind, moved}) => {
      Object.assign(env, emulators.env);
      if (kind === 'pubsub') {
        await bridge.reconnect(emulators.env.PUBSUB_EMULATOR_HOST);
        await shardBridge.reconnect(emulators.env.PUBSUB_EMULATOR_HOST);
      }
      if (moved && kind !== 'storage') {
        // The functions' clients were made with the old host.
        await Promise.all(names.map(n => supervisor.restart(childName(n))));
      }
    });

    const endpoints: Partial<Record<FunctionName, string>> = Object.fromEntries(
      names.map(name => [name, `${router.url}/${name}`]),
    );
    return {
      url: router.url,
      endpoints,
      env,
      emulators,
      bridge,
      shardBridge,
      signingKey,
      functions,
      supervisor,
      runDir,
      startupMs: Date.now() - t0,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
