/**
 * The emulators of the local stack (DESIGN §7-§8): Firestore and Pub/Sub
 * from the Google Cloud CLI, Cloud Storage from fake-gcs-server, wired so
 * that every object finalized in the datasets bucket becomes a message on a
 * Pub/Sub pull subscription.
 *
 * Order matters (see docs/local-stack.md): the topic exists before
 * fake-gcs-server starts, in the project it publishes to; then a check
 * object proves that a notification arrives; only then is the bridge's
 * subscription made, so that it starts empty.
 */
import {rmSync} from 'node:fs';
import {join} from 'node:path';
import {LocalStackError} from './errors.js';
import {startFakeGcsServer} from './fake-gcs.js';
import {
  startGcloudEmulator,
  type RunningGcloudEmulator,
} from './gcloud-emulator.js';
import {makeRunDir, type RunDir} from './paths.js';
import {LOOPBACK, portOrFree} from './ports.js';
import type {ManagedProcess} from './process-group.js';
import {PubsubRestClient} from './pubsub-rest.js';
import {startStorageFront, type StorageFront} from './storage-front.js';
import {httpOk, waitUntil} from './wait.js';

export const DEFAULT_PROJECT_ID = 'exploration-data-local';
export const DEFAULT_TOPIC = 'datasets-object-finalize';
export const DEFAULT_SUBSCRIPTION = 'local-event-bridge';
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
  env: EmulatorEnv;
  projectId: string;
  bucket: string;
  topic: string;
  subscription: string;
  ports: EmulatorPorts;
  /** http://127.0.0.1:PORT, the value of STORAGE_EMULATOR_HOST. */
  storageUrl: string;
  runDir: RunDir;
  pubsub: PubsubRestClient;
  /** Milliseconds each part took to be ready, and the whole. */
  startupMs: {
    firestore: number;
    pubsub: number;
    storage: number;
    total: number;
  };
  processes: ManagedProcess[];
  /** Stops everything started here (idempotent); removes data/ of a temp run dir. */
  stop(): Promise<void>;
}

export async function startEmulators(
  options: EmulatorsOptions = {},
): Promise<Emulators> {
  const t0 = Date.now();
  const log = options.log ?? (() => {});
  const projectId =
    options.projectId ??
    (process.env.GOOGLE_CLOUD_PROJECT || DEFAULT_PROJECT_ID);
  const bucket =
    options.bucket ?? (process.env.DATASETS_BUCKET || `${projectId}-datasets`);
  const topic = options.topic ?? DEFAULT_TOPIC;
  const subscription = options.subscription ?? DEFAULT_SUBSCRIPTION;
  const timeoutMs = options.startupTimeoutMs ?? 90_000;
  const runDir =
    typeof options.runDir === 'object'
      ? options.runDir
      : makeRunDir(options.runDir);
  const ports: EmulatorPorts = {
    firestore: await portOrFree(options.ports?.firestore),
    pubsub: await portOrFree(options.ports?.pubsub),
    storage: await portOrFree(options.ports?.storage),
    fakeGcs: await portOrFree(options.ports?.fakeGcs),
  };

  const processes: ManagedProcess[] = [];
  let front: StorageFront | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const results = await Promise.allSettled([
      ...processes.map(p => p.stop()),
      front?.close(),
    ]);
    if (runDir.created) rmSync(runDir.data, {recursive: true, force: true});
    const failed = results.find(r => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };

  try {
    log(
      `starting the Firestore and Pub/Sub emulators (logs in ${runDir.logs})`,
    );
    const timed = async (start: () => Promise<RunningGcloudEmulator>) => {
      const started = Date.now();
      const emulator = await start();
      processes.push(emulator.process);
      return {emulator, ms: Date.now() - started};
    };
    const common = {projectId, runDir: runDir.root, timeoutMs};
    const [firestore, pubsubEmulator] = await settleAll([
      timed(() =>
        startGcloudEmulator({
          ...common,
          kind: 'firestore',
          port: ports.firestore,
        }),
      ),
      timed(() =>
        startGcloudEmulator({...common, kind: 'pubsub', port: ports.pubsub}),
      ),
    ]);
    const pubsub = new PubsubRestClient(
      pubsubEmulator.emulator.host,
      projectId,
    );
    await pubsub.createTopic(topic);
    const checkSubscription = `${subscription}-startup-check`;
    if (options.verifyNotifications !== false) {
      await pubsub.createSubscription(checkSubscription, topic, 30);
    }

    log('starting fake-gcs-server');
    const storageStarted = Date.now();
    front = await startStorageFront(ports.storage, ports.fakeGcs);
    processes.push(
      await startFakeGcsServer({
        port: ports.fakeGcs,
        publicPort: ports.storage,
        projectId,
        bucket,
        topic,
        pubsubHost: pubsubEmulator.emulator.host,
        dataDir: join(runDir.data, 'gcs'),
        logDir: runDir.logs,
        timeoutMs,
      }),
    );
    const storageUrl = `http://${LOOPBACK}:${ports.storage}`;
    await waitUntil(() => httpOk(`${storageUrl}/_internal/healthcheck`), {
      what: `the storage front on ${LOOPBACK}:${ports.storage}`,
      timeoutMs: 5_000,
    });
    await createBucket(storageUrl, projectId, bucket);
    const storageMs = Date.now() - storageStarted;

    if (options.verifyNotifications !== false) {
      await checkNotifications(
        storageUrl,
        bucket,
        pubsub,
        checkSubscription,
        runDir,
      );
      await pubsub.deleteSubscription(checkSubscription);
    }
    await pubsub.createSubscription(subscription, topic, 300);

    const env: EmulatorEnv = {
      FIRESTORE_EMULATOR_HOST: firestore.emulator.host,
      STORAGE_EMULATOR_HOST: storageUrl,
      PUBSUB_EMULATOR_HOST: pubsubEmulator.emulator.host,
      GOOGLE_CLOUD_PROJECT: projectId,
      DATASETS_BUCKET: bucket,
    };
    const startupMs = {
      firestore: firestore.ms,
      pubsub: pubsubEmulator.ms,
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
      ports,
      storageUrl,
      runDir,
      pubsub,
      startupMs,
      processes,
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
  pubsub: PubsubRestClient,
  checkSubscription: string,
  runDir: RunDir,
): Promise<void> {
  const name = NOTIFICATION_CHECK_OBJECT;
  const objectUrl = `${storageUrl}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}`;
  const upload = await fetch(
    `${storageUrl}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}`,
    {method: 'POST', headers: {'content-type': 'text/plain'}, body: 'ok'},
  );
  if (!upload.ok) {
    throw new LocalStackError(
      `could not upload the check object: ${upload.status} ${await upload.text()}`,
      {logFile: join(runDir.logs, 'fake-gcs-server.log')},
    );
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const messages = await pubsub
      .pull(checkSubscription, {
        maxMessages: 10,
        signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      })
      .catch(err => {
        if ((err as Error).name === 'TimeoutError') return [];
        throw err;
      });
    await pubsub.acknowledge(
      checkSubscription,
      messages.map(m => m.ackId),
    );
    if (messages.some(m => m.message.attributes?.objectId === name)) {
      await fetch(objectUrl, {method: 'DELETE'}).then(r => r.body?.cancel());
      return;
    }
  }
  throw new LocalStackError(
    'fake-gcs-server did not publish an OBJECT_FINALIZE notification to the Pub/Sub ' +
      'emulator within 15 s of an upload; look for "error publishing event" in its log',
    {logFile: join(runDir.logs, 'fake-gcs-server.log')},
  );
}
