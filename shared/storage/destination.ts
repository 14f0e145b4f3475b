/**
 * Where the files of one version go: a folder (directory-destination.ts), a
 * bucket (object-store.ts), memory in tests.
 */
import type {DatasetFileKind} from '../dataset/object-names.js';
import type {ByteSink} from './sinks/sink.js';

export interface DatasetDestination {
  /** A sink for a new object or file; it must not overwrite an existing one. */
  open(kind: DatasetFileKind, name: string): Promise<ByteSink>;
}
