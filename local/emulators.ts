/**
 * The emulators of the local stack (docs/design.md §7-§8): Firestore and Pub/Sub
 * from the Google Cloud CLI, Cloud Storage from fake-gcs-server, wired so
 * that every object finalized in the datasets bucket becomes a message on a
 * Pub/Sub pull subscription.
 *
 * Order matters (see docs/local-stack.md): the topic exists before
 * fake-gcs-server starts, in the project it publishes to; then a check
 * object proves that a notification arrives; only then is the bridge's
 * subscription made, so that it starts empty.
 *
 * Each emulator is supervised (supervisor.ts): one that dies is started
 * again, on the same port when it can be; the Firestore emulator with the
 * newest export of its data (firestore-snapshots.ts), the Pub/Sub emulator
 * with its topic and subscription made anew. `env` always names where the
 * emulators are now; `onRestart` listeners hear of every restart.
 */
import type {PubSub} from '@google-cloud/pubsub';
import {appendFileSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {LocalStackError} from './errors.js';
import {fakeGcsServerBinary, startFakeGcsServer} from './fake-gcs.js';
import {FirestoreSnapshots} from './firestore-snapshots.js';
import {startGcloudEmulator} from './gcloud-emulator.js';
import {makeRunDir, type RunDir} from './paths.js';
import {LOOPBACK, freePort} from './ports.js';
import type {ManagedProcess} from './process-group.js';
import {
  awaitMessage,
  deleteSubscription,
  ensureSubscription,
  ensureTopic,
  loadPubsub,
  pubsubClient,
} from './pubsub.js';
import {SETTING_DEFAULTS} from '../shared/settings.js';
import {startStorageFront, type StorageFront} from './storage-front.js';
import {Supervisor} from './supervisor.js';
import {httpOk, waitUntil} from './wait.js';

export const DEFAULT_PROJECT_ID = 'exploration-data-local';
export const DEFAULT_TOPIC = 'datasets-object-finalize';
export const DEFAULT_SUBSCRIPTION = 'local-event-bridge';
/** The shard fan-out's topic (docs/design.md §7) and the shard bridge's subscription of it. */
export const DEFAULT_SHARD_TOPIC = SETTING_DEFAULTS.SHARD_TOPIC;
export const DEFAULT_SHARD_SUBSCRIPTION = 'local-shard-bridge';
/**
 * Pub/Sub's longest ack deadline: a shard takes long, and the bridge's
 * client extends the lease meanwhile anyway.
 */
const SHARD_ACK_DEADLINE_SECONDS = 600;
/** Object written (then deleted) at start-up to prove that notifications flow. */
export const NOTIFICATION_CHECK_OBJECT = '.local-stack/notification-check';

export interface EmulatorPorts {
  firestore: number;
  pubsub: number;
  /** What clients use: STORAGE_EMULATOR_HOST (the storage front). */
  storage: number;
  /** fake-gcs-server itself, behind the front. */
  fakeGcs: number;
}

export interface EmulatorsOptions {
  /** Default: env GOOGLE_CLOUD_PROJECT, else "exploration-data-local". */
  projectId?: string;
  /** Default: env DATASETS_BUCKET, else "<projectId>-datasets". */
  bucket?: string;
  /** Notification topic; default "datasets-object-finalize". */
  topic?: string;
  /** The bridge's pull subscription; default "local-event-bridge". */
  subscription?: string;
  /** The shard fan-out's topic (SHARD_TOPIC); default "dataset-shards". */
  shardTopic?: string;
  /** The shard bridge's pull subscription of it; default "local-shard-bridge". */
  shardSubscription?: string;
  /** Fixed ports; any not given (or 0) is picked free. */
  ports?: Partial<EmulatorPorts>;
  /** Run directory (logs/, data/); default a new temp dir. */
  runDir?: string | RunDir;
  /** Per emulator start-up deadline; default 90 s (the Java ones take 5-15 s). */
  startupTimeoutMs?: number;
  /** Upload a check object and wait for its notification; default true. */
  verifyNotifications?: boolean;
  /** Progress lines; default none. */
  log?: (line: string) => void;
  /** Supervises the emulators; default a new one (restart budget 5 a minute). */
  supervisor?: Supervisor;
  /** Export the Firestore emulator's data every this many ms (and at stop); default 1000. */
  firestoreSnapshotMs?: number;
}

export type EmulatorKind = 'firestore' | 'pubsub' | 'storage';

/** Names of the emulators' processes in the supervisor. */
export const EMULATOR_CHILDREN: Record<EmulatorKind, string> = {
  firestore: 'firestore-emulator',
  pubsub: 'pubsub-emulator',
  storage: 'fake-gcs-server',
};

export interface EmulatorRestart {
  kind: EmulatorKind;
  /** Its host changed (env has the new one): clients made with the old one must be made anew. */
  moved: boolean;
}

/** The standard variables that point clients at the emulators. */
export interface EmulatorEnv {
  FIRESTORE_EMULATOR_HOST: string;
  STORAGE_EMULATOR_HOST: string;
  PUBSUB_EMULATOR_HOST: string;
  GOOGLE_CLOUD_PROJECT: string;
  DATASETS_BUCKET: string;
  [name: string]: string;
}

export interface Emulators {
  /** Where the emulators are now (updated when one moves). */
  env: EmulatorEnv;
  projectId: string;
  bucket: string;
  topic: string;
  subscription: string;
  shardTopic: string;
  shardSubscription: string;
  /** The ports now (updated when one moves). */
  ports: EmulatorPorts;
  /** http://127.0.0.1:PORT, the value of STORAGE_EMULATOR_HOST; never moves. */
  storageUrl: string;
  runDir: RunDir;
  /** A client of the Pub/Sub emulator (made anew if it moves). */
  pubsub(): PubSub;
  snapshots: FirestoreSnapshots;
  supervisor: Supervisor;
  /** Milliseconds each part took to be ready, and the whole. */
  startupMs: {
    firestore: number;
    pubsub: number;
    storage: number;
    total: number;
  };
  /** The emulators' processes now (a restarted one is the new process). */
  readonly processes: ManagedProcess[];
  /** Called (and awaited) after an emulator was restarted and set up again. */
  onRestart(listener: (event: EmulatorRestart) => Promise<void> | void): void;
  /**
   * Stops everything started here (idempotent), after a last export of the
   * Firestore data; removes data/ of a temp run dir.
   */
  stop(): Promise<void>;
}

export async function startEmulators(
  options: EmulatorsOptions = {},
): Promise<Emulators> {
  const t0 = Date.now();
  const pubsubLibrary = loadPubsub(); // overlaps the emulators' start
  pubsubLibrary.catch(() => {}); // awaited below
  const log = options.log ?? (() => {});
  const projectId =
    options.projectId ??
    (process.env.GOOGLE_CLOUD_PROJECT || DEFAULT_PROJECT_ID);
  const bucket =
    options.bucket ?? (process.env.DATASETS_BUCKET || `${projectId}-datasets`);
  const topic = options.topic ?? DEFAULT_TOPIC;
  const subscription = options.subscription ?? DEFAULT_SUBSCRIPTION;
  const shardTopic = options.shardTopic ?? DEFAULT_SHARD_TOPIC;
  const shardSubscription =
    options.shardSubscription ?? DEFAULT_SHARD_SUBSCRIPTION;
  const timeoutMs = options.startupTimeoutMs ?? 90_000;
  const runDir =
    typeof options.runDir === 'object'
      ? options.runDir
      : makeRunDir(options.runDir);
  const supervisorLog = join(runDir.logs, 'supervisor.log');
  const supervisor =
    options.supervisor ??
    new Supervisor({
      log: line => {
        appendFileSync(supervisorLog, `${new Date().toISOString()} ${line}\n`);
        log(line);
      },
    });
  const snapshots = new FirestoreSnapshots(
    join(runDir.data, 'firestore'),
    projectId,
    log,
  );
  const storagePort = options.ports?.storage || (await freePort());
  const storageUrl = `http://${LOOPBACK}:${storagePort}`;
  const host = (port: number) => `${LOOPBACK}:${port}`;
  const ports: EmulatorPorts = {
    firestore: 0,
    pubsub: 0,
    storage: storagePort,
    fakeGcs: 0,
  };
  const env: EmulatorEnv = {
    FIRESTORE_EMULATOR_HOST: '',
    STORAGE_EMULATOR_HOST: storageUrl,
    PUBSUB_EMULATOR_HOST: '',
    GOOGLE_CLOUD_PROJECT: projectId,
    DATASETS_BUCKET: bucket,
  };
  const listeners: ((event: EmulatorRestart) => Promise<void> | void)[] = [];
  const notify = async (event: EmulatorRestart) => {
    for (const listener of listeners) await listener(event);
  };
  /** The host each listener last heard of, to tell them whether it moved. */
  const announced = {firestore: '', pubsub: ''};
  const announce = async (kind: 'firestore' | 'pubsub', now: string) => {
    const moved = announced[kind] !== now;
    announced[kind] = now;
    await notify({kind, moved});
  };
  let pubsub: PubSub | undefined;
  const pubsubNow = () =>
    (pubsub ??= pubsubClient(env.PUBSUB_EMULATOR_HOST, projectId));
  /** The shard fan-out's topic and the shard bridge's subscription. */
  const ensureShardTopic = async () => {
    await ensureTopic(pubsubNow(), shardTopic);
    await ensureSubscription(
      pubsubNow(),
      shardTopic,
      shardSubscription,
      SHARD_ACK_DEADLINE_SECONDS,
    );
  };

  const names = Object.values(EMULATOR_CHILDREN);
  let front: StorageFront | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!options.supervisor) supervisor.close();
      await snapshots.stop();
      const results = await Promise.allSettled([
        ...names.map(name =>
          supervisor.names().includes(name) ? supervisor.stop(name) : undefined,
        ),
        front?.close(),
        pubsub?.close(),
      ]);
      if (runDir.created) rmSync(runDir.data, {recursive: true, force: true});
      const failed = results.find(r => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    })());

  try {
    log(
      `starting the Firestore and Pub/Sub emulators (logs in ${runDir.logs})`,
    );
    const common = {projectId, runDir: runDir.root, timeoutMs};
    const timed = async (start: () => Promise<unknown>) => {
      const started = Date.now();
      await start();
      return Date.now() - started;
    };
    const [firestoreMs, pubsubMs] = await settleAll([
      timed(() =>
        supervisor.add({
          name: EMULATOR_CHILDREN.firestore,
          port: options.ports?.firestore,
          start: async port => {
            env.FIRESTORE_EMULATOR_HOST = host(port);
            ports.firestore = port;
            const emulator = await startGcloudEmulator({
              ...common,
              kind: 'firestore',
              port,
              importData: snapshots.current(),
            });
            return emulator.process;
          },
          restarted: () => announce('firestore', env.FIRESTORE_EMULATOR_HOST),
          beforeStop: async () => {
            await snapshots.stop();
            await snapshots
              .take(env.FIRESTORE_EMULATOR_HOST)
              .catch(err =>
                log(`last Firestore export failed: ${(err as Error).message}`),
              );
          },
        }),
      ),
      timed(() =>
        supervisor.add({
          name: EMULATOR_CHILDREN.pubsub,
          port: options.ports?.pubsub,
          start: async port => {
            env.PUBSUB_EMULATOR_HOST = host(port);
            ports.pubsub = port;
            const emulator = await startGcloudEmulator({
              ...common,
              kind: 'pubsub',
              port,
            });
            return emulator.process;
          },
          moved: async () => {
            await pubsub?.close().catch(() => {});
            pubsub = undefined;
            // fake-gcs-server publishes to the variable it started with.
            await supervisor.restart(EMULATOR_CHILDREN.storage);
          },
          restarted: async () => {
            await pubsubLibrary;
            // A new emulator knows no topic: set it up as at start.
            await ensureTopic(pubsubNow(), topic);
            await ensureSubscription(pubsubNow(), topic, subscription, 300);
            await ensureShardTopic();
            await announce('pubsub', env.PUBSUB_EMULATOR_HOST);
          },
        }),
      ),
    ]);
    announced.firestore = env.FIRESTORE_EMULATOR_HOST;
    announced.pubsub = env.PUBSUB_EMULATOR_HOST;
    snapshots.start(
      () => env.FIRESTORE_EMULATOR_HOST,
      options.firestoreSnapshotMs ?? 1_000,
    );

    await pubsubLibrary;
    await ensureTopic(pubsubNow(), topic);
    await ensureShardTopic();
    const checkSubscription = `${subscription}-startup-check`;
    if (options.verifyNotifications !== false) {
      await ensureSubscription(pubsubNow(), topic, checkSubscription, 30);
    }

    log('starting fake-gcs-server');
    const storageStarted = Date.now();
    const binary = await fakeGcsServerBinary(runDir.logs);
    const fakeGcsFirst = options.ports?.fakeGcs || (await freePort());
    front = await startStorageFront(storagePort, fakeGcsFirst);
    const storageFront = front;
    await supervisor.add({
      name: EMULATOR_CHILDREN.storage,
      port: fakeGcsFirst,
      start: async port => {
        ports.fakeGcs = port;
        storageFront.setUpstream(port);
        return startFakeGcsServer({
          binary,
          port,
          publicPort: storagePort,
          projectId,
          bucket,
          topic,
          pubsubHost: env.PUBSUB_EMULATOR_HOST,
          dataDir: join(runDir.data, 'gcs'),
          logDir: runDir.logs,
          timeoutMs,
        });
      },
      // Clients use the front, which follows fake-gcs-server wherever it is.
      restarted: () => notify({kind: 'storage', moved: false}),
    });
    await waitUntil(() => httpOk(`${storageUrl}/_internal/healthcheck`), {
      what: `the storage front on ${LOOPBACK}:${storagePort}`,
      timeoutMs: 5_000,
    });
    await createBucket(storageUrl, projectId, bucket);
    const storageMs = Date.now() - storageStarted;

    if (options.verifyNotifications !== false) {
      await checkNotifications(
        storageUrl,
        bucket,
        pubsubNow(),
        checkSubscription,
        runDir,
      );
      await deleteSubscription(pubsubNow(), checkSubscription);
    }
    await ensureSubscription(pubsubNow(), topic, subscription, 300);

    const startupMs = {
      firestore: firestoreMs,
      pubsub: pubsubMs,
      storage: storageMs,
      total: Date.now() - t0,
    };
    log(`emulators ready in ${(startupMs.total / 1000).toFixed(1)} s`);
    return {
      env,
      projectId,
      bucket,
      topic,
      subscription,
      shardTopic,
      shardSubscription,
      ports,
      storageUrl,
      runDir,
      pubsub: pubsubNow,
      snapshots,
      supervisor,
      startupMs,
      get processes() {
        return names
          .filter(name => supervisor.names().includes(name))
          .map(name => supervisor.child(name).process);
      },
      onRestart: listener => void listeners.push(listener),
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Like Promise.all, but waits for every promise before rejecting. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find(r => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return results.map(r => (r as PromiseFulfilledResult<T>).value);
}

async function createBucket(
  storageUrl: string,
  projectId: string,
  bucket: string,
) {
  const res = await fetch(
    `${storageUrl}/storage/v1/b?project=${encodeURIComponent(projectId)}`,
    {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({name: bucket}),
    },
  );
  const text = await res.text();
  // 409: it exists already (a run directory given again).
  if (!res.ok && res.status !== 409) {
    throw new LocalStackError(
      `could not create bucket ${bucket}: ${res.status} ${text}`,
    );
  }
}

/**
 * Uploads a check object and waits for its OBJECT_FINALIZE message: proves
 * the path fake-gcs-server -> Pub/Sub emulator before anyone relies on it.
 */
async function checkNotifications(
  storageUrl: string,
  bucket: string,
  pubsub: PubSub,
  checkSubscription: string,
  runDir: RunDir,
): Promise<void> {
  const name = NOTIFICATION_CHECK_OBJECT;
  const objectUrl = `${storageUrl}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`;
  const arrived = awaitMessage(
    pubsub,
    checkSubscription,
    message => message.attributes.objectId === name,
    15_000,
  );
  const upload = await fetch(
    `${storageUrl}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`,
    {method: 'POST', headers: {'content-type': 'text/plain'}, body: 'ok'},
  );
  if (!upload.ok) {
    const text = await upload.text();
    await arrived.catch(() => {});
    throw new LocalStackError(
      `could not upload the check object: ${upload.status} ${text}`,
      {logFile: join(runDir.logs, 'fake-gcs-server.log')},
    );
  }
  if (await arrived) {
    await fetch(objectUrl, {method: 'DELETE'}).then(r => r.body?.cancel());
    return;
  }
  throw new LocalStackError(
    'fake-gcs-server did not publish an OBJECT_FINALIZE notification to the Pub/Sub ' +
      'emulator within 15 s of an upload; look for "error publishing event" in its log',
    {logFile: join(runDir.logs, 'fake-gcs-server.log')},
  );
}
