/**
 * Fault injection against the real local stack (issue 10, items 3 and 7):
 * the storage emulator killed mid-upload, the Firestore emulator killed
 * mid-generate, the generateDataset process killed mid-generate, and the
 * whole stack restarted on its run directory. After each:
 *
 * - the stack brought the killed process back by itself (bounded time);
 * - the version that was being generated ends `ready` or `failed` within a
 *   bound (its lease, then a reader records it failed), never stuck;
 * - no object that existed before the fault changed (sha256 of each);
 * - `latest` is a ready version;
 * - the next generate succeeds, with nothing done by hand.
 *
 * Only process groups this test's stack started are killed (SIGKILL to the
 * group, as a crash), one per test; everything listens on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {after, before, describe, it, type TestContext} from 'node:test';
import {
  EMULATOR_CHILDREN,
  startedGroups,
  type RestartEvent,
} from '../../local/index.js';
import {
  call,
  postJson,
  startTestStack,
  waitReady,
  type JsonResponse,
  type TestStack,
} from '../support/stack.js';

/**
 * generateDataset's timeout and the lease margin, from which the catalogue
 * derives a version's lease (shared/settings.ts: GENERATE_TIMEOUT_SECONDS +
 * GENERATE_LEASE_MARGIN_SECONDS): short here, so a version whose generator
 * died is failed within seconds.
 */
const FUNCTION_ENV = {
  GENERATE_TIMEOUT_SECONDS: '1',
  GENERATE_LEASE_MARGIN_SECONDS: '60',
};
/** Long enough that a healthy 4M-row generate on a loaded 2-core machine ends inside it. */
const LEASE_MS = (1 + 60) * 1000;
/**
 * Large enough that the upload still runs half a second after allocation on
 * a quiet machine (a ~480 MB TFRecord; 2M rows were done before the fault).
 */
const BIG_ROWS = 4_000_000;
/** Bound for a faulted version to end ready or failed: its lease, plus polling. */
const SETTLE_MS = LEASE_MS + 45_000;
/** Bound for the stack to bring a killed process back. */
const RESTART_MS = 60_000;
/** Bound for the faulted generate to answer at all: an answer, never a hang. */
const ANSWER_MS = 3 * 60_000;

const COLLECTION = 'datasets';

let runDir: string;
let t: TestStack;

async function sha256Of(name: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of t.bucket.file(name).createReadStream({
    validation: false,
  })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/** Every object in the bucket and its sha256. */
async function objectDigests(): Promise<Map<string, string>> {
  const [files] = await t.bucket.getFiles();
  const digests = new Map<string, string>();
  for (const file of files) digests.set(file.name, await sha256Of(file.name));
  return digests;
}

/** Each object that existed before is still there with the same bytes. */
async function assertUnchanged(before: Map<string, string>): Promise<void> {
  const after = await objectDigests();
  for (const [name, digest] of before) {
    assert.equal(after.get(name), digest, `${name} changed or vanished`);
  }
}

interface VersionDoc {
  version: number;
  status: string;
  createdAt: string;
  error?: string;
}

async function versionDoc(version: number): Promise<VersionDoc | undefined> {
  const snapshot = await t.firestore
    .collection(COLLECTION)
    .doc(`v${version}`)
    .get();
  return snapshot.data() as VersionDoc | undefined;
}

async function allDocs(): Promise<Map<number, string>> {
  const snapshot = await t.firestore.collection(COLLECTION).get();
  return new Map(
    snapshot.docs.map(d => {
      const data = d.data() as VersionDoc;
      return [data.version, data.status];
    }),
  );
}

/** The version allocated for the generate with this (unique) seed. */
async function allocatedVersion(seed: number): Promise<VersionDoc> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const snapshot = await t.firestore
      .collection(COLLECTION)
      .where('config.seed', '==', seed)
      .get();
    if (snapshot.size > 0) return snapshot.docs[0].data() as VersionDoc;
    if (Date.now() > deadline) {
      throw new Error(`no version allocated for seed ${seed} within 60 s`);
    }
    await sleep(100);
  }
}

/**
 * Waits until the version is `ready` or `failed`, asking a reader
 * (loadMetadata) each time: a version past its lease is recorded failed by
 * the readers.
 */
