/**
 * The benchmark's records and how they are shown: a plain-text table for the
 * terminal, a markdown table for bench/results and docs/benchmark.md, ratios
 * of our CLI against each other producer, and the targets next to the
 * measured figures (shown, never asserted: this is measurement).
 */
import {formatLoad, type LoadAverage, type MachineFacts} from './machine.js';

export type ProducerName =
  | 'ours'
  | 'shards16w1'
  | 'shards16w2'
  | 'floor'
  | 'expert'
  | 'vectorised'
  | 'notebook'
  | 'softmax'
  | 'adaptive1'
  | 'adaptive16'
  | 'obp';

/** Our CLI writing 16 shards on W worker threads: W of each producer name. */
export const SHARDED_WORKERS: Partial<Record<ProducerName, number>> = {
  shards16w1: 1,
  shards16w2: 2,
  adaptive16: 2,
};
export const SHARDS = 16;

export const PRODUCER_LABEL: Record<ProducerName, string> = {
  ours: 'ours (CLI)',
  shards16w1: 'ours, 16 shards, 1 worker',
  shards16w2: 'ours, 16 shards, 2 workers',
  floor: 'floor (zeros + fsync)',
  expert: 'expert Python, no checksums',
  vectorised: 'vectorised Python',
  notebook: 'notebook',
  softmax: 'ours, softmax beta 5',
  adaptive1: 'ours, adaptive softmax, one file',
  adaptive16: 'ours, adaptive softmax, 16 shards, 2 workers',
  obp: 'OBP SyntheticBanditDataset',
};

export interface Measurement {
  producer: ProducerName;
  rows: number;
  /**
   * 'rss': the scale runs of our CLI (one file, and 16 shards on 1 and 2
   * workers) at 100M rows and more, for rows/s and peak RSS; 'policy': ours
   * without and with a logging policy, back to back at each size (bench/policy.ts);
   * 'obp': Open Bandit Pipeline's SyntheticBanditDataset beside ours with a
   * softmax policy at the same rounds
   */
  run: 'compare' | 'rss' | 'verify' | 'policy' | 'obp';
  /** formats written, when not both (a scale run that the disk cannot hold in TFRecord) */
  formats?: 'parquet';
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  wallSeconds?: number;
  commandSeconds?: number;
  syncSeconds?: number | null;
  userSeconds?: number;
  systemSeconds?: number;
  rowsPerSecond?: number;
  peakRssBytes?: number;
  outputBytes?: number;
  files?: Record<string, number>;
  /** the producer's own account of its time (its JSON summary), if any */
  producerSeconds?: Record<string, number>;
  /** anything else a producer reports (OBP: its peak RSS after the imports) */
  details?: Record<string, unknown>;
  /** ours: `generate --timings`, CPU seconds per 1M rows per stage */
  stageCpuPerMillionRows?: Record<string, number>;
  loadBefore?: LoadAverage;
  loadAfter?: LoadAverage;
  startedAt?: string;
  log?: string;
}

export interface Comparison {
  rows: number;
  against: ProducerName;
  /** their wall time / ours: above 1, ours is faster */
  wallRatio: number;
  /** their peak RSS / ours */
  rssRatio: number;
  /** their output bytes / ours */
  bytesRatio: number;
}

export interface TargetCheck {
  rows: number;
  target: string;
  measured: string;
  met: boolean;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  options: Record<string, unknown>;
  machine: MachineFacts;
  loadBefore: LoadAverage;
  loadAfter: LoadAverage;
  tmpDir: string;
  freeDiskBytesBefore: number;
  measurements: Measurement[];
  comparisons: Comparison[];
  targets: TargetCheck[];
  notes: string[];
}

const MB = 1e6;

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined ? '-' : n.toFixed(digits);
}

