/**
 * Where the CPU of one generation goes, by stage (`generate --timings`):
 * drawing the rows, encoding them (TFRecord, Parquet), hashing the files,
 * and writing them. Draw and encode run synchronously on the generating
 * thread, and hashing synchronously on the digest threads (or inline): each
 * is the thread's CPU time (process.threadCpuUsage) across its synchronous
 * calls, not elapsed time, so a busy machine does not inflate it. Writing is
 * the rest: the process's CPU
 * (every thread, user + system, from getrusage) minus the other three,
 * which is the write syscalls and the page-cache copies in the kernel, plus
 * the event loop, GC, the model and the metadata (milliseconds here).
 */
import type {DigestTiming} from '../digest/digests.js';

export interface StageSeconds {
  draw: number;
  encode: number;
  encodeTfrecord: number;
  encodeParquet: number;
  hash: number;
  /** the process's CPU minus draw, encode and hash */
  write: number;
  /** the process's CPU, user + system, every thread */
  total: number;
  /** of total: system (kernel) CPU */
  system: number;
}

export interface TimingsReport {
  rows: number;
  /** CPU seconds per stage, for all the rows */
  cpuSeconds: StageSeconds;
  /** the same, per 1,000,000 rows */
  cpuSecondsPerMillionRows: StageSeconds;
}

export class StageTimings {
  drawMs = 0;
  encodeTfrecordMs = 0;
  encodeParquetMs = 0;
  /** hashing, summed over the digest threads (or inline), set by the runner */
  readonly hash: DigestTiming = {ms: 0};
  private cpuAtStart: NodeJS.CpuUsage | undefined;
  private cpu: NodeJS.CpuUsage | undefined;

  /** Starts the process-CPU clock (before the model and the rows). */
  start(): void {
    this.cpuAtStart = process.cpuUsage();
  }

  /** Stops it (after the metadata is written). */
  stop(): void {
    if (!this.cpuAtStart) throw new Error('StageTimings.stop before start');
    this.cpu = process.cpuUsage(this.cpuAtStart);
  }

  report(rows: number): TimingsReport {
    if (!this.cpu) throw new Error('StageTimings.report before stop');
    const s = (ms: number) => ms / 1000;
    const total = s((this.cpu.user + this.cpu.system) / 1000);
    const encode = s(this.encodeTfrecordMs + this.encodeParquetMs);
    const cpuSeconds: StageSeconds = {
      draw: s(this.drawMs),
      encode,
      encodeTfrecord: s(this.encodeTfrecordMs),
      encodeParquet: s(this.encodeParquetMs),
      hash: s(this.hash.ms),
      write: Math.max(0, total - s(this.drawMs) - encode - s(this.hash.ms)),
      total,
      system: s(this.cpu.system / 1000),
    };
    const perMillion = Object.fromEntries(
      Object.entries(cpuSeconds).map(([k, v]) => [
        k,
        round3((v * 1e6) / Math.max(1, rows)),
      ]),
    ) as unknown as StageSeconds;
    const rounded = Object.fromEntries(
      Object.entries(cpuSeconds).map(([k, v]) => [k, round3(v)]),
    ) as unknown as StageSeconds;
    return {rows, cpuSeconds: rounded, cpuSecondsPerMillionRows: perMillion};
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
