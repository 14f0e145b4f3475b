/**
 * generateShard killed mid fan-out (issue 16 §1), on the real emulators: a
 * 16-shard version with a short shard timeout (20 s), a duplicate, a forged
 * and a malformed message published to the shard topic just before, then
 * SIGKILL of the generateShard process group this test's stack started
 * while shards are in flight. The version must end `ready`, `fetch` and
 * `verify` must pass on it, and the shard bridge's log must show that only
 * the deliveries in flight failed, that each retry started when its log
 * line said, and that each was redelivered within the bound of
 * docs/sharding.md ("After a crash"): the restart plus the bridge's longest
 * backoff, well inside one shard timeout. First, on a bridge of its own
 * with one delivery at a time: a failed message keeps its place through its
 * backoff, ahead of the messages received meanwhile.
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it, type TestContext} from 'node:test';
import {setTimeout as sleep} from 'node:timers/promises';
import {
  deleteSubscription,
  ensureSubscription,
  ensureTopic,
  messagePublishedTransform,
  SHARD_BRIDGE_DEFAULTS,
  startedGroups,
  startEventBridge,
  type RestartEvent,
} from '../../local/index.js';
import {ApiClient, isGenerating} from '../../clients/typescript/index.js';
import {encodeShardMessage} from '../../shared/messaging/shard-messages.js';
import {REPO_ROOT} from '../support/python.js';
import {startTestStack, type TestStack} from '../support/stack.js';

const SHARD_TIMEOUT_S = 20;
const LEASE_MARGIN_S = 5;
const SHARDS = 16;
/** 4 blocks a shard: each takes a second or more, so shards are in flight at the kill. */
const ROWS = SHARDS * 4 * 65_536;
const GENERATE_SHARD = 'function generateShard';
/** The stack's functions are told this many run at once (SHARD_MAX_INSTANCES). */
const AT_ONCE = SHARD_BRIDGE_DEFAULTS.maxInFlight;
/** ceil(16 / 2) waves x 20 s x 2 + 5 s (shared/settings.ts shardedLeaseMsOf). */
const LEASE_MS =
  (Math.ceil(SHARDS / AT_ONCE) * SHARD_TIMEOUT_S * 2 + LEASE_MARGIN_S) * 1000;
/** Timer and event-loop lag allowed on a loaded 2-core machine. */
const SLACK_MS = 1_000;
const RESTART_MS = 60_000;

let t: TestStack;
let api: ApiClient;
let scratch: string;

before(async () => {
  t = await startTestStack({
    GENERATE_SHARD_TIMEOUT_SECONDS: String(SHARD_TIMEOUT_S),
    GENERATE_LEASE_MARGIN_SECONDS: String(LEASE_MARGIN_S),
  });
  api = new ApiClient({baseUrl: t.url, timeoutMs: 30_000});
  scratch = await mkdtemp(join(tmpdir(), 'exploration-shard-crash-'));
});
after(async () => {
  await t?.stop();
  if (scratch) await rm(scratch, {recursive: true, force: true});
});

/** A line of shard-bridge.log about one attempt. */
interface AttemptLine {
  at: number;
  what: string;
  attempt: number;
  tookMs: number;
  ok: boolean;
  text: string;
}