export function compare(measurements: Measurement[]): Comparison[] {
  const out: Comparison[] = [];
  const ok = measurements.filter(m => m.status === 'ok' && m.run === 'compare');
  for (const ours of ok.filter(m => m.producer === 'ours')) {
    for (const other of ok) {
      if (other.rows !== ours.rows || other.producer === 'ours') continue;
      out.push({
        rows: ours.rows,
        against: other.producer,
        wallRatio: other.wallSeconds! / ours.wallSeconds!,
        rssRatio: other.peakRssBytes! / ours.peakRssBytes!,
        bytesRatio: other.outputBytes! / ours.outputBytes!,
      });
    }
  }
  return out;
}

/** The targets, each beside what was measured. */
export function targets(
  measurements: Measurement[],
  comparisons: Comparison[],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  // The policy and OBP sections have their own targets (bench/policy.ts).
  const ours = measurements.filter(
    m =>
      m.producer === 'ours' &&
      m.status === 'ok' &&
      (m.run === 'compare' || m.run === 'rss'),
  );
  for (const m of ours.filter(m => m.run === 'compare')) {
    if (m.rows === 10_000_000) {
      checks.push({
        rows: m.rows,
        target: 'wall <= 5 s',
        measured: `${fmt(m.wallSeconds, 2)} s`,
        met: m.wallSeconds! <= 5,
      });
    }
    const vs = (p: ProducerName) =>
      comparisons.find(c => c.rows === m.rows && c.against === p);
    const nb = vs('notebook');
    if (nb) {
      checks.push({
        rows: m.rows,
        target: '>= 50x the notebook',
        measured: `${nb.wallRatio.toFixed(1)}x`,
        met: nb.wallRatio >= 50,
      });
    }
    const expert = vs('expert');
    if (expert) {
      checks.push({
        rows: m.rows,
        target:
          'ahead of the expert Python without checksums (ours with SHA-256 + CRC-32C)',
        measured: `${expert.wallRatio.toFixed(2)}x faster`,
        met: expert.wallRatio > 1,
      });
    }
    const vec = vs('vectorised');
    if (vec) {
      checks.push({
        rows: m.rows,
        target: 'ahead of the vectorised Python',
        measured: `${vec.wallRatio.toFixed(2)}x faster`,
        met: vec.wallRatio > 1,
      });
    }
    const sharded = measurements.find(
      s =>
        s.producer === 'shards16w2' && s.rows === m.rows && s.status === 'ok',
    );
    if (sharded && m.rows === 10_000_000) {
      const cpu = sharded.userSeconds! + sharded.systemSeconds!;
      checks.push(
        {
          rows: m.rows,
          target: '16 shards on 2 workers: wall within 1.15x of CPU s / 2',
          measured: `${fmt(sharded.wallSeconds, 2)} s wall, ${fmt(cpu, 2)} CPU s: ${(sharded.wallSeconds! / (cpu / 2)).toFixed(2)}x`,
          met: sharded.wallSeconds! <= 1.15 * (cpu / 2),
        },
        {
          rows: m.rows,
          target: '16 shards on 2 workers: >= 1.3x faster than one file',
          measured: `${(m.wallSeconds! / sharded.wallSeconds!).toFixed(2)}x`,
          met: m.wallSeconds! / sharded.wallSeconds! >= 1.3,
        },
      );
    }
    const floor = vs('floor');
    if (floor) {
      checks.push({
        rows: m.rows,
        target:
          m.rows >= 10_000_000
            ? 'within 2x of the floor (issue 16)'
            : 'within 4x of the floor',
        measured: `${(1 / floor.wallRatio).toFixed(2)}x the floor's time`,
        met: 1 / floor.wallRatio <= (m.rows >= 10_000_000 ? 2 : 4),
      });
    }
  }
  // Peak RSS flat in nSamples: each of our producers from 10M rows up.
  for (const producer of ['ours', 'shards16w1', 'shards16w2'] as const) {
    const runs = measurements
      .filter(
        m =>
          m.producer === producer &&
          m.status === 'ok' &&
          (m.run === 'compare' || m.run === 'rss') &&
          m.rows >= 10_000_000,
      )
      .sort((a, b) => a.rows - b.rows);
    if (runs.length < 2) continue;
    const rss = runs.map(m => m.peakRssBytes!);
    const spread = Math.max(...rss) / Math.min(...rss);
    checks.push({
      rows: runs[runs.length - 1].rows,
      target: `${PRODUCER_LABEL[producer]}: peak RSS flat in rows (largest within 1.5x of smallest)`,
      measured: runs
        .map(m => `${fmt(m.peakRssBytes! / MB, 0)} MB at ${fmtInt(m.rows)}`)
        .join(', '),
      met: spread <= 1.5,
    });
  }
  for (const m of measurements.filter(
    m => m.run === 'verify' && m.status === 'ok' && m.rows === 10_000_000,
  )) {
    checks.push({
      rows: m.rows,
      target: `${runLabel(m)} in under 10 s`,
      measured: `${fmt(m.wallSeconds, 2)} s, peak RSS ${fmt(m.peakRssBytes! / MB, 0)} MB`,
      met: m.wallSeconds! < 10,
    });
  }
  for (const m of ours) {
    if (m.rows >= 10_000_000) {
      checks.push({
        rows: m.rows,
        target: 'peak RSS < 300 MB',
        measured: `${fmt(m.peakRssBytes! / MB, 0)} MB`,
        met: m.peakRssBytes! < 300 * MB,
      });
    }
  }
  return checks;
}

