/**
 * A node --test reporter (scripts/test.sh adds it next to spec): at the end,
 * one line per test tier (the folder under build/test/ a file is in) with its
 * files, tests, passed, failed, skipped and wall time, from the runner's
 * per-file `test:summary` events. Tiers run in parallel, so each tier's wall
 * time is from when its first file started to when its last file ended.
 */
import type {TestEvent} from 'node:test/reporters';

interface TierCounts {
  files: number;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  firstMs: number;
  lastMs: number;
}

/** The tier of a test file: the folder after `test/` in its path. */
export function tierOf(file: string): string {
  return /[\\/]test[\\/]([^\\/]+)[\\/]/.exec(file)?.[1] ?? 'other';
}

/** Seconds as "42.0 s" or "3 min 12 s". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** Collects events as they arrive (`at` is when, in ms) and prints the table. */
export class TierSummary {
  private readonly started = new Map<string, number>();
  private readonly tiers = new Map<string, TierCounts>();

  add(event: TestEvent, at: number): void {
    const file = (event.data as {file?: string}).file;
    if (file === undefined) return;
    if (!this.started.has(file)) this.started.set(file, at);
    if (event.type !== 'test:summary') return;
    // The runner counts failures too (@types/node does not declare it).
    const counts = event.data.counts as typeof event.data.counts & {
      failed?: number;
    };
    const name = tierOf(file);
    const tier = this.tiers.get(name) ?? {
      files: 0,
      tests: 0,
      passed: 0,
      failed: 0,
      skipped: 0,
      firstMs: Infinity,
      lastMs: -Infinity,
    };
    tier.files += 1;
    tier.tests += counts.tests;
    tier.passed += counts.passed;
    // Cancelled (a timeout, a file that stopped) fails the run like a failure.
    tier.failed += (counts.failed ?? 0) + counts.cancelled;
    tier.skipped += counts.skipped + counts.todo;
    tier.firstMs = Math.min(tier.firstMs, this.started.get(file) ?? at);
    tier.lastMs = Math.max(tier.lastMs, at);
    this.tiers.set(name, tier);
  }

  /** The table, tiers in the order given (then any other). */
  render(order: readonly string[]): string {
    const names = [
      ...order.filter(t => this.tiers.has(t)),
      ...[...this.tiers.keys()].filter(t => !order.includes(t)).sort(),
    ];
    const rows = names.map(name => {
      const t = this.tiers.get(name)!;
      return [
        name,
        String(t.files),
        String(t.tests),
        String(t.passed),
        String(t.failed),
        String(t.skipped),
        formatSeconds((t.lastMs - t.firstMs) / 1000),
      ];
    });
    const header = [
      'tier',
      'files',
      'tests',
      'passed',
      'failed',
      'skipped',
      'wall time',
    ];
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.map(r => r[i].length)),
    );
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
        .join('  ')
        .trimEnd();
    return [
      'tests by tier (wall time: first file started to last file ended; tiers run in parallel):',
      ...[header, ...rows].map(r => `  ${line(r)}`),
      '',
    ].join('\n');
  }
}

export const TIERS = ['unit', 'interop', 'integration', 'terraform'] as const;

export default async function* tierSummaryReporter(
  source: AsyncIterable<TestEvent>,
): AsyncGenerator<string, void> {
  const summary = new TierSummary();
  for await (const event of source) summary.add(event, Date.now());
  yield summary.render(TIERS);
}
