/**
 * `npm start`: the local stack in the foreground. Prints the endpoints, the
 * emulator variables, the log directory and a curl example once ready;
 * Ctrl-C (SIGINT), SIGTERM or SIGHUP stops everything and exits 0 (a second
 * one kills at once), and so does the death of the parent (npm, a shell),
 * which may not pass its signal on.
 *
 *   node build/local/start.js [--port 8080] [--source DIR] [--run-dir DIR]
 *                             [--project ID] [--bucket NAME]
 */
import {parseArgs} from 'node:util';
import {stopAllGroups, watchParent} from './process-group.js';
import {parseOptionalIntegerInRange} from '../shared/dataset/integer.js';
import {PORT_BOUNDS, startLocalStack, type LocalStack} from './stack.js';

const USAGE = `usage: node build/local/start.js [options]
  --port N        public port of the functions (default: env PORT, else 8080)
  --source DIR    functions source for functions-framework (default: the repository)
  --run-dir DIR   logs, emulator data and keys (default: a new temp dir)
  --project ID    GOOGLE_CLOUD_PROJECT (default: env, else exploration-data-local)
  --bucket NAME   DATASETS_BUCKET (default: env, else <project>-datasets)`;

function parsePort(value: string | undefined): number | undefined {
  return parseOptionalIntegerInRange(value, '--port', PORT_BOUNDS, {
    error: message => new RangeError(message),
  });
}

function banner(stack: LocalStack): string {
  const lines = [
    `exploration-data local stack ready in ${(stack.startupMs / 1000).toFixed(1)} s`,
    '',
    'functions:',
    ...Object.entries(stack.endpoints).map(
      ([name, url]) => `  ${name.padEnd(22)} ${url}`,
    ),
    '',
    'emulators (export these to use them from another shell):',
    ...Object.entries(stack.env).map(([k, v]) => `  export ${k}=${v}`),
    '',
    `logs: ${stack.runDir.logs}`,
    '',
    'try:',
    `  curl -sS -X POST ${stack.url}/generateDataset -H 'content-type: application/json' -d '{"nSamples": 100000}'`,
    `  curl -sS '${stack.url}/loadParquet?version=latest'`,
    `  curl -sS '${stack.url}/listDatasets'`,
    '',
    'Ctrl-C stops everything.',
  ];
  return lines.join('\n');
}

async function main(): Promise<number> {
  const {values} = parseArgs({
    options: {
      port: {type: 'string'},
      source: {type: 'string'},
      'run-dir': {type: 'string'},
      project: {type: 'string'},
      bucket: {type: 'string'},
      help: {type: 'boolean', short: 'h'},
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  let stack: LocalStack | undefined;
  let signalled = false;
  let resolveSignal: () => void = () => {};
  const signalled$ = new Promise<void>(resolve => (resolveSignal = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      console.error(`\n${signal} again: killing everything now`);
      process.exit(130); // the exit hook SIGKILLs what is left
    }
    signalled = true;
    console.error(`\n${signal}: stopping the local stack...`);
    // The terminal may be gone (SIGHUP, parent died): never fail on writing.
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    resolveSignal();
    // Still starting: stop the processes; startLocalStack then fails and cleans up the rest.
    if (!stack) void stopAllGroups();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  watchParent(() => onSignal('SIGHUP'));

  try {
    stack = await startLocalStack({
      port: parsePort(values.port),
      sourceDir: values.source,
      runDir: values['run-dir'],
      projectId: values.project,
      bucket: values.bucket,
      log: line => console.error(`[local-stack] ${line}`),
    });
  } catch (err) {
    if (signalled) {
      console.error('stopped before the stack was ready');
      return 0;
    }
    console.error(`[local-stack] could not start: ${(err as Error).message}`);
    // A bad --port or PORT (RangeError) is bad input: exit 2, as the CLI's.
    return err instanceof RangeError ? 2 : 1;
  }
  if (signalled) {
    await stack.stop();
    return 0;
  }
  console.log(banner(stack));
  await signalled$;
  await stack.stop();
  const {stats} = stack.bridge;
  const shards = stack.shardBridge.stats;
  console.error(
    `stopped (storage events delivered ${stats.delivered}, dropped ${stats.dropped}; ` +
      `shard messages delivered ${shards.delivered}, dropped ${shards.dropped}); logs kept in ${stack.runDir.logs}`,
  );
  return 0;
}

main().then(
  code => process.exit(code),
  err => {
    console.error(err);
    process.exit(1);
  },
);