interface Row {
  cells: string[];
}

const HEADERS = [
  'producer',
  'rows',
  'wall s',
  'of which sync s',
  'rows/s',
  'CPU s',
  'peak RSS MB',
  'output MB',
  'wall / ours',
  'load 1-min before -> after',
];

/** The producer, and what kind of run: a scale run, Parquet only. */
export function runLabel(m: Measurement): string {
  if (m.run === 'verify') return `verify of ${PRODUCER_LABEL[m.producer]}`;
  const kinds = [
    ...(m.run === 'rss' ? ['scale run'] : []),
    ...(m.run === 'policy' && m.producer === 'ours' ? ['no policy'] : []),
    ...(m.producer === 'obp' && m.details?.behavior === 'uniform'
      ? ['uniform logging']
      : []),
    ...(m.formats === 'parquet' ? ['Parquet only'] : []),
  ];
  return (
    PRODUCER_LABEL[m.producer] + (kinds.length ? ` (${kinds.join(', ')})` : '')
  );
}

function measurementRow(m: Measurement, ours?: Measurement): Row {
  const label = runLabel(m);
  if (m.status !== 'ok') {
    return {
      cells: [
        label,
        fmtInt(m.rows),
        m.status,
        '',
        '',
        '',
        '',
        '',
        '',
        m.reason ?? '',
      ],
    };
  }
  const ratio =
    ours && ours !== m && ours.status === 'ok'
      ? (m.wallSeconds! / ours.wallSeconds!).toFixed(2)
      : '';
  return {
    cells: [
      label,
      fmtInt(m.rows),
      fmt(m.wallSeconds, 2),
      fmt(m.syncSeconds ?? undefined, 2),
      fmtInt(m.rowsPerSecond!),
      fmt(m.userSeconds! + m.systemSeconds!, 2),
      fmt(m.peakRssBytes! / MB, 0),
      fmt(m.outputBytes! / MB, 1),
      ratio,
      `${m.loadBefore![0].toFixed(2)} -> ${m.loadAfter![0].toFixed(2)}`,
    ],
  };
}

/** Whom "wall / ours" divides by: our CLI at that size, or with a softmax policy beside OBP. */
function reference(m: Measurement): ProducerName {
  return m.run === 'obp' ? 'softmax' : 'ours';
}

function tableRows(measurements: Measurement[]): Row[] {
  return measurements.map(m => {
    const ours = measurements.find(
      o =>
        o.producer === reference(m) &&
        o.rows === m.rows &&
        o.run === m.run &&
        o.formats === m.formats,
    );
    return measurementRow(m, ours);
  });
}

