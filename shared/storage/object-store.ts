/**
 * What the services need of the datasets bucket, apart from where it lives:
 * Cloud Storage in the cloud and on fake-gcs-server (gcs-object-store.ts),
 * memory in unit tests (test/support/memory-object-store.ts).
 *
 * Objects are immutable (docs/design.md §3): `open` creates an object only if no
 * object has the name, and a sink's abort removes only the generation that
 * sink itself created, never an object another request made.
 */
import type {DatasetDestination} from './destination.js';
import type {DatasetFileKind} from '../dataset/object-names.js';
import type {ByteSink} from './sinks/sink.js';
import type {SignedUrl} from './signed-url.js';

export type {SignedUrl};

export interface StoredObject {
  name: string;
  /** decimal string, as Cloud Storage reports it */
  generation: string;
  size: number;
  /** base64, as Cloud Storage reports them */
  crc32c?: string;
  md5?: string;
}

export interface ObjectStore extends DatasetDestination {
  readonly bucketName: string;
  /**
   * The bytes of `name` (at `generation` when given), or undefined when that
   * object or generation does not exist.
   */
  read(name: string, generation?: string): Promise<Buffer | undefined>;
  /**
   * The bytes of `name` at `generation`, streamed; iterating throws
   * ObjectGoneError when that generation does not exist.
   */
  readChunks(name: string, generation: string): AsyncIterable<Uint8Array>;
  /** The live object's size and checksums, or undefined when there is none. */
  stat(name: string): Promise<StoredObject | undefined>;
  /**
   * A sink for a new object: it fails with AlreadyExistsError when `name`
   * exists, and its abort deletes only the generation it created.
   */
  open(kind: DatasetFileKind, name: string): Promise<ByteSink>;
  /** Deletes `name` only if its live generation is `generation`. */
  deleteGeneration(name: string, generation: string): Promise<void>;
  /** A V4 signed read URL valid for `ttlSeconds` from `now` (whole seconds). */
  signReadUrl(name: string, ttlSeconds: number, now: Date): Promise<SignedUrl>;
}

export function gsUri(bucket: string, name: string): string {
  return `gs://${bucket}/${name}`;
}
