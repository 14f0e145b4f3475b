/**
 * The local stack's signing identity: an RSA 2048 key pair made at start-up
 * and written into the run directory (mode 0600) as a service-account style
 * credentials file. The functions get GOOGLE_APPLICATION_CREDENTIALS
 * pointing at it, so @google-cloud/storage's `file.getSignedUrl({version:
 * 'v4', ...})` signs locally with this key: the code path that, in the
 * cloud, signs through IAM signBlob with the function's service account.
 *
 * With STORAGE_EMULATOR_HOST set, the Storage client sends no OAuth token
 * (custom endpoint, `useAuthWithCustomEndpoint` unset), and signing with a
 * key file needs none either: nothing here reaches the network. The
 * `token_uri` names a closed local port so that any attempt would fail
 * at once instead of reaching out. Keys never leave the run directory.
 */
import {generateKeyPairSync, randomBytes, randomInt} from 'node:crypto';
import {mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

export interface SigningKey {
  /** GOOGLE_APPLICATION_CREDENTIALS: the service-account JSON file. */
  credentialsFile: string;
  /** The public key, PEM (SPKI), to verify signatures with. */
  publicKeyFile: string;
  publicKeyPem: string;
  clientEmail: string;
  privateKeyId: string;
  /** Deletes both files. */
  remove(): void;
}

/** A random decimal id of `digits` digits, like a service account's client_id. */
function numericId(digits: number): string {
  let id = String(randomInt(1, 10));
  while (id.length < digits) id += String(randomInt(0, 10));
  return id;
}

/** A closed port on the loopback interface (TCP port 1 is unassigned in practice). */
const NO_TOKEN_ENDPOINT = 'http://127.0.0.1:1/token';

export function createSigningKey(dir: string, projectId: string): SigningKey {
  mkdirSync(dir, {recursive: true, mode: 0o700});
  const {publicKey, privateKey} = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: {type: 'spki', format: 'pem'},
    privateKeyEncoding: {type: 'pkcs8', format: 'pem'},
  });
  const clientEmail = `local-signer@${projectId}.iam.gserviceaccount.com`;
  const privateKeyId = randomBytes(20).toString('hex');
  const credentials = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKey,
    client_email: clientEmail,
    client_id: numericId(21),
    auth_uri: NO_TOKEN_ENDPOINT,
    token_uri: NO_TOKEN_ENDPOINT,
    universe_domain: 'googleapis.com',
  };
  const credentialsFile = join(dir, 'local-signer-credentials.json');
  const publicKeyFile = join(dir, 'local-signer-public.pem');
  writeFileSync(credentialsFile, JSON.stringify(credentials, null, 2) + '\n', {
    mode: 0o600,
  });
  writeFileSync(publicKeyFile, publicKey, {mode: 0o600});
  return {
    credentialsFile,
    publicKeyFile,
    publicKeyPem: publicKey,
    clientEmail,
    privateKeyId,
    remove() {
      rmSync(credentialsFile, {force: true});
      rmSync(publicKeyFile, {force: true});
    },
  };
}
