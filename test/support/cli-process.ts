/** The built CLI run as a child process, as a user runs it, for the CLI's unit tests. */
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export function runCli(...args: string[]): {
  code: number | null;
  stdout: string;
  stderr: string;
} {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: {...process.env, MAX_SAMPLES: ''},
  });
  return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}
