/**
 * The bench's logging-policy and Open Bandit Pipeline sections (issue 15,
 * docs/design.md §12): what they run, how big, and their targets.
 *
 * - policy: at each size (1M, 10M, 100M, 1B), our CLI without a policy, then
 *   right after it with `--logging-policy '{"type":"softmax","beta":5}'`, so the
 *   pair sees the same load; the ratio of their wall times (target: within
 *   1.25x) and of their peak RSS (flat). Then the adaptive softmax
 *   (`"adaptive": {"updateEveryBlocks": 16}`) at 100M rows, one file and 16
 *   shards on 2 workers.
 * - obp: OBP's `SyntheticBanditDataset(n_actions=100, ...)
 *   .obtain_batch_bandit_feedback(n_rounds=n)` (bench/baselines/obp_synthetic.py,
 *   in the optional OBP venv of scripts/obp-env.sh) at 1M rounds and at the
 *   largest n whose peak RSS fits 16 GB, estimated from the 1M run's, each
 *   beside ours with the softmax policy at the same n.
 */
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {fmtInt, type Measurement, type TargetCheck} from './report.js';

export const SOFTMAX_POLICY = '{"type":"softmax","beta":5}';
export const ADAPTIVE_POLICY =
  '{"type":"softmax","beta":5,"adaptive":{"updateEveryBlocks":16}}';
export const POLICY_SIZES = [1e6, 1e7, 1e8, 1e9];
export const ADAPTIVE_SIZES = [1e8];
/** 'auto': the largest n that fits OBP_MEMORY_BYTES, from the first size's peak RSS. */
export const OBP_SIZES: (number | 'auto')[] = [1e6, 'auto'];
export const OBP_MEMORY_BYTES = 16e9;
/** OBP's n_actions: the default shape's nCreativePackIds. */
export const OBP_ACTIONS = 100;
/** Ask for this much memory available beyond the estimate before the large OBP run. */
const OBP_MEMORY_HEADROOM = 1.5e9;
/** Target: the softmax run's wall time within this factor of the run without a policy. */
export const POLICY_WALL_TARGET = 1.25;
/** "Peak RSS flat": with a policy within this factor of without; across sizes within 1.5x. */
export const POLICY_RSS_TARGET = 1.1;
/** The policy adds `pscore`: ~1 byte a row in Parquet, ~15 in TFRecord. */
export const POLICY_BYTES_PER_ROW = 140;
export const POLICY_PARQUET_BYTES_PER_ROW = 3;

