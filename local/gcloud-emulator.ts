/**
 * The Firestore and Pub/Sub emulators of the Google Cloud CLI, each started
 * as `gcloud ... emulators KIND start --host-port=127.0.0.1:PORT` in its own
 * process group, with an isolated gcloud configuration directory so that it
 * neither reads nor writes the user's one and never prompts.
 */
import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {LOOPBACK} from './ports.js';
import {spawnInGroup, type ManagedProcess} from './process-group.js';
import {httpOk, waitUntil} from './wait.js';

export const GCLOUD_EMULATORS = ['firestore', 'pubsub'] as const;
export type GcloudEmulatorKind = (typeof GCLOUD_EMULATORS)[number];

export interface GcloudEmulatorOptions {
  kind: GcloudEmulatorKind;
  port: number;
  projectId: string;
  /** Directory for the log file, gcloud's configuration and emulator data. */
  runDir: string;
  timeoutMs: number;
  /** Firestore only: an export's `.overall_export_metadata` file to load at start. */
  importData?: string;
  /** The gcloud command; default env GCLOUD or "gcloud" on PATH. */
  gcloud?: string;
}

export interface RunningGcloudEmulator {
  kind: GcloudEmulatorKind;
  /** host:port, the value of FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST. */
  host: string;
  port: number;
  process: ManagedProcess;
}

const NAMES: Record<GcloudEmulatorKind, string> = {
  firestore: 'Firestore emulator',
  pubsub: 'Pub/Sub emulator',
};

export async function startGcloudEmulator(
  options: GcloudEmulatorOptions,
): Promise<RunningGcloudEmulator> {
  const {kind, port, projectId, runDir} = options;
  const host = `${LOOPBACK}:${port}`;
  const configDir = join(runDir, 'gcloud-config');
  const dataDir = join(runDir, 'data', kind);
  mkdirSync(configDir, {recursive: true});
  mkdirSync(dataDir, {recursive: true});
  const args =
    kind === 'firestore'
      ? [
          'emulators',
          'firestore',
          'start',
          `--host-port=${host}`,
          ...(options.importData
            ? [`--import-data=${options.importData}`]
            : []),
        ]
      : [
          'beta',
          'emulators',
          'pubsub',
          'start',
          `--host-port=${host}`,
          `--data-dir=${dataDir}`,
        ];
  args.push(`--project=${projectId}`, '--quiet');
  const proc = spawnInGroup({
    name: `${kind}-emulator`,
    command: options.gcloud ?? process.env.GCLOUD ?? 'gcloud',
    args,
    env: {
      ...process.env,
      CLOUDSDK_CONFIG: configDir,
      CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
      CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
      CLOUDSDK_CORE_PROJECT: projectId,
    },
    logFile: join(runDir, 'logs', `${kind}-emulator.log`),
  });
  // Firestore answers "Ok" on /; Pub/Sub serves its REST API once up.
  const probeUrl =
    kind === 'firestore'
      ? `http://${host}/`
      : `http://${host}/v1/projects/${projectId}/topics`;
  try {
    await waitUntil(() => httpOk(probeUrl), {
      what: `${NAMES[kind]} on ${host}`,
      timeoutMs: options.timeoutMs,
      intervalMs: 150,
      process: proc,
      port,
    });
  } catch (err) {
    await proc.stop().catch(() => {});
    throw err;
  }
  return {kind, host, port, process: proc};
}
