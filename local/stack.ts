/**
 * The whole local stack: emulators, the local signing key, the six
 * functions behind one public port, and the event bridge that delivers
 * the bucket's finalize events to recordDatasetMetadata.
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
  startEventBridge,
  type EventBridge,
  type EventBridgeOptions,
} from './event-bridge.js';
import {
  functionsEntry,
  startFunctions,
  type FunctionName,
  type FunctionProcess,
} from './functions.js';
import {makeRunDir, repoRoot, type RunDir} from './paths.js';
import {startRouter} from './router.js';
import {createSigningKey, type SigningKey} from './signing-key.js';

export const DEFAULT_PORT = 8080;

export interface LocalStackOptions extends Omit<EmulatorsOptions, 'runDir'> {
  /** Public port of the functions; default env PORT, else 8080; 0 picks a free one. */
  port?: number;
  /** Directory functions-framework loads (--source); default the repository (build/functions/index.js). */
  sourceDir?: string;
  /** Functions to serve; default all six. */
  functions?: readonly FunctionName[];
  /** Extra environment for the functions (DATASETS_PREFIX, MAX_SAMPLES, ...). */
  functionEnv?: Record<string, string>;
  /** Run directory (logs/, data/, keys); default a new temp dir. */
  runDir?: string;
  /** Tuning of the event bridge. */
  bridge?: Partial<
    Omit<
      EventBridgeOptions,
      'pubsub' | 'subscription' | 'targetUrl' | 'storageUrl'
    >
  >;
  /** Deadline for each function process to listen; default 60 s. */
  functionsTimeoutMs?: number;
}

export interface LocalStack {
  /** http://127.0.0.1:PORT */
  url: string;
  /** URL of each function served. */
  endpoints: Partial<Record<FunctionName, string>>;
  /** What the functions get: the emulator variables and GOOGLE_APPLICATION_CREDENTIALS. */
  env: EmulatorEnv & {GOOGLE_APPLICATION_CREDENTIALS: string};
  emulators: Emulators;
  bridge: EventBridge;
  signingKey: SigningKey;
  functions: FunctionProcess[];
  runDir: RunDir;
  startupMs: number;
  /** Stops everything (bridge, router, functions, emulators) and deletes the key; idempotent. */
  stop(): Promise<void>;
}

function defaultPort(): number {
  const fromEnv = process.env.PORT;
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_PORT;
  const port = Number(fromEnv);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `PORT must be an integer in 0..65535, got ${JSON.stringify(fromEnv)}`,
    );
  }
  return port;
}

export async function startLocalStack(
  options: LocalStackOptions = {},
): Promise<LocalStack> {
  const t0 = Date.now();
  const log = options.log ?? (() => {});
  const port = options.port ?? defaultPort();
  const sourceDir = options.sourceDir ?? repoRoot();
  functionsEntry(sourceDir); // fail before starting anything
  const runDir = makeRunDir(options.runDir);
  const stops: (() => Promise<void> | void)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
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
    const emulators = await startEmulators({...options, runDir});
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

    log(`starting the functions (logs in ${runDir.logs})`);
    const functions = await startFunctions({
      names: options.functions,
      sourceDir,
      env: {
        ...process.env,
        ...options.functionEnv,
        ...env,
        GCLOUD_PROJECT: emulators.projectId,
      },
      logDir: runDir.logs,
      timeoutMs: options.functionsTimeoutMs ?? 60_000,
    });
    stops.push(async () => {
      await Promise.all(functions.map(f => f.process.stop()));
    });

    const router = await startRouter(
      port,
      new Map(functions.map(f => [f.name, f.port])),
    );
    stops.push(() => router.close());

    const bridgeLog = join(runDir.logs, 'event-bridge.log');
    const bridge = startEventBridge({
      ignore: name => name === NOTIFICATION_CHECK_OBJECT,
      log: line =>
        appendFileSync(bridgeLog, `${new Date().toISOString()} ${line}\n`),
      ...options.bridge,
      pubsub: emulators.pubsub,
      subscription: emulators.subscription,
      targetUrl: `${router.url}/recordDatasetMetadata`,
      storageUrl: emulators.storageUrl,
    });
    stops.push(() => bridge.stop());

    const endpoints: Partial<Record<FunctionName, string>> = Object.fromEntries(
      functions.map(f => [f.name, `${router.url}/${f.name}`]),
    );
    return {
      url: router.url,
      endpoints,
      env,
      emulators,
      bridge,
      signingKey,
      functions,
      runDir,
      startupMs: Date.now() - t0,
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