async function settle(
  version: number,
): Promise<{status: string; ms: number; error?: string}> {
  const started = Date.now();
  let status: string | undefined;
  for (;;) {
    await call(`${t.url}/loadMetadata?version=${version}`).catch(
      () => undefined,
    );
    const doc = await versionDoc(version).catch(() => undefined);
    status = doc?.status;
    if (status === 'ready' || status === 'failed') {
      return {status, ms: Date.now() - started, error: doc?.error};
    }
    if (Date.now() - started > SETTLE_MS) {
      assert.fail(
        `version ${version} is still ${status ?? 'missing'} ${SETTLE_MS / 1000} s after the fault (lease ${LEASE_MS / 1000} s)`,
      );
    }
    await sleep(1_000);
  }
}

async function assertLatestReady(): Promise<number> {
  const response = await call<{version: number}>(
    `${t.url}/loadMetadata?version=latest`,
  );
  assert.equal(response.status, 200, response.text);
  const version = response.body.version;
  assert.equal((await versionDoc(version))?.status, 'ready');
  return version;
}

let nextSeed = 7_000;

/** A small generate right after the fault: 201, then ready. */
async function assertNextGenerateSucceeds(): Promise<number> {
  const response = await postJson(`${t.url}/generateDataset`, {
    nSamples: 1_000,
    seed: nextSeed++,
  });
  assert.equal(response.status, 201, response.text);
  const {version} = response.body as {version: number};
  await waitReady(t.url, version, 60_000);
  assert.equal((await versionDoc(version))?.status, 'ready');
  return version;
}

/** The generates started by startBigGenerate, by seed. */

const generates = new Map<number, BigGenerate>();
function pendingFor(seed: number): BigGenerate {
  const generate = generates.get(seed);
  assert.ok(generate, `no generate with seed ${seed}`);
  return generate;
}

interface BigGenerate {
  seed: number;
  response: Promise<JsonResponse>;
  pending(): boolean;
}

function startBigGenerate(seed: number): BigGenerate {
  let done = false;
  const response = call(`${t.url}/generateDataset`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({nSamples: BIG_ROWS, seed}),
    signal: AbortSignal.timeout(ANSWER_MS),
  })
    .catch((err: Error): JsonResponse => ({
      status: 0,
      body: undefined,
      headers: new Headers(),
      text:
        err.name === 'TimeoutError'
          ? `TIMEOUT: no answer within ${ANSWER_MS / 1000} s`
          : `connection cut: ${err.message}`,
    }))
    .finally(() => (done = true));
  const generate = {seed, response, pending: () => !done};
  generates.set(seed, generate);
  return generate;
}

/** A version that failed answered with the JSON error of docs/design.md §5, not 201. */
function assertAnswerMatches(outcome: string, response: JsonResponse): void {
  if (outcome === 'ready' && response.status === 201) return;
  assert.notEqual(response.status, 201, 'a failed version was answered 201');
  if (response.status === 0) return; // the connection itself was cut
  const body = response.body as {error?: {code?: unknown; message?: unknown}};
  assert.equal(typeof body?.error?.code, 'string', response.text);
  assert.equal(typeof body?.error?.message, 'string', response.text);
}

/** SIGKILLs the child's whole process group; resolves when the stack has brought it back. */
async function killChild(name: string): Promise<RestartEvent> {
  const {supervisor} = t.stack;
  const pid = supervisor.child(name).process.pid;
  assert.ok(startedGroups().includes(pid), `${name} (${pid}) is not ours`);
  const restarted = new Promise<RestartEvent>((resolve, reject) => {
    const timer = setTimeout(() => {
      supervisor.off('restarted', onRestart);
      reject(new Error(`${name} was not restarted within ${RESTART_MS} ms`));
    }, RESTART_MS);
    const onRestart = (event: RestartEvent) => {
      if (event.name !== name) return;
      clearTimeout(timer);
      supervisor.off('restarted', onRestart);
      resolve(event);
    };
    supervisor.on('restarted', onRestart);
  });
  process.kill(-pid, 'SIGKILL');
  const event = await restarted;
  assert.equal(event.exit.signal, 'SIGKILL');
  assert.notEqual(supervisor.child(name).process.pid, pid);
  assert.equal(supervisor.child(name).state, 'running');
  await supervisor.settled();
  return event;
}

