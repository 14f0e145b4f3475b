/**
 * 100 concurrent POST /generateDataset of 1,000 rows through the local stack
 * (real emulators): every answer is a 201 (or a JSON 503 with Retry-After),
 * never a 500; the versions are distinct; every 201's version ends ready.
 * Prints p50/p99 latency of the answers.
 */
import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';
import {
  call,
  postJson,
  startTestStack,
  type JsonResponse,
  type TestStack,
} from '../support/stack.js';

const REQUESTS = 100;

let t: TestStack;
before(async () => {
  t = await startTestStack();
});
after(async () => {
  await t?.stop();
});

function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  ];
}

describe(`${REQUESTS} concurrent generates`, {timeout: 15 * 60_000}, () => {
  it('all get distinct versions (or a JSON 503 with Retry-After), none a 500, and every version ends ready', async () => {
    const timed = await Promise.all(
      Array.from({length: REQUESTS}, async (_, i) => {
        const started = performance.now();
        const response = await postJson(`${t.url}/generateDataset`, {
          nSamples: 1000,
          seed: 1000 + i,
          formats: ['parquet', 'tfrecord'],
        });
        return {response, ms: performance.now() - started};
      }),
    );
    const statuses = new Map<number, number>();
    for (const {response} of timed)
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    const created = timed.filter(r => r.response.status === 201);
    const unavailable = timed.filter(r => r.response.status === 503);
    const ms = created.map(r => r.ms).sort((a, b) => a - b);
    console.log(
      `concurrency: ${created.length}/${REQUESTS} answered 201, ${unavailable.length} answered 503; ` +
        `201 latency p50 ${Math.round(percentile(ms, 50))} ms p99 ${Math.round(percentile(ms, 99))} ms max ${Math.round(ms[ms.length - 1])} ms; ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    const errors = new Map<string, number>();
    for (const {response} of timed) {
      if (response.status === 201) continue;
      const key = `${response.status} ${response.text.slice(0, 200)}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    for (const [key, n] of errors) console.log(`concurrency: ${n} x ${key}`);
    assert.equal(
      created.length + unavailable.length,
      REQUESTS,
      JSON.stringify(Object.fromEntries(statuses)),
    );
    for (const {response} of unavailable) {
      assert.ok(Number(response.headers.get('retry-after')) >= 1);
      assert.equal(
        (response.body as {error: {code: string}}).error.code,
        'UNAVAILABLE',
      );
    }
    // At least most must get through: a service answering 503 to all would fail here.
    assert.ok(
      created.length >= REQUESTS * 0.9,
      `only ${created.length} answered 201`,
    );
    const versions = created.map(
      r => (r.response.body as {version: number}).version,
    );
    assert.equal(
      new Set(versions).size,
      versions.length,
      'versions are distinct',
    );
    for (const v of versions) assert.ok(Number.isSafeInteger(v) && v >= 1);

    // Every created version is recorded ready by the storage trigger.
    const deadline = Date.now() + 5 * 60_000;
    const pending = new Set(versions);
    while (pending.size > 0 && Date.now() < deadline) {
      const checks: Array<[number, JsonResponse]> = await Promise.all(
        [...pending].map(
          async v =>
            [v, await call(`${t.url}/loadMetadata?version=${v}`)] as [
              number,
              JsonResponse,
            ],
        ),
      );
      for (const [v, response] of checks) {
        if (response.status === 200) pending.delete(v);
        else assert.equal(response.status, 409, `v${v}: ${response.text}`);
      }
      if (pending.size > 0)
        await new Promise(resolve => setTimeout(resolve, 500));
    }
    assert.deepEqual([...pending], [], 'every version ends ready');
    const snapshot = await t.firestore.collection('datasets').get();
    const statusOf = new Map(
      snapshot.docs.map(d => [
        d.data().version as number,
        d.data().status as string,
      ]),
    );
    for (const v of versions) assert.equal(statusOf.get(v), 'ready');
    const latest = await call<{version: number}>(
      `${t.url}/loadParquet?version=latest`,
    );
    assert.equal(latest.body.version, Math.max(...versions));
  });
});