const ATTEMPT_LINE =
  /^(\S+) event bridge: (?:delivered (.+) \(attempt (\d+), took (\d+) ms|(.+) attempt (\d+) failed \(took (\d+) ms)/;

async function attemptLines(): Promise<AttemptLine[]> {
  const text = await readFile(
    join(t.stack.runDir.logs, 'shard-bridge.log'),
    'utf8',
  );
  return text.split('\n').flatMap(line => {
    const m = ATTEMPT_LINE.exec(line);
    if (!m) return [];
    const ok = m[2] !== undefined;
    return [
      {
        at: Date.parse(m[1]),
        what: ok ? m[2] : m[5],
        attempt: Number(ok ? m[3] : m[6]),
        tookMs: Number(ok ? m[4] : m[7]),
        ok,
        text: line,
      },
    ];
  });
}

async function until(what: string, ok: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A script as a child, asynchronously: the stack's router lives in this process. */
async function runCli(
  ...args: string[]
): Promise<{code: number | null; out: string; err: string}> {
  const child = spawn(
    process.execPath,
    [`${REPO_ROOT}build/cli/main.js`, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', chunk => (out += chunk));
  child.stderr.on('data', chunk => (err += chunk));
  const code = await new Promise<number | null>(resolve =>
    child.on('close', resolve),
  );
  return {code, out, err};
}

/** SIGKILL to generateShard's group (ours); resolves with the supervisor's restart. */
async function killGenerateShard(): Promise<{
  killedAt: number;
  restart: RestartEvent;
}> {
  const {supervisor} = t.stack;
  const pid = supervisor.child(GENERATE_SHARD).process.pid;
  assert.ok(
    startedGroups().includes(pid),
    `${GENERATE_SHARD} (${pid}) is not ours`,
  );
  const restarted = new Promise<RestartEvent>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${GENERATE_SHARD} not restarted in ${RESTART_MS} ms`),
        ),
      RESTART_MS,
    );
    supervisor.on('restarted', function onRestart(event: RestartEvent) {
      if (event.name !== GENERATE_SHARD) return;
      clearTimeout(timer);
      supervisor.off('restarted', onRestart);
      resolve(event);
    });
  });
  const killedAt = Date.now();
  process.kill(-pid, 'SIGKILL');
  const restart = await restarted;
  assert.equal(restart.exit.signal, 'SIGKILL');
  assert.notEqual(supervisor.child(GENERATE_SHARD).process.pid, pid);
  return {killedAt, restart};
}

describe('the event bridge', {timeout: 2 * 60_000}, () => {
  it('retries a failed message when its line says, ahead of messages received after it', async () => {
    const client = t.stack.emulators.pubsub();
    const topic = 'bridge-order';
    const subscription = 'bridge-order-bridge';
    await ensureTopic(client, topic);
    await ensureSubscription(client, topic, subscription, 60);
    const posts: {data: string; at: number; status: number}[] = [];
    const lines: string[] = [];
    const BACKOFF_MS = 1_500;
    let bridge: ReturnType<typeof startEventBridge> | undefined;
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c as Buffer));
      req.on('end', async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          message: {data: string};
        };
        const data = Buffer.from(body.message.data, 'base64').toString();
        const first = data === 'A' && !posts.some(p => p.data === 'A');
        if (first) {
          // Fail A once everything else waits behind it.
          await until(
            'B..F received',
            () => (bridge?.stats.received ?? 0) >= 6,
            30_000,
          );
        }
        const status = first ? 503 : 204;
        posts.push({data, at: Date.now(), status});
        res.writeHead(status);
        res.end();
      });
    });
    await new Promise<void>(r => receiver.listen(0, '127.0.0.1', r));
    try {
      const {port} = receiver.address() as AddressInfo;
      bridge = startEventBridge({
        pubsubHost: t.stack.env.PUBSUB_EMULATOR_HOST,
        projectId: t.stack.emulators.projectId,
        subscription,
        targetUrl: `http://127.0.0.1:${port}/`,
        transform: messagePublishedTransform({
          projectId: t.stack.emulators.projectId,
          topic,
          subscription,
        }),
        maxInFlight: 1,
        initialBackoffMs: BACKOFF_MS,
        log: line => lines.push(line),
      });
      const publish = (data: string) =>
        client.topic(topic).publishMessage({data: Buffer.from(data)});
      await publish('A');
      await until('A posted', () => (bridge?.stats.received ?? 0) >= 1, 30_000);
      for (const data of ['B', 'C', 'D', 'E', 'F']) await publish(data);
      await until(
        '6 delivered',
        () => (bridge?.stats.delivered ?? 0) >= 6,
        60_000,
      );
      assert.deepEqual(
        posts.slice(0, 2).map(p => [p.data, p.status]),
        [
          ['A', 503],
          ['A', 204],
        ],
        `POSTs in order: ${posts.map(p => p.data).join(' ')}\n${lines.join('\n')}`,
      );
      const waited = posts[1].at - posts[0].at;
      assert.ok(
        waited >= BACKOFF_MS && waited < BACKOFF_MS + SLACK_MS,
        `A retried ${waited} ms after its failure, announced ${BACKOFF_MS} ms`,
      );
      assert.ok(
        lines.some(
          l =>
            l.includes('attempt 1 failed') &&
            l.endsWith(`retry in ${BACKOFF_MS} ms`),
        ),
        lines.join('\n'),
      );
      assert.ok(
        bridge.stats.maxRetryLagMs < SLACK_MS,
        JSON.stringify(bridge.stats),
      );
      assert.deepEqual(
        posts
          .slice(2)
          .map(p => p.data)
          .sort(),
        ['B', 'C', 'D', 'E', 'F'],
      );
    } finally {
      await bridge?.stop();
      receiver.close();
      await deleteSubscription(client, subscription);
    }
  });
});

