/**
 * A local folder as a dataset destination (the CLI's `--out DIR`). Files are
 * written under temporary names and renamed into place when complete.
 */
import {access, mkdir} from 'node:fs/promises';
import {join} from 'node:path';
import {AlreadyExistsError} from '../errors.js';
import type {DatasetDestination} from './destination.js';
import type {DatasetFileKind} from '../dataset/object-names.js';
import {FileSink} from './sinks/file-sink.js';
import type {ByteSink} from './sinks/sink.js';

export class DirectoryDestination implements DatasetDestination {
  constructor(readonly directory: string) {}

  /** Fails, before anything is written, if any of `names` already exists. */
  async prepare(names: string[]): Promise<void> {
    await mkdir(this.directory, {recursive: true});
    for (const name of names) {
      const path = join(this.directory, name);
      const exists = await access(path).then(
        () => true,
        () => false,
      );
      if (exists) {
        throw new AlreadyExistsError(
          `${path} already exists; datasets are never overwritten (choose another --dataset-version or --out)`,
        );
      }
    }
  }

  async open(_kind: DatasetFileKind, name: string): Promise<ByteSink> {
    return FileSink.create(join(this.directory, name));
  }
}