export function textTable(measurements: Measurement[]): string {
  const rows = [HEADERS, ...tableRows(measurements).map(r => r.cells)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map(r => r[i].length)));
  return rows
    .map(r =>
      r
        .map((c, i) =>
          i === 0 || i === 9 ? c.padEnd(widths[i]) : c.padStart(widths[i]),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function markdownTable(measurements: Measurement[]): string {
  const lines = [
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map((_, i) => (i === 0 || i === 9 ? '---' : '---:')).join('|')}|`,
    ...tableRows(measurements).map(r => `| ${r.cells.join(' | ')} |`),
  ];
  return lines.join('\n');
}

const STAGES = ['draw', 'encode', 'hash', 'write', 'total'] as const;

/** Our CLI's CPU seconds per 1M rows per stage (`generate --timings`), one line per run. */
export function stageLines(measurements: Measurement[]): string[] {
  return measurements
    .filter(m => m.status === 'ok' && m.stageCpuPerMillionRows)
    .map(m => {
      const t = m.stageCpuPerMillionRows!;
      const stages = STAGES.map(k => `${k} ${fmt(t[k], 3)}`).join(', ');
      return `${runLabel(m)}, ${fmtInt(m.rows)} rows: CPU s per 1M rows: ${stages} (encode = TFRecord ${fmt(t.encodeTfrecord, 3)} + Parquet ${fmt(t.encodeParquet, 3)}; write = process CPU minus the others, of it system ${fmt(t.system, 3)})`;
    });
}

export function comparisonLines(comparisons: Comparison[]): string[] {
  return comparisons.map(c => {
    const speed =
      c.wallRatio >= 1
        ? `ours is ${c.wallRatio.toFixed(2)}x faster`
        : `ours takes ${(1 / c.wallRatio).toFixed(2)}x its time`;
    return `${fmtInt(c.rows)} rows, vs ${PRODUCER_LABEL[c.against]}: ${speed}; its peak RSS is ${c.rssRatio.toFixed(2)}x ours; its output is ${c.bytesRatio.toFixed(3)}x our bytes`;
  });
}

export function targetLines(checks: TargetCheck[]): string[] {
  return checks.map(
    t =>
      `${fmtInt(t.rows)} rows: ${t.target}: measured ${t.measured} -> ${t.met ? 'met' : 'NOT met'}`,
  );
}

export function markdownReport(report: BenchReport): string {
  const m = report.machine;
  const compareRows = report.measurements;
  const lines = [
    `# Benchmark run ${report.startedAt}`,
    '',
    `- command: \`${report.command}\``,
    `- machine: ${m.host}, ${m.nproc} cores (${m.cpuModel}), ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform}, kernel ${m.kernel}`,
    `- node ${m.node}; python ${m.python ?? '?'} (${Object.entries(
      m.pythonPackages ?? {},
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
    `- load average (1, 5, 15 min): before ${formatLoad(report.loadBefore)}, after ${formatLoad(report.loadAfter)}`,
    `- output on ${report.tmpDir} (${(report.freeDiskBytesBefore / 1e9).toFixed(0)} GB free before the run)`,
    `- started ${report.startedAt}, finished ${report.finishedAt}`,
    '',
    'Wall time is spawn to exit plus an `os.sync()` (charged to every producer alike), measured by',
    '`bench/measure.py`; peak RSS is the child\'s `ru_maxrss`; MB = 10^6 bytes. "wall / ours" above 1',
    'means our CLI is faster.',
    '',
    markdownTable(compareRows),
    '',
  ];
  const stages = stageLines(report.measurements);
  if (stages.length > 0) {
    lines.push(
      '## Our CPU by stage (`generate --timings`)',
      '',
      ...stages.map(l => `- ${l}`),
      '',
    );
  }
  if (report.comparisons.length > 0) {
    lines.push(
      '## Ratios',
      '',
      ...comparisonLines(report.comparisons).map(l => `- ${l}`),
      '',
    );
  }
  if (report.targets.length > 0) {
    lines.push(
      '## Targets (shown, not asserted)',
      '',
      ...targetLines(report.targets).map(l => `- ${l}`),
      '',
    );
  }
  if (report.notes.length > 0) {
    lines.push('## Notes', '', ...report.notes.map(l => `- ${l}`), '');
  }
  return lines.join('\n');
}
