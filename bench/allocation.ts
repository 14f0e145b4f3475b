/**
 * Version allocation under concurrency, on the real Firestore emulator:
 * the old locked counter document against creating `v{N}` with a
 * does-not-exist precondition (dense: always the next number; spread: a
 * window above the newest that doubles per collision). Prints one line per
 * (strategy, concurrency) and a JSON summary; asserts nothing.
 *
 *   node build/bench/allocation.js [--concurrency 1,10,30,100] [--rounds 3]
 *     [--only counter-transaction,create-dense,create-spread,...]
 *
 * Starts its own emulator (logs under a temporary run directory) and stops
 * it before exiting. Results and the choice: docs/catalogue.md.
 */
import {Firestore} from '@google-cloud/firestore';
import {mkdir, mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {freePort} from '../local/ports.js';
import {startGcloudEmulator} from '../local/gcloud-emulator.js';
import {FirestoreCatalog} from '../shared/catalog/firestore-catalog.js';
import {resolveConfig} from '../shared/dataset/config.js';

const PROJECT = 'allocation-bench';

type Outcome =
  | {ok: true; version: number; ms: number}
  | {ok: false; error: string; ms: number};

interface Strategy {
  name: string;
  allocate(firestore: Firestore, collection: string): Promise<number>;
}

/** The allocation this project had before: one counter document in a transaction. */
async function counterAllocate(
  firestore: Firestore,
  collection: string,
): Promise<number> {
  const counter = firestore
    .collection(`${collection}-counters`)
    .doc('versions');
  return firestore.runTransaction(async tx => {
    const snapshot = await tx.get(counter);
    const last = (snapshot.data()?.lastVersion as number | undefined) ?? 0;
    const version = last + 1;
    tx.set(counter, {lastVersion: version}, {merge: true});
    tx.create(firestore.collection(collection).doc(`v${version}`), {
      version,
      status: 'generating',
    });
    return version;
  });
}

const config = resolveConfig({nSamples: 1000, seed: 1});
let collisions = 0;

/** The floor: one create of a document nobody else creates (no collision possible). */
async function uniqueCreate(
  firestore: Firestore,
  collection: string,
): Promise<number> {
  const version = 1 + Math.floor(Math.random() * 1e12);
  await firestore
    .collection(collection)
    .doc(`v${version}`)
    .create({version, status: 'generating'});
  return version;
}

function catalogStrategy(
  name: string,
  spread: boolean,
  requery = true,
  firstSpread = 2,
  maxSpread = 64,
  spreadInFlight = false,
): Strategy {
  // One catalogue per collection, shared by the concurrent calls, as in one process.
  const catalogs = new Map<string, FirestoreCatalog>();
  return {
    name,
    async allocate(firestore, collection) {
      let catalog = catalogs.get(collection);
      if (!catalog) {
        catalog = new FirestoreCatalog(firestore, collection, {
          spread,
          requery,
          firstSpread,
          maxSpread,
          spreadInFlight,
          onCollision: () => collisions++,
          // the measurement wants each strategy's own limit, not our budget
          maxAttempts: spread ? 12 : 1000,
          budgetMs: spread ? 60_000 : 600_000,
        });
        catalogs.set(collection, catalog);
      }
      const record = await catalog.allocate({
        config,
        now: new Date(),
        leaseMs: 600_000,
      });
      return record.version;
    },
  };
}

const ALL_STRATEGIES: Strategy[] = [
  {name: 'counter-transaction', allocate: counterAllocate},
  catalogStrategy('create-dense', false),
  catalogStrategy('create-spread-2-64-requery', true, true, 2, 64),
  catalogStrategy('create-spread-2-64', true, false, 2, 64),
  catalogStrategy('create-spread-16-512-requery', true, true, 16, 512),
  catalogStrategy('create-spread-16-512', true, false, 16, 512),
  // the one the service uses (ALLOCATION_DEFAULTS)
  catalogStrategy('create-spread-16-512-inflight', true, false, 16, 512, true),
  catalogStrategy('create-spread-32-1024', true, false, 32, 1024),
  {name: 'floor-unique-create', allocate: uniqueCreate},
  {
    name: 'floor-hint-query',
    allocate: (firestore, collection) =>
      new FirestoreCatalog(firestore, collection).highestVersion(),
  },
];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
}

