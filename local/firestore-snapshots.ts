/**
 * The Firestore emulator's data kept in the run directory, beside the
 * bucket, so that a restarted stack (or a restarted emulator) finds its
 * catalogue again: the emulator keeps everything in memory, so the stack
 * exports it through the emulator's REST endpoint
 * (`POST /emulator/v1/projects/P:export`) every `intervalMs` and once more
 * at stop, and starts the emulator with `--import-data` of the newest
 * export. gcloud's own `--export-on-exit` does not work for this (see
 * docs/local-stack.md): the emulator it ships exports only when shut down
 * through its /shutdown endpoint, and then fails ("Database name
 * projects/P/databases/ has invalid trailing /").
 *
 * Layout under `dir` (`<run>/data/firestore`):
 *   snapshot-<ms>/firestore_export_<n>/firestore_export_<n>.overall_export_metadata
 *   current   the metadata file of the newest complete export (relative), replaced atomically
 *
 * An export that is identical to the current one is dropped, so an idle
 * stack writes nothing.
 */
import {createHash} from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import {join, relative} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {LocalStackError} from './errors.js';

export interface Snapshot {
  /** The `.overall_export_metadata` file, for --import-data. */
  metadataFile: string;
  /** When the export was asked for: every write acknowledged before is in it. */
  takenAt: Date;
}

export class FirestoreSnapshots {
  private timer: Promise<void> | undefined;
  private running = false;
  private paused = false;
  private lastError = '';
  private latestTakenAt: Date | undefined;
  /** Exports asked for (identical ones included), for tests and logs. */
  exports = 0;

  constructor(
    readonly dir: string,
    private readonly projectId: string,
    private readonly log: (line: string) => void = () => {},
  ) {
    mkdirSync(dir, {recursive: true, mode: 0o700});
  }

  /** The newest complete export, if any. */
  current(): string | undefined {
    const pointer = join(this.dir, 'current');
    if (!existsSync(pointer)) return undefined;
    const file = join(this.dir, readFileSync(pointer, 'utf8').trim());
    return existsSync(file) ? file : undefined;
  }

  /** When the newest export (kept or identical) was asked for, in this process. */
  takenAt(): Date | undefined {
    return this.latestTakenAt;
  }

  /** Exports the emulator at `host` now; resolves once the export is current. */
  async take(host: string): Promise<Snapshot> {
    const takenAt = new Date();
    const target = join(this.dir, `snapshot-${takenAt.getTime()}`);
    mkdirSync(target, {recursive: true});
    try {
      const res = await fetch(
        `http://${host}/emulator/v1/projects/${encodeURIComponent(this.projectId)}:export`,
        {
          method: 'POST',
          headers: {'content-type': 'application/json'},
          body: JSON.stringify({
            database: `projects/${this.projectId}/databases/(default)`,
            export_directory: target,
          }),
          signal: AbortSignal.timeout(30_000),
        },
      );
      const text = await res.text();
      if (!res.ok) {
        throw new LocalStackError(
          `Firestore emulator export answered ${res.status}: ${text.slice(0, 300)}`,
        );
      }
      this.exports++;
      const metadataFile = findMetadataFile(target);
      const previous = this.current();
      if (previous && sameExport(previous, metadataFile)) {
        rmSync(target, {recursive: true, force: true});
        this.latestTakenAt = takenAt;
        return {metadataFile: previous, takenAt};
      }
      const pointer = join(this.dir, 'current');
      writeFileSync(`${pointer}.tmp`, relative(this.dir, metadataFile));
      renameSync(`${pointer}.tmp`, pointer);
      this.latestTakenAt = takenAt;
      this.removeAllBut(target);
      return {metadataFile, takenAt};
    } catch (err) {
      rmSync(target, {recursive: true, force: true});
      throw err;
    }
  }

  /** Exports every `intervalMs` until stopped; failures are logged (once per kind), not thrown. */
  start(host: () => string, intervalMs: number): void {
    if (this.running) return;
    this.running = true;
    this.timer = (async () => {
      while (this.running) {
        await sleep(intervalMs);
        if (!this.running || this.paused) continue;
        try {
          await this.take(host());
          this.lastError = '';
        } catch (err) {
          const message = (err as Error).message;
          if (message !== this.lastError) {
            this.log(`firestore snapshot failed: ${message}`);
          }
          this.lastError = message;
        }
      }
    })();
  }

  /** While the emulator is restarting. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /** Stops the periodic exports (waits for one in progress). */
  async stop(): Promise<void> {
    this.running = false;
    await this.timer;
  }

  private removeAllBut(keep: string): void {
    for (const entry of readdirSync(this.dir)) {
      const path = join(this.dir, entry);
      if (entry.startsWith('snapshot-') && path !== keep) {
        rmSync(path, {recursive: true, force: true});
      }
    }
  }
}

function findMetadataFile(dir: string): string {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry.endsWith('.overall_export_metadata')) return path;
    if (statSync(path).isDirectory()) {
      try {
        return findMetadataFile(path);
      } catch {
        // not in this one
      }
    }
  }
  throw new LocalStackError(`no .overall_export_metadata under ${dir}`);
}

/** The data files of an export (its name aside), hashed. */
function exportDigest(metadataFile: string): string {
  const root = join(metadataFile, '..');
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (!entry.endsWith('.overall_export_metadata')) {
        hash.update(relative(root, path)).update(readFileSync(path));
      }
    }
  };
  walk(root);
  return hash.digest('hex');
}

function sameExport(a: string, b: string): boolean {
  try {
    return exportDigest(a) === exportDigest(b);
  } catch {
    return false;
  }
}
