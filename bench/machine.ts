/**
 * Facts about the machine a benchmark ran on, recorded with every result:
 * the figures mean little without them (2 shared cores, other builds running).
 */
import {execFileSync} from 'node:child_process';
import {statfsSync} from 'node:fs';
import os from 'node:os';

export interface MachineFacts {
  host: string;
  nproc: number;
  cpuModel: string;
  memoryBytes: number;
  platform: string;
  kernel: string;
  node: string;
  python: string | null;
  pythonPackages: Record<string, string> | null;
}

/** The 1, 5 and 15 minute load averages, rounded to 2 decimals. */
export type LoadAverage = [number, number, number];

export function loadAverage(): LoadAverage {
  const [a, b, c] = os.loadavg();
  const r = (x: number) => Math.round(x * 100) / 100;
  return [r(a), r(b), r(c)];
}

export function formatLoad(load: LoadAverage): string {
  return load.map(x => x.toFixed(2)).join(' ');
}

/** Free bytes for an unprivileged writer on the filesystem holding `path`. */
export function freeBytes(path: string): number {
  const s = statfsSync(path);
  return Number(s.bavail) * Number(s.bsize);
}

function pythonFacts(python: string | undefined): {
  python: string | null;
  pythonPackages: Record<string, string> | null;
} {
  if (!python) return {python: null, pythonPackages: null};
  try {
    // importlib.metadata reads versions without importing TensorFlow (seconds).
    const script =
      'import json, platform, importlib.metadata as m\n' +
      'pk = {n: m.version(n) for n in ("numpy", "pandas", "pyarrow", "tensorflow-cpu", "protobuf")}\n' +
      'print(json.dumps({"python": platform.python_version(), "packages": pk}))';
    const out = execFileSync(python, ['-c', script], {encoding: 'utf8'});
    const parsed = JSON.parse(out) as {
      python: string;
      packages: Record<string, string>;
    };
    return {python: parsed.python, pythonPackages: parsed.packages};
  } catch {
    return {python: null, pythonPackages: null};
  }
}

export function machineFacts(python?: string): MachineFacts {
  const cpus = os.cpus();
  return {
    host: os.hostname(),
    nproc: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    ...pythonFacts(python),
  };
}
