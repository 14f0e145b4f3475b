/** The project's Python environment (scripts/python-env.sh), for interop tests. */
import {execFileSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let python: string | undefined;

/** Path of the venv's python, creating the venv on first use (cached). */
export function projectPython(): string {
  python ??= execFileSync('bash', [`${REPO_ROOT}scripts/python-env.sh`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop();
  if (!python) throw new Error('scripts/python-env.sh printed no python path');
  return python;
}

/** Runs a Python script of the repository and parses its JSON output. */
export function runPythonJson<T>(script: string, args: string[]): T {
  const out = execFileSync(
    projectPython(),
    [`${REPO_ROOT}${script}`, ...args],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        TF_CPP_MIN_LOG_LEVEL: '3',
        CUDA_VISIBLE_DEVICES: '',
      },
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return JSON.parse(out) as T;
}
