/** Where things are: the repository, the tool cache, a run directory. */
import {existsSync, mkdirSync, mkdtempSync, readFileSync} from 'node:fs';
import {homedir, tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const PACKAGE_NAME = 'exploration-data';

/** The repository root: the nearest ancestor of this module with our package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === PACKAGE_NAME)
          return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        `no ${PACKAGE_NAME} package.json above ${fileURLToPath(import.meta.url)}`,
      );
    dir = parent;
  }
}

/** ${EXPLORATION_DATA_CACHE:-$HOME/.cache/exploration-data}, as in scripts/. */
export function cacheDir(): string {
  return (
    process.env.EXPLORATION_DATA_CACHE ||
    join(homedir(), '.cache', PACKAGE_NAME)
  );
}

export interface RunDir {
  root: string;
  logs: string;
  data: string;
  /** True when made here (a fresh temp dir), false when given by the caller. */
  created: boolean;
}

/** The run's directory with logs/ and data/; a new temp dir unless one is given. */
export function makeRunDir(given?: string): RunDir {
  const root = given
    ? resolve(given)
    : mkdtempSync(join(tmpdir(), `${PACKAGE_NAME}-local-`));
  const logs = join(root, 'logs');
  const data = join(root, 'data');
  mkdirSync(logs, {recursive: true, mode: 0o700});
  mkdirSync(data, {recursive: true, mode: 0o700});
  return {root, logs, data, created: !given};
}
