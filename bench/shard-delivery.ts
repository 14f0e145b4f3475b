/**
 * How the local stack should run generateShard on a small machine: one
 * functions-framework process with two shards in flight (the default,
 * SHARD_BRIDGE_DEFAULTS), or two processes with one shard each (a second
 * process and a second bridge on the same subscription; Pub/Sub spreads the
 * messages over both); and, for comparison, one process with one shard at
 * a time (one-in-flight). For each layout: a fresh stack, one sharded POST,
 * loadMetadata polled until ready; prints the time from POST to ready, the
 * CPU seconds and the peak RSS of the generateShard processes, and of the
 * whole stack. Measures; asserts nothing.
 *
 *   node build/bench/shard-delivery.js [--rows 4194304] [--shards 8]
 *     [--layouts one-process,two-processes,one-in-flight]
 */
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import {
  freePort,
  messagePublishedTransform,
  startEventBridge,
  startFunction,
  startLocalStack,
  type EventBridge,
  type LocalStack,
} from '../local/index.js';
import type {ManagedProcess} from '../local/process-group.js';
import {ApiClient} from '../clients/typescript/index.js';
import {RssSampler, treeLabeller} from './process-rss.js';

const LAYOUTS = ['one-process', 'two-processes', 'one-in-flight'] as const;
type Layout = (typeof LAYOUTS)[number];

interface DeliveryRun {
  layout: Layout;
  rows: number;
  shards: number;
  postToReadySeconds: number;
  /** user + system CPU of the generateShard processes during the run */
  shardCpuSeconds: number;
  shardPeakRssBytes: number;
  stackPeakRssBytes: number;
  /** peak RSS of each part of the stack, MiB */
  peakMibByLabel: Record<string, number>;
}

/** utime + stime of a process, in seconds (/proc/PID/stat, clock ticks of 100 Hz). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function runLayout(
  layout: Layout,
  rows: number,
  shards: number,
): Promise<DeliveryRun> {
  const stack: LocalStack = await startLocalStack({
    port: 0,
    shardBridge: {maxInFlight: layout === 'one-process' ? 2 : 1},
  });
  let extra: ManagedProcess | undefined;
  let extraBridge: EventBridge | undefined;
  let sampler: RssSampler | undefined;
  try {
    if (layout === 'two-processes') {
      const port = await freePort();
      extra = await startFunction({
        name: 'generateShard',
        port,
        sourceDir: process.cwd(),
        env: {
          ...process.env,
          ...stack.env,
          GCLOUD_PROJECT: stack.emulators.projectId,
          SHARD_TOPIC: stack.emulators.shardTopic,
          METADATA_SERVER_DETECTION: 'none',
        },
        logDir: stack.runDir.logs,
        timeoutMs: 60_000,
      });
      extraBridge = startEventBridge({
        pubsubHost: stack.env.PUBSUB_EMULATOR_HOST,
        projectId: stack.emulators.projectId,
        subscription: stack.emulators.shardSubscription,
        targetUrl: `http://127.0.0.1:${port}/`,
        transform: messagePublishedTransform({
          projectId: stack.emulators.projectId,
          topic: stack.emulators.shardTopic,
          subscription: stack.emulators.shardSubscription,
        }),
        maxInFlight: 1,
        maxPending: 1,
        requestTimeoutMs: 600_000,
      });
    }
    const shardPids = () =>
      [
        stack.functions.find(f => f.name === 'generateShard')!.process.pid,
        ...(extra ? [extra.pid] : []),
      ] as number[];
    const groups = () => {
      const map = new Map<number, string>();
      for (const p of stack.emulators.processes) map.set(p.pid, p.name);
      for (const f of stack.functions) map.set(f.process.pid, f.name);
      if (extra) map.set(extra.pid, 'generateShard');
      return map;
    };
    sampler = new RssSampler(treeLabeller(process.pid, 'parent', groups));
    const cpuBefore = shardPids().reduce((s, pid) => s + cpuSeconds(pid), 0);
    const api = new ApiClient({baseUrl: stack.url, timeoutMs: 60_000});
    const t0 = performance.now();
    const answer = await api.generate({nSamples: rows, shards, seed: 1});
    await api.waitReady(answer.version, {timeoutMs: 30 * 60_000});
    const postToReadySeconds = (performance.now() - t0) / 1000;
    const cpuAfter = shardPids().reduce((s, pid) => s + cpuSeconds(pid), 0);
    const summary = sampler.stop();
    return {
      layout,
      rows,
      shards,
      postToReadySeconds,
      shardCpuSeconds: cpuAfter - cpuBefore,
      shardPeakRssBytes: summary.peakByLabel.generateShard ?? 0,
      stackPeakRssBytes: summary.peakTotal,
      peakMibByLabel: Object.fromEntries(
        Object.entries(summary.peakByLabel).map(([k, v]) => [
          k,
          Math.round(v / 2 ** 20),
        ]),
      ),
    };
  } finally {
    sampler?.stop();
    await extraBridge?.stop();
    await extra?.stop();
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      rows: {type: 'string', default: String(64 * 65_536)},
      shards: {type: 'string', default: '8'},
      layouts: {type: 'string', default: 'one-process,two-processes'},
    },
  });
  const rows = Number(values.rows);
  const shards = Number(values.shards);
  const layouts = values.layouts.split(',') as Layout[];
  for (const layout of layouts) {
    if (!LAYOUTS.includes(layout)) throw new Error(`unknown layout ${layout}`);
  }
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  for (const layout of layouts) {
    const run = await runLayout(layout, rows, shards);
    console.log(
      `${run.layout.padEnd(14)} ${run.rows} rows in ${run.shards} shards: ` +
        `POST to ready ${run.postToReadySeconds.toFixed(1)} s, ` +
        `generateShard CPU ${run.shardCpuSeconds.toFixed(1)} s, ` +
        `generateShard peak RSS ${mb(run.shardPeakRssBytes)}, ` +
        `stack peak RSS ${mb(run.stackPeakRssBytes)}`,
    );
    console.log(JSON.stringify(run));
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
