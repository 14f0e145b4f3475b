/**
 * fake-gcs-server, the Cloud Storage emulator: filesystem backend under the
 * run directory, plain HTTP on 127.0.0.1, and OBJECT_FINALIZE notifications
 * of the datasets bucket published to the Pub/Sub emulator.
 *
 * Its public host and external URL name the address clients use (the
 * storage front, see storage-front.ts), so that signed URLs
 * (http://127.0.0.1:PORT/BUCKET/OBJECT) and resumable upload session URLs
 * resolve. The notification topic must exist before the first upload:
 * fake-gcs-server publishes each event once, in the background, and only
 * logs a failure ("error publishing event: ... Topic not found").
 */
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {LocalStackError} from './errors.js';
import {cacheDir, repoRoot} from './paths.js';
import {LOOPBACK} from './ports.js';
import {spawnInGroup, type ManagedProcess} from './process-group.js';
import {httpOk, tailOf, waitUntil} from './wait.js';

export interface FakeGcsOptions {
  /** Port fake-gcs-server itself listens on. */
  port: number;
  /** Port clients use (the storage front); named in -public-host and -external-url. */
  publicPort: number;
  projectId: string;
  bucket: string;
  topic: string;
  /** host:port of the Pub/Sub emulator. */
  pubsubHost: string;
  /** Filesystem backend root. */
  dataDir: string;
  logDir: string;
  timeoutMs: number;
  /** The binary; default: env FAKE_GCS_SERVER_BIN, else installed by scripts/install-fake-gcs-server.sh. */
  binary?: string;
}

/**
 * The fake-gcs-server binary: env FAKE_GCS_SERVER_BIN if set, else the
 * pinned one that scripts/install-fake-gcs-server.sh installs (a no-op
 * when already there; the first `go install` takes a few minutes).
 */
export async function fakeGcsServerBinary(logDir: string): Promise<string> {
  const fromEnv = process.env.FAKE_GCS_SERVER_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new LocalStackError(
        `FAKE_GCS_SERVER_BIN=${fromEnv} does not exist`,
      );
    }
    return fromEnv;
  }
  const logFile = join(logDir, 'install-fake-gcs-server.log');
  const installer = spawnInGroup({
    name: 'install-fake-gcs-server',
    command: 'bash',
    args: [join(repoRoot(), 'scripts', 'install-fake-gcs-server.sh')],
    env: process.env,
    logFile,
  });
  const status = await installer.exited;
  await installer.stop(); // nothing should be left; make sure
  // The name install-fake-gcs-server.sh builds (patched: uploads streamed to disk).
  const binary = join(cacheDir(), 'bin', 'fake-gcs-server-streaming');
  if (status.code !== 0 || !existsSync(binary)) {
    throw new LocalStackError(
      `scripts/install-fake-gcs-server.sh failed (code ${status.code})${tailOf(logFile)}`,
      {logFile},
    );
  }
  return binary;
}

export async function startFakeGcsServer(
  options: FakeGcsOptions,
): Promise<ManagedProcess> {
  const binary = options.binary ?? (await fakeGcsServerBinary(options.logDir));
  const publicHost = `${LOOPBACK}:${options.publicPort}`;
  const proc = spawnInGroup({
    name: 'fake-gcs-server',
    command: binary,
    args: [
      '-backend',
      'filesystem',
      '-filesystem-root',
      options.dataDir,
      '-scheme',
      'http',
      '-host',
      LOOPBACK,
      '-port',
      String(options.port),
      '-public-host',
      publicHost,
      '-external-url',
      `http://${publicHost}`,
      '-location',
      'US-CENTRAL1',
      '-event.pubsub-project-id',
      options.projectId,
      '-event.pubsub-topic',
      options.topic,
      '-event.bucket',
      options.bucket,
      '-event.list',
      'finalize',
      '-log-level',
      'info',
    ],
    // fake-gcs-server's Pub/Sub client finds the emulator through this
    // variable only; without it, it would look for real credentials.
    env: {...process.env, PUBSUB_EMULATOR_HOST: options.pubsubHost},
    logFile: join(options.logDir, 'fake-gcs-server.log'),
  });
  try {
    await waitUntil(
      () => httpOk(`http://${LOOPBACK}:${options.port}/_internal/healthcheck`),
      {
        what: `fake-gcs-server on ${LOOPBACK}:${options.port}`,
        timeoutMs: options.timeoutMs,
        intervalMs: 50,
        process: proc,
        port: options.port,
      },
    );
  } catch (err) {
    await proc.stop().catch(() => {});
    throw err;
  }
  return proc;
}
