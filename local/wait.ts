/** Readiness polling: probe until true, with a deadline and a clear error. */
import {readFileSync} from 'node:fs';
import {connect} from 'node:net';
import {setTimeout as sleep} from 'node:timers/promises';
import {LocalStackError} from './errors.js';
import type {ManagedProcess} from './process-group.js';
import {LOOPBACK} from './ports.js';

export interface WaitOptions {
  /** What is awaited, for the error message ("Pub/Sub emulator on 127.0.0.1:8085"). */
  what: string;
  timeoutMs: number;
  /** Pause between probes; default 100 ms. */
  intervalMs?: number;
  /** Fail at once if this process exits while waiting. */
  process?: ManagedProcess;
}

/** Polls `probe` until it returns true; throws LocalStackError on timeout or exit. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const proc = options.process;
  for (;;) {
    const status = proc?.exitStatus();
    if (proc && status) {
      throw new LocalStackError(
        `${options.what} exited before it was ready ` +
          `(code ${status.code}, signal ${status.signal})${tailOf(proc.logFile)}`,
        {logFile: proc.logFile},
      );
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() >= deadline) {
      throw new LocalStackError(
        `${options.what} was not ready after ${((Date.now() - started) / 1000).toFixed(1)} s` +
          (proc ? tailOf(proc.logFile) : ''),
        proc ? {logFile: proc.logFile} : {},
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** True when a GET of `url` answers 2xx within `timeoutMs`. */
export async function httpOk(url: string, timeoutMs = 2_000): Promise<boolean> {
  const res = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)});
  await res.body?.cancel();
  return res.ok;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function tcpOpen(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({host: LOOPBACK, port});
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The last lines of a log file, formatted to append to an error message. */
export function tailOf(logFile: string, lines = 15): string {
  try {
    const text = readFileSync(logFile, 'utf8').trimEnd();
    const tail = text.split('\n').slice(-lines).join('\n    ');
    return tail ? `; last lines of the log:\n    ${tail}\n` : '';
  } catch {
    return '';
  }
}
