/**
 * Where encoded bytes go. Encoders know nothing of files, memory or Cloud
 * Storage; they hand chunks to a sink. Chunks are written in the order
 * `write` is called, and several writes may be pending at once.
 */
import type {ObjectDigests} from '../../digest/digests.js';

export interface ByteSink {
  /**
   * Resolves when the sink is done with `chunk` (written, or copied): only
   * then may the caller reuse its memory.
   */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Everything written and made durable; the destination is complete. A sink
   * that can check what arrived (an upload) compares it with `expected`.
   */
  close(expected?: ObjectDigests): Promise<void>;
  /**
   * After close, for a sink whose store computes an object's MD5 itself
   * (Cloud Storage's md5Hash): that MD5, base64. The metadata records it
   * (docs/design.md §4); undefined means the store reported none.
   */
  storedMd5?(): string | undefined;
  /** Give up: release resources and remove what was written, even after close. */
  abort(reason: unknown): Promise<void>;
}