/** A generate in flight: allocated, uploading, then the fault. */
async function faultMidGenerate(
  ctx: TestContext,
  seed: number,
  inject: (allocated: VersionDoc) => Promise<RestartEvent>,
): Promise<void> {
  const before = await objectDigests();
  const generate = startBigGenerate(seed);
  const allocated = await allocatedVersion(seed);
  const restart = await inject(allocated);
  const response = await generate.response;
  assert.ok(
    !response.text.startsWith('TIMEOUT'),
    `v${allocated.version}: the generate hangs after ${restart.name} was killed: ${response.text}`,
  );
  ctx.diagnostic(
    `v${allocated.version}: ${restart.name} back in ${restart.ms} ms (port ${restart.port}${restart.moved ? ', moved' : ''}); ` +
      `generate answered ${response.status}`,
  );
  const outcome = await settle(allocated.version);
  ctx.diagnostic(
    `v${allocated.version}: ${outcome.status} ${outcome.ms} ms after the answer` +
      (outcome.error ? ` (${outcome.error.slice(0, 160)})` : ''),
  );
  assertAnswerMatches(outcome.status, response);
  await assertUnchanged(before);
  await assertLatestReady();
  await assertNextGenerateSucceeds();
}

/** Waits until the generate is uploading (allocated a while ago), then checks it still runs. */
async function midUpload(generate: () => boolean, allocated: VersionDoc) {
  const since = Date.parse(allocated.createdAt);
  await sleep(Math.max(0, since + 500 - Date.now()));
  assert.ok(
    generate(),
    `the ${BIG_ROWS}-row generate ended before the fault: raise BIG_ROWS`,
  );
}

describe('faults', {timeout: 20 * 60_000}, () => {
  before(async () => {
    runDir = mkdtempSync(join(tmpdir(), 'exploration-data-faults-'));
    t = await startTestStack(FUNCTION_ENV, {runDir});
    // One committed version before any fault.
    const first = await assertNextGenerateSucceeds();
    assert.equal(await assertLatestReady(), first);
  });

  after(async () => {
    await t?.stop();
    if (runDir) rmSync(runDir, {recursive: true, force: true});
  });

  it('storage emulator killed mid-upload', async ctx => {
    const seed = 9_101;
    await faultMidGenerate(ctx, seed, async allocated => {
      await midUpload(() => pendingFor(seed).pending(), allocated);
      return killChild(EMULATOR_CHILDREN.storage);
    });
  });

  it('Firestore emulator killed mid-generate', async ctx => {
    const seed = 9_102;
    await faultMidGenerate(ctx, seed, async allocated => {
      // The allocation was read back before this runs, so it is committed
      // now: an export asked for after this instant holds it. (Its createdAt
      // is the function's clock before the write, which an export can
      // straddle: a kill then lost the allocation.)
      const seenAt = Date.now();
      await midUpload(() => pendingFor(seed).pending(), allocated);
      // The catalogue is exported every second: kill once the allocation is in an export.
      const deadline = Date.now() + 10_000;
      while (
        (t.stack.emulators.snapshots.takenAt()?.getTime() ?? 0) <= seenAt
      ) {
        assert.ok(Date.now() < deadline, 'no Firestore export within 10 s');
        await sleep(100);
      }
      return killChild(EMULATOR_CHILDREN.firestore);
    });
  });

  it('generateDataset process killed mid-generate', async ctx => {
    const seed = 9_103;
    await faultMidGenerate(ctx, seed, async allocated => {
      await midUpload(() => pendingFor(seed).pending(), allocated);
      return killChild('function generateDataset');
    });
  });

  it('the stack restarted on its run directory keeps bucket and catalogue', async ctx => {
    const objects = await objectDigests();
    const docs = await allDocs();
    const latest = await assertLatestReady();
    const started = Date.now();
    await t.stop();
    t = await startTestStack(FUNCTION_ENV, {runDir});
    ctx.diagnostic(
      `restarted on ${runDir} in ${Date.now() - started} ms (start ${t.stack.startupMs} ms)`,
    );
    await assertUnchanged(objects);
    const docsAfter = await allDocs();
    for (const [version, status] of docs) {
      assert.equal(docsAfter.get(version), status, `v${version}`);
    }
    assert.equal(await assertLatestReady(), latest);
    const next = await assertNextGenerateSucceeds();
    assert.ok(
      next > Math.max(...docs.keys()),
      `v${next} was allocated again after a restart (had up to v${Math.max(...docs.keys())})`,
    );
    await assertUnchanged(objects);
  });
});
