/**
 * Runs one producer as a child of bench/measure.py, so that every producer,
 * Node or Python, is charged the same way: wall time from spawn to exit plus
 * a sync of the disk, and the peak resident set of the child.
 */
import {spawn} from 'node:child_process';
import {readFile} from 'node:fs/promises';
import {loadAverage, type LoadAverage} from './machine.js';

/** What bench/measure.py prints (one JSON line). */
export interface MeasureReport {
  wallSeconds: number;
  peakRssBytes: number;
  exitCode: number;
  commandSeconds: number;
  syncSeconds: number | null;
  userSeconds: number;
  systemSeconds: number;
  log: string;
  stdout: string | null;
}

export interface MeasuredRun {
  measure: MeasureReport;
  /** the producer's own stdout (its JSON summary, when it prints one) */
  stdout: string;
  loadBefore: LoadAverage;
  loadAfter: LoadAverage;
}

export interface MeasureRequest {
  python: string;
  /** path of bench/measure.py */
  measureScript: string;
  command: string[];
  /**
   * synced after the command (os.sync(), charged to the producer); absent for
   * a producer that writes no file (OBP), which is then not charged for other
   * processes' dirty pages
   */
  syncDir?: string;
  stdoutFile: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

const active = new Set<number>();

/** SIGTERM to every running measure.py and its producer (their process groups). */
export function stopActiveChildren(): void {
  for (const pid of active) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

export async function runMeasured(
  request: MeasureRequest,
): Promise<MeasuredRun> {
  const args = [
    request.measureScript,
    ...(request.syncDir === undefined ? [] : ['--sync-dir', request.syncDir]),
    '--stdout',
    request.stdoutFile,
    '--log',
    request.logFile,
    '--',
    ...request.command,
  ];
  const loadBefore = loadAverage();
  // Its own process group, so that stopActiveChildren() reaches the producer too.
  const child = spawn(request.python, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: request.env ?? process.env,
    detached: true,
  });
  if (child.pid !== undefined) active.add(child.pid);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', c => resolve(c ?? 1));
  }).finally(() => {
    if (child.pid !== undefined) active.delete(child.pid);
  });
  const loadAfter = loadAverage();
  const line = out.trim().split('\n').pop() ?? '';
  let measure: MeasureReport;
  try {
    measure = JSON.parse(line) as MeasureReport;
  } catch {
    throw new Error(
      `measure.py gave no report (exit ${code}): ${err.trim() || out.trim()}`,
    );
  }
  const stdout = await readFile(request.stdoutFile, 'utf8').catch(() => '');
  return {measure, stdout, loadBefore, loadAfter};
}

/** The last line of `text` that parses as a JSON object, if any. */
export function lastJsonLine(text: string): Record<string, unknown> | null {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      return JSON.parse(s) as Record<string, unknown>;
    } catch {
      // not JSON: keep looking
    }
  }
  return null;
}
