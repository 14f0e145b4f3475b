/**
 * V4 signed download URLs. The Storage client signs with whatever identity it
 * has: in the cloud the function's service account through IAM signBlob (no
 * key file), locally the key pair the local stack made at start-up.
 */
import type {Bucket} from '@google-cloud/storage';
import {parseIntegerInRange} from '../dataset/integer.js';

export interface SignedUrl {
  url: string;
  expiresAt: string;
}

/** The TTL asked for (or the default), refused past the cap. */
export function resolveTtl(
  raw: string | undefined,
  defaultSeconds: number,
  maxSeconds: number,
): number {
  if (raw === undefined) return Math.min(defaultSeconds, maxSeconds);
  return parseIntegerInRange(raw, 'ttlSeconds', {min: 1, max: maxSeconds});
}

export async function signedReadUrl(
  bucket: Bucket,
  name: string,
  ttlSeconds: number,
  now: Date,
): Promise<SignedUrl> {
  // Whole seconds, so expiresAt is exactly what the signature says.
  const expires = Math.floor(now.getTime() / 1000) * 1000 + ttlSeconds * 1000;
  const [url] = await bucket
    .file(name)
    .getSignedUrl({version: 'v4', action: 'read', expires});
  return {url, expiresAt: new Date(expires).toISOString()};
}
