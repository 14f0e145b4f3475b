/**
 * The eight Cloud Functions, each served by its own functions-framework
 * process (`--target=NAME --signature-type=http|cloudevent`), as Cloud
 * Functions runs one instance per function.
 */
import {existsSync, readFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {LocalStackError} from './errors.js';
import {repoRoot} from './paths.js';
import {portOrFree} from './ports.js';
import {spawnInGroup, type ManagedProcess} from './process-group.js';
import {tcpOpen, waitUntil} from './wait.js';

export {
  FUNCTION_NAMES,
  isFunctionName,
  SIGNATURE_TYPES,
  type FunctionName,
} from '../functions/function-names.js';
import {
  FUNCTION_NAMES,
  SIGNATURE_TYPES,
  type FunctionName,
} from '../functions/function-names.js';

/**
 * Each function process's V8 semi-space, in MB (`--max-semi-space-size`): the
 * young generation is about three of them. Left to V8, every function process
 * grows a young generation of tens of MB that is mostly empty, and the local
 * stack runs eight of them on a laptop. At 100M rows in 16 shards with a
 * softmax policy the whole stack peaked at 2,283 MB without the cap and at
 * 2,080 MB with it, no slower. scripts/start.sh, demo.sh and bench.sh give the
 * stack's host process the same flag (docs/local-stack-memory.md). The CLI's
 * shard workers cap theirs the same way (SHARD_WORKER_YOUNG_MB).
 */
export const FUNCTION_SEMI_SPACE_MB = 1;

export interface FunctionProcess {
  name: FunctionName;
  port: number;
  process: ManagedProcess;
}

export interface StartFunctionsOptions {
  /** Default: all eight. */
  names?: readonly FunctionName[];
  /** --source: a directory with package.json "main" (or index.js) registering the functions. */
  sourceDir: string;
  /** The functions' whole environment. */
  env: NodeJS.ProcessEnv;
  logDir: string;
  timeoutMs: number;
  /** Fixed internal ports; any not given is picked free. */
  ports?: Partial<Record<FunctionName, number>>;
}

/** functions-framework's CLI entry in this repository's node_modules. */
export function functionsFrameworkMain(): string {
  const main = join(
    repoRoot(),
    'node_modules',
    '@google-cloud',
    'functions-framework',
    'build',
    'src',
    'main.js',
  );
  if (!existsSync(main)) {
    throw new LocalStackError(`${main} is missing: run npm ci`);
  }
  return main;
}

/**
 * The module functions-framework will load from `sourceDir` (package.json
 * "main", else index.js); throws LocalStackError when it is not there, e.g.
 * the functions are not built yet.
 */
export function functionsEntry(sourceDir: string): string {
  let main = 'index.js';
  const manifest = join(sourceDir, 'package.json');
  if (existsSync(manifest)) {
    const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as {
      main?: string;
    };
    if (parsed.main) main = parsed.main;
  }
  const entry = resolve(sourceDir, main);
  if (!existsSync(entry)) {
    throw new LocalStackError(
      `the functions' entry ${entry} does not exist (source ${sourceDir}); build first: npm run build`,
    );
  }
  return entry;
}

export interface StartFunctionOptions {
  name: FunctionName;
  port: number;
  /** --source: a directory with package.json "main" (or index.js) registering the functions. */
  sourceDir: string;
  /** The function's whole environment. */
  env: NodeJS.ProcessEnv;
  logDir: string;
  timeoutMs: number;
}

/**
 * Starts one function's functions-framework process on `port`; resolves once
 * it listens there (its own process, not another on the port).
 */
export async function startFunction(
  options: StartFunctionOptions,
): Promise<ManagedProcess> {
  const {name, port} = options;
  // Not a test child: node --test marks its subprocesses through this variable.
  const env: NodeJS.ProcessEnv = {...options.env, PORT: String(port)};
  delete env.NODE_TEST_CONTEXT;
  const proc = spawnInGroup({
    name: `function ${name}`,
    command: process.execPath,
    args: [
      `--max-semi-space-size=${FUNCTION_SEMI_SPACE_MB}`,
      functionsFrameworkMain(),
      `--target=${name}`,
      `--port=${port}`,
      `--source=${options.sourceDir}`,
      `--signature-type=${SIGNATURE_TYPES[name]}`,
    ],
    env,
    logFile: join(options.logDir, `function-${name}.log`),
  });
  try {
    // An HTTP probe would invoke the function: a TCP connect is enough,
    // functions-framework listens once the source has loaded.
    await waitUntil(() => tcpOpen(port), {
      what: `function ${name} (functions-framework on port ${port}, source ${options.sourceDir})`,
      timeoutMs: options.timeoutMs,
      intervalMs: 100,
      process: proc,
      port,
    });
  } catch (err) {
    await proc.stop().catch(() => {});
    throw err;
  }
  return proc;
}

/**
 * Starts the processes in parallel, unsupervised (startLocalStack supervises
 * its own); on any failure stops them all and throws.
 */
export async function startFunctions(
  options: StartFunctionsOptions,
): Promise<FunctionProcess[]> {
  functionsFrameworkMain();
  functionsEntry(options.sourceDir);
  const names = options.names ?? FUNCTION_NAMES;
  const results = await Promise.allSettled(
    names.map(async name => {
      const port = await portOrFree(options.ports?.[name]);
      const proc = await startFunction({...options, name, port});
      return {name, port, process: proc};
    }),
  );
  const started = results.flatMap(r =>
    r.status === 'fulfilled' ? [r.value] : [],
  );
  const failed = results.find(r => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map(f => f.process.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  return started;
}
