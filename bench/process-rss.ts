/**
 * Resident memory of a process tree, from /proc (Linux only): every
 * descendant of a root pid, its VmRSS, grouped under labels (e.g. one per
 * process group the local stack started), sampled on an interval. Reports
 * the peak of each label, the peak of the sum of all labels (the sum at one
 * instant, not the sum of the peaks) and the latest sample.
 */
import {readFileSync} from 'node:fs';
import {processTable, type ProcEntry} from '../local/proc-table.js';

export {processTable, type ProcEntry};

/** root and all its descendants that are in the table. */
export function processTree(
  root: number,
  table: Map<number, ProcEntry>,
): ProcEntry[] {
  const children = new Map<number, ProcEntry[]>();
  for (const p of table.values()) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const tree: ProcEntry[] = [];
  const rootEntry = table.get(root);
  if (rootEntry) tree.push(rootEntry);
  for (let i = 0; i < tree.length; i++) {
    for (const child of children.get(tree[i].pid) ?? []) tree.push(child);
  }
  return tree;
}

/** VmRSS of a pid in bytes, or undefined when it has exited (or is a kernel thread). */
export function residentBytes(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

export interface RssSnapshot {
  /** bytes per label */
  byLabel: Record<string, number>;
  total: number;
}

export interface RssSummary {
  samples: number;
  /** highest resident bytes seen per label */
  peakByLabel: Record<string, number>;
  /** highest sum over all labels at one sample */
  peakTotal: number;
  /** the last sample */
  last: RssSnapshot;
}

/** Names the processes to measure: pid -> label (several pids may share one). */
export type ProcessLabeller = () => Map<number, string>;

/** The resident bytes of the labelled processes, now. */
export function snapshot(labeller: ProcessLabeller): RssSnapshot {
  const byLabel: Record<string, number> = {};
  let total = 0;
  for (const [pid, label] of labeller()) {
    const bytes = residentBytes(pid);
    if (bytes === undefined) continue;
    byLabel[label] = (byLabel[label] ?? 0) + bytes;
    total += bytes;
  }
  return {byLabel, total};
}

/** Samples on an interval until stopped; `summary()` may be read at any time. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private samples = 0;
  private peakByLabel: Record<string, number> = {};
  private peakTotal = 0;
  private last: RssSnapshot = {byLabel: {}, total: 0};

  constructor(
    private readonly labeller: ProcessLabeller,
    intervalMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Forgets the peaks so far (e.g. the start-up), keeps sampling. */
  reset(): void {
    this.samples = 0;
    this.peakByLabel = {};
    this.peakTotal = 0;
    this.sample();
  }

  summary(): RssSummary {
    return {
      samples: this.samples,
      peakByLabel: {...this.peakByLabel},
      peakTotal: this.peakTotal,
      last: this.last,
    };
  }

  /** Takes one last sample and stops. */
  stop(): RssSummary {
    clearInterval(this.timer);
    this.sample();
    return this.summary();
  }

  private sample(): void {
    const now = snapshot(this.labeller);
    this.samples++;
    this.last = now;
    for (const [label, bytes] of Object.entries(now.byLabel)) {
      if (bytes > (this.peakByLabel[label] ?? 0))
        this.peakByLabel[label] = bytes;
    }
    if (now.total > this.peakTotal) this.peakTotal = now.total;
  }
}

/**
 * Labels every process in the tree under `root`: by the name of the
 * process group it belongs to when `groups` knows it (pgid -> name), the
 * root itself as `rootLabel`, anything else by its command name.
 */
export function treeLabeller(
  root: number,
  rootLabel: string,
  groups: () => Map<number, string>,
): ProcessLabeller {
  return () => {
    const names = groups();
    const labels = new Map<number, string>();
    for (const p of processTree(root, processTable())) {
      labels.set(
        p.pid,
        p.pid === root ? rootLabel : (names.get(p.pgid) ?? p.comm),
      );
    }
    return labels;
  };
}