async function runOnce(
  firestore: Firestore,
  strategy: Strategy,
  collection: string,
  concurrency: number,
): Promise<Outcome[]> {
  return Promise.all(
    Array.from({length: concurrency}, async (): Promise<Outcome> => {
      const started = performance.now();
      try {
        const version = await strategy.allocate(firestore, collection);
        return {ok: true, version, ms: performance.now() - started};
      } catch (error) {
        const message =
          error instanceof Error
            ? `${error.name}: ${error.message}`
            : String(error);
        return {
          ok: false,
          error: message.slice(0, 80),
          ms: performance.now() - started,
        };
      }
    }),
  );
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      concurrency: {type: 'string', default: '1,10,30,100'},
      rounds: {type: 'string', default: '3'},
      only: {type: 'string'},
    },
  });
  const only = values.only?.split(',');
  const STRATEGIES = ALL_STRATEGIES.filter(s => !only || only.includes(s.name));
  const levels = values.concurrency.split(',').map(Number);
  const rounds = Number(values.rounds);
  const runDir = await mkdtemp(join(tmpdir(), 'allocation-bench-'));
  await mkdir(join(runDir, 'logs'), {recursive: true});
  const emulator = await startGcloudEmulator({
    kind: 'firestore',
    port: await freePort(),
    projectId: PROJECT,
    runDir,
    timeoutMs: 90_000,
  });
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
  const firestore = new Firestore({
    projectId: PROJECT,
    ignoreUndefinedProperties: true,
  });
  const summary: unknown[] = [];
  try {
    let run = 0;
    for (const strategy of STRATEGIES) {
      for (const concurrency of levels) {
        const outcomes: Outcome[] = [];
        let gaps = 0;
        let duplicates = 0;
        collisions = 0;
        for (let round = 0; round < rounds; round++) {
          const collection = `bench-${run++}`;
          // one allocation first, so every round starts from a warm collection
          await strategy.allocate(firestore, collection);
          const these = await runOnce(
            firestore,
            strategy,
            collection,
            concurrency,
          );
          outcomes.push(...these);
          const versions = these.flatMap(o => (o.ok ? [o.version] : []));
          duplicates += versions.length - new Set(versions).size;
          if (versions.length > 0 && !strategy.name.startsWith('floor-'))
            gaps += Math.max(...versions) - 1 - versions.length;
        }
        const ms = outcomes
          .filter(o => o.ok)
          .map(o => o.ms)
          .sort((a, b) => a - b);
        const errors = new Map<string, number>();
        for (const o of outcomes)
          if (!o.ok) errors.set(o.error, (errors.get(o.error) ?? 0) + 1);
        const row = {
          strategy: strategy.name,
          concurrency,
          rounds,
          ok: ms.length,
          failed: outcomes.length - ms.length,
          duplicates,
          gaps,
          collisions,
          p50: Math.round(percentile(ms, 50)),
          p99: Math.round(percentile(ms, 99)),
          max: Math.round(ms[ms.length - 1] ?? NaN),
          errors: Object.fromEntries(errors),
        };
        summary.push(row);
        console.log(
          `${row.strategy.padEnd(20)} c=${String(concurrency).padStart(3)} ok ${row.ok}/${outcomes.length} dup ${duplicates} gaps ${gaps} collisions ${collisions} p50 ${row.p50} ms p99 ${row.p99} ms max ${row.max} ms ${[...errors].map(([e, n]) => `${n}x ${e}`).join('; ')}`,
        );
      }
    }
  } finally {
    await firestore.terminate().catch(() => undefined);
    await emulator.process.stop();
    await rm(runDir, {recursive: true, force: true});
  }
  console.log(JSON.stringify(summary));
}

main().catch(error => {
  console.error(error);
  process.exitCode = 1;
});