describe('generateShard killed mid fan-out', {timeout: 10 * 60_000}, () => {
  it('ends ready, fetch and verify pass, the killed shards are redelivered within the bound', async (ctx: TestContext) => {
    const stats = t.stack.shardBridge.stats;
    const deliveredBefore = stats.delivered;
    const postedAt = Date.now();
    const answer = await api.generate({
      nSamples: ROWS,
      shards: SHARDS,
      seed: 16_016,
    });
    assert.ok(isGenerating(answer), JSON.stringify(answer));
    const {version} = answer;
    const doc = await t.firestore
      .collection('datasets')
      .doc(`v${version}`)
      .get();
    const {createdAt, leaseExpiresAt} = doc.data() as {
      createdAt: string;
      leaseExpiresAt: string;
    };
    // The lease counts the stack's waves: 2 shards at a time, not 64.
    assert.equal(Date.parse(leaseExpiresAt) - Date.parse(createdAt), LEASE_MS);

    // Two shards written, the next two in flight.
    await until(
      'two shards delivered',
      () => stats.delivered >= deliveredBefore + 2,
      120_000,
    );
    const topic = t.stack.emulators
      .pubsub()
      .topic(t.stack.emulators.shardTopic);
    await Promise.all([
      topic.publishMessage(
        encodeShardMessage({version, shard: SHARDS - 1, shards: SHARDS}),
      ),
      // Forged: a version nobody allocated.
      topic.publishMessage(
        encodeShardMessage({version: version + 1000, shard: 0, shards: SHARDS}),
      ),
      topic.publishMessage({data: Buffer.alloc(5_000, '{')}),
    ]);
    const deliveredAtKill = stats.delivered - deliveredBefore;
    assert.ok(
      deliveredAtKill < SHARDS,
      `all ${SHARDS} shards were done before the kill: raise ROWS`,
    );
    const {killedAt, restart} = await killGenerateShard();

    const ready = await api.waitReady(version, {
      timeoutMs: LEASE_MS,
      intervalMs: 250,
    });
    assert.equal(ready.status, 'ready');
    const readyAt = Date.now();
    await until(
      'the 3 extra messages',
      () => stats.received >= SHARDS + 3,
      60_000,
    );
    await until(
      'every message done',
      () => stats.delivered + stats.skipped + stats.dropped >= stats.received,
      60_000,
    );
    assert.equal(stats.dropped, 0, JSON.stringify(stats));

    const lines = (await attemptLines()).filter(
      l => l.at - l.tookMs >= postedAt,
    );
    // The deliveries the kill cut, and nothing else: no message waiting for
    // a slot spent attempts against the dead process.
    const failedAfterKill = lines.filter(l => !l.ok && l.at >= killedAt);
    const cut = [...new Set(failedAfterKill.map(l => l.what))];
    assert.ok(
      failedAfterKill.some(l =>
        /socket hang up|ECONNRESET|other side closed/.test(l.text),
      ),
      `no delivery was in flight at the kill:\n${failedAfterKill.map(l => l.text).join('\n')}`,
    );
    assert.ok(
      cut.length <= AT_ONCE,
      `${cut.length} messages failed, ${AT_ONCE} were in flight:\n${cut.join('\n')}`,
    );
    // Each retry started when its line said (nothing queued in between).
    assert.ok(
      stats.maxRetryLagMs < SLACK_MS,
      `a retry started ${stats.maxRetryLagMs} ms late`,
    );
    const boundMs = restart.ms + SHARD_BRIDGE_DEFAULTS.maxBackoffMs + SLACK_MS;
    assert.ok(
      boundMs < SHARD_TIMEOUT_S * 1000,
      `the restart alone took ${restart.ms} ms`,
    );
    const redeliveries = cut.map(what => {
      const delivered = lines.find(l => l.ok && l.what === what);
      assert.ok(delivered, `${what} was never delivered`);
      const startedAt = delivered.at - delivered.tookMs;
      return {
        what,
        afterKillMs: startedAt - killedAt,
        attempt: delivered.attempt,
      };
    });
    for (const r of redeliveries) {
      assert.ok(
        r.afterKillMs <= boundMs,
        `${r.what} redelivered ${r.afterKillMs} ms after the kill; bound ${boundMs} ms (restart ${restart.ms} ms + ${SHARD_BRIDGE_DEFAULTS.maxBackoffMs} ms + ${SLACK_MS} ms)`,
      );
    }
    ctx.diagnostic(
      `v${version}: killed after ${deliveredAtKill} of ${SHARDS} shards; generateShard back in ${restart.ms} ms; ` +
        redeliveries
          .map(
            r =>
              `${r.what} redelivered +${r.afterKillMs} ms (attempt ${r.attempt})`,
          )
          .join(', ') +
        `; bound ${boundMs} ms; max retry lag ${stats.maxRetryLagMs} ms; POST -> ready ${readyAt - postedAt} ms (lease ${LEASE_MS / 1000} s)`,
    );

    const out = join(scratch, 'fetched');
    const fetched = await runCli(
      'fetch',
      '--base-url',
      t.url,
      '--out',
      out,
      '--dataset-version',
      String(version),
      '--json',
    );
    assert.equal(fetched.code, 0, fetched.out + fetched.err);
    const summary = JSON.parse(fetched.out) as {
      version: number;
      shards: number;
      verified: boolean;
    };
    assert.deepEqual(
      {
        version: summary.version,
        shards: summary.shards,
        verified: summary.verified,
      },
      {version, shards: SHARDS, verified: true},
    );
    const verified = await runCli('verify', out, '--json');
    assert.equal(verified.code, 0, verified.out + verified.err);
    const report = JSON.parse(verified.out) as {
      ok: boolean;
      checks: Array<{name: string}>;
    };
    assert.equal(report.ok, true);
    assert.ok(
      report.checks.some(c =>
        new RegExp(`${SHARDS} shards named and sized`).test(c.name),
      ),
      'the shard layout was checked',
    );
  });
});