/** Whether this build's CLI takes --logging-policy (the generator of §12). */
export function cliTakesLoggingPolicy(cli: string): boolean {
  try {
    const help = execFileSync(process.execPath, [cli, 'generate', '--help'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return help.includes('--logging-policy');
  } catch (error) {
    const out = (error as {stdout?: string}).stdout ?? '';
    return out.includes('--logging-policy');
  }
}

export function parseObpSizes(raw: string): (number | 'auto')[] {
  if (raw === '' || raw === 'none') return [];
  return raw.split(',').map(s => {
    const t = s.trim().replaceAll('_', '');
    if (t === 'auto') return 'auto';
    const n = Number(t);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new Error(`--obp-sizes: not a row count or "auto": ${s}`);
    return n;
  });
}

export interface ObpEstimate {
  rounds: number;
  /** bytes a round, from the measured run: (peak - base) / rounds */
  bytesPerRound: number;
  baseBytes: number;
  fromRounds: number;
  budgetBytes: number;
  note: string;
}

/**
 * The largest n (rounded down to 100,000) whose peak RSS, extrapolated
 * linearly from a measured run, stays within `budget`. OBP's peak is its dense
 * (n, n_actions) float64 arrays (expected reward, the behaviour policy, its
 * logits), so it grows linearly in n above the interpreter and its imports.
 */
export function obpLargestRounds(
  measured: Measurement,
  budget: number,
): ObpEstimate | undefined {
  if (measured.status !== 'ok' || !measured.peakRssBytes) return undefined;
  const base = Number(measured.details?.baseRssBytes ?? 0);
  const perRound = (measured.peakRssBytes - base) / measured.rows;
  if (!(perRound > 0)) return undefined;
  const rounds = Math.floor((budget - base) / perRound / 1e5) * 1e5;
  return {
    rounds,
    bytesPerRound: perRound,
    baseBytes: base,
    fromRounds: measured.rows,
    budgetBytes: budget,
    note:
      `OBP's largest n for ${(budget / 1e9).toFixed(0)} GB: ${fmtInt(rounds)} rounds, from its ${fmtInt(measured.rows)}-round run ` +
      `(peak RSS ${(measured.peakRssBytes / 1e6).toFixed(0)} MB, of which ${(base / 1e6).toFixed(0)} MB after the imports: ` +
      `${perRound.toFixed(0)} bytes a round)`,
  };
}

/** MemAvailable from /proc/meminfo, bytes (Infinity where there is none). */
export function memAvailableBytes(): number {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(
      readFileSync('/proc/meminfo', 'utf8'),
    );
    return m ? Number(m[1]) * 1024 : Infinity;
  } catch {
    return Infinity;
  }
}

/** Why the large OBP run should not start now, if it should not. */
export function obpMemoryRefusal(estimate: ObpEstimate): string | undefined {
  const needed = estimate.rounds * estimate.bytesPerRound + estimate.baseBytes;
  const available = memAvailableBytes();
  if (available < needed + OBP_MEMORY_HEADROOM) {
    return (
      `needs ~${(needed / 1e9).toFixed(1)} GB (+${(OBP_MEMORY_HEADROOM / 1e9).toFixed(1)} GB headroom), ` +
      `${(available / 1e9).toFixed(1)} GB available now: not started, to keep the machine's other work from the OOM killer`
    );
  }
  return undefined;
}

const MB = 1e6;

function okRun(
  ms: Measurement[],
  producer: Measurement['producer'],
  rows: number,
  run: Measurement['run'],
): Measurement | undefined {
  return ms.find(
    m =>
      m.producer === producer &&
      m.rows === rows &&
      m.run === run &&
      m.status === 'ok',
  );
}

/** The policy and OBP sections' targets and side-by-side lines. */
export function policyTargets(ms: Measurement[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const sizes = [
    ...new Set(ms.filter(m => m.run === 'policy').map(m => m.rows)),
  ];
  for (const rows of sizes.sort((a, b) => a - b)) {
    const plain = okRun(ms, 'ours', rows, 'policy');
    const soft = okRun(ms, 'softmax', rows, 'policy');
    if (plain && soft) {
      const wall = soft.wallSeconds! / plain.wallSeconds!;
      const rss = soft.peakRssBytes! / plain.peakRssBytes!;
      checks.push(
        {
          rows,
          target: `softmax policy: wall within ${POLICY_WALL_TARGET}x of no policy${soft.formats ? ' (Parquet only)' : ''}`,
          measured: `${soft.wallSeconds!.toFixed(2)} s against ${plain.wallSeconds!.toFixed(2)} s: ${wall.toFixed(2)}x`,
          met: wall <= POLICY_WALL_TARGET,
        },
        {
          rows,
          target: `softmax policy: peak RSS within ${POLICY_RSS_TARGET}x of no policy`,
          measured: `${(soft.peakRssBytes! / MB).toFixed(0)} MB against ${(plain.peakRssBytes! / MB).toFixed(0)} MB: ${rss.toFixed(2)}x`,
          met: rss <= POLICY_RSS_TARGET,
        },
      );
    }
  }
  const softRuns = ms
    .filter(
      m =>
        m.producer === 'softmax' &&
        m.run === 'policy' &&
        m.status === 'ok' &&
        m.rows >= 10_000_000,
    )
    .sort((a, b) => a.rows - b.rows);
  if (softRuns.length >= 2) {
    const rss = softRuns.map(m => m.peakRssBytes!);
    checks.push({
      rows: softRuns[softRuns.length - 1].rows,
      target:
        'softmax policy: peak RSS flat in rows (largest within 1.5x of smallest)',
      measured: softRuns
        .map(
          m => `${(m.peakRssBytes! / MB).toFixed(0)} MB at ${fmtInt(m.rows)}`,
        )
        .join(', '),
      met: Math.max(...rss) / Math.min(...rss) <= 1.5,
    });
  }
  return checks;
}

/** Side-by-side lines without a target: adaptive against no policy, OBP against ours. */
export function policyLines(ms: Measurement[]): string[] {
  const lines: string[] = [];
  for (const a of ms.filter(
    m =>
      (m.producer === 'adaptive1' || m.producer === 'adaptive16') &&
      m.status === 'ok',
  )) {
    const plain = okRun(ms, 'ours', a.rows, 'policy');
    const soft = okRun(ms, 'softmax', a.rows, 'policy');
    const vs = (o: Measurement | undefined, what: string) =>
      o
        ? `; ${(a.wallSeconds! / o.wallSeconds!).toFixed(2)}x the wall and ${(a.peakRssBytes! / o.peakRssBytes!).toFixed(2)}x the peak RSS of ${what}`
        : '';
    lines.push(
      `${fmtInt(a.rows)} rows, ${a.producer === 'adaptive1' ? 'adaptive softmax, one file' : 'adaptive softmax, 16 shards on 2 workers'}: ` +
        `${a.wallSeconds!.toFixed(2)} s, ${(a.peakRssBytes! / MB).toFixed(0)} MB${vs(plain, 'no policy')}${vs(soft, 'the fixed softmax')}`,
    );
  }
  for (const o of ms.filter(m => m.producer === 'obp' && m.status === 'ok')) {
    const soft = okRun(ms, 'softmax', o.rows, 'obp');
    const head =
      `${fmtInt(o.rows)} rounds x ${OBP_ACTIONS} actions, OBP SyntheticBanditDataset: ${o.wallSeconds!.toFixed(2)} s, ` +
      `${fmtInt(o.rowsPerSecond!)} rows/s, peak RSS ${(o.peakRssBytes! / MB).toFixed(0)} MB, in memory only`;
    lines.push(
      soft
        ? `${head}; ours with the softmax policy: ${soft.wallSeconds!.toFixed(2)} s, ${fmtInt(soft.rowsPerSecond!)} rows/s, ` +
            `${(soft.peakRssBytes! / MB).toFixed(0)} MB, ${(soft.outputBytes! / MB).toFixed(0)} MB of Parquet + TFRecord written: ` +
            `OBP takes ${(o.wallSeconds! / soft.wallSeconds!).toFixed(2)}x our time and ${(o.peakRssBytes! / soft.peakRssBytes!).toFixed(1)}x our memory`
        : head,
    );
  }
  return lines;
}
