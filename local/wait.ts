/** Readiness polling: probe until true, with a deadline and a clear error. */
import {closeSync, openSync, readFileSync, readSync} from 'node:fs';
import {connect} from 'node:net';
import {setTimeout as sleep} from 'node:timers/promises';
import {LocalStackError, ExitedEarlyError, PortInUseError} from './errors.js';
import {portOwner} from './listeners.js';
import type {ManagedProcess} from './process-group.js';
import {LOOPBACK} from './ports.js';

/**
 * What a child writes when its port is taken: the JVM's BindException
 * (the Pub/Sub emulator logs it and stays alive), Go's and Node's wording.
 */
export const PORT_IN_USE =
  /BindException|Address already in use|address already in use|EADDRINUSE/;

export interface WaitOptions {
  /** What is awaited, for the error message ("Pub/Sub emulator on 127.0.0.1:8085"). */
  what: string;
  timeoutMs: number;
  /** Pause between probes; default 100 ms. */
  intervalMs?: number;
  /** Fail at once if this process exits while waiting. */
  process?: ManagedProcess;
  /**
   * The port `process` must listen on: waiting fails with PortInUseError as
   * soon as its log says the port is taken, and readiness counts only once
   * the listener on the port is one of the process group's own.
   */
  port?: number;
}

/** Polls `probe` until it returns true; throws LocalStackError on timeout or exit. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const proc = options.process;
  const port = options.port;
  for (;;) {
    const status = proc?.exitStatus();
    if (proc && port !== undefined) {
      const line = logLineMatching(proc, PORT_IN_USE);
      if (line !== undefined) {
        throw new PortInUseError(options.what, port, line, proc.logFile);
      }
    }
    if (proc && status) {
      throw new ExitedEarlyError(
        `${options.what} exited before it was ready ` +
          `(code ${status.code}, signal ${status.signal})${tailOf(proc.logFile, 15, proc.logOffset)}`,
        proc.logFile,
      );
    }
    if (await probe().catch(() => false)) {
      if (!proc || port === undefined) return;
      const owner = portOwner(port, proc.pid);
      if (owner === 'group' || owner === 'unknown') return;
      if (owner === 'other') {
        throw new PortInUseError(
          options.what,
          port,
          'a process outside its group answers there',
          proc.logFile,
        );
      }
      // 'nobody': the probe raced a listener going away; probe again.
    }
    if (Date.now() >= deadline) {
      throw new LocalStackError(
        `${options.what} was not ready after ${((Date.now() - started) / 1000).toFixed(1)} s` +
          (proc ? tailOf(proc.logFile, 15, proc.logOffset) : ''),
        proc ? {logFile: proc.logFile} : {},
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}

/** The first line of what `proc` wrote to its log that matches `pattern`. */
export function logLineMatching(
  proc: ManagedProcess,
  pattern: RegExp,
): string | undefined {
  let text: string;
  try {
    const fd = openSync(proc.logFile, 'r');
    try {
      const buffer = Buffer.alloc(256 * 1024);
      const n = readSync(fd, buffer, 0, buffer.length, proc.logOffset);
      text = buffer.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  return text
    .split('\n')
    .find(line => pattern.test(line))
    ?.trim();
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
export function tailOf(logFile: string, lines = 15, fromByte = 0): string {
  try {
    const text = readFileSync(logFile)
      .subarray(fromByte)
      .toString('utf8')
      .trimEnd();
    const tail = text.split('\n').slice(-lines).join('\n    ');
    return tail ? `; last lines of the log:\n    ${tail}\n` : '';
  } catch {
    return '';
  }
}
