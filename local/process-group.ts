/**
 * Child processes of the local stack: each runs in its own process group
 * (gcloud's emulators are a Python wrapper with a Java child), writes
 * stdout and stderr to its own log file, and is stopped as a whole group:
 * SIGTERM, then SIGKILL after a grace period.
 *
 * Whatever happens to the parent, no group is left behind: groups still
 * alive get SIGKILL when the parent exits, and SIGINT/SIGTERM/SIGHUP kill
 * them too when nobody else handles those signals (a CLI that does, like
 * local/start.ts, stops the stack gracefully itself). Should the parent die
 * without running any handler (SIGKILL, OOM killer), a reaper (a small bash
 * loop in its own group, holding a pipe from the parent) sees the pipe close
 * and stops every group the parent registered with it.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {closeSync, fstatSync, openSync, writeSync} from 'node:fs';
import {setTimeout as sleep} from 'node:timers/promises';
import {constants} from 'node:os';
import {LocalStackError} from './errors.js';
import {processTable, type ProcEntry} from './proc-table.js';

export interface SpawnOptions {
  /** Short name used in messages, e.g. "pubsub-emulator". */
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Receives stdout and stderr (appended). */
  logFile: string;
  cwd?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  /** Pid of the group leader, which is also the process group id. */
  readonly pid: number;
  readonly logFile: string;
  /** Size of the log file before this process wrote to it (the file is appended to across restarts). */
  readonly logOffset: number;
  /** Settles when the group leader exits. */
  readonly exited: Promise<ExitStatus>;
  /** The leader's exit status, or undefined while it runs. */
  exitStatus(): ExitStatus | undefined;
  /** Stops the whole group; resolves when none of its processes is left. */
  stop(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 5_000;
const KILL_WAIT_MS = 3_000;

/** Process groups started here and not yet seen stopped. */
const liveGroups = new Set<number>();
let hooksInstalled = false;

export function spawnInGroup(options: SpawnOptions): ManagedProcess {
  installExitHooks();
  const fd = openSync(options.logFile, 'a', 0o600);
  let child;
  let logOffset = 0;
  try {
    logOffset = fstatSync(fd).size;
    writeSync(
      fd,
      `# ${new Date().toISOString()} $ ${options.command} ${options.args.join(' ')}\n`,
    );
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true, // setsid(): a new session and process group
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    child.on('error', () => {}); // reported below instead
    throw new LocalStackError(
      `could not start ${options.name}: ${options.command} was not found or is not executable`,
      {logFile: options.logFile},
    );
  }
  liveGroups.add(pid);
  tellReaper(`+${pid}`);
  child.unref(); // never keeps the parent alive; the exit hook kills it
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>(resolve => {
    child.on('exit', (code, signal) => {
      status = {code, signal};
      resolve(status);
    });
  });
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    logOffset,
    exited,
    exitStatus: () => status,
    stop: (graceMs = DEFAULT_GRACE_MS) =>
      stopGroup(pid, options.name, options.logFile, graceMs),
  };
}

/** Pids of the group's processes that still run (zombies do not count). */
export function groupMembers(pgid: number): number[] {
  let table: Map<number, ProcEntry>;
  try {
    table = processTable();
  } catch {
    // No procfs: fall back to the kernel's answer, zombies included.
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  return [...table.values()].filter(p => p.pgid === pgid).map(p => p.pid);
}

/** Process groups started by this module that have not been stopped. */
export function startedGroups(): number[] {
  return [...liveGroups].filter(pgid => groupMembers(pgid).length > 0);
}

async function stopGroup(
  pgid: number,
  name: string,
  logFile: string,
  graceMs: number,
): Promise<void> {
  if (await signalAndWait(pgid, 'SIGTERM', graceMs)) return forget(pgid);
  if (await signalAndWait(pgid, 'SIGKILL', KILL_WAIT_MS)) return forget(pgid);
  throw new LocalStackError(
    `${name} (process group ${pgid}) is still running after SIGKILL: ` +
      `pids ${groupMembers(pgid).join(', ')}`,
    {logFile},
  );
}

/** Signals the group; true once no member is left within waitMs. */
async function signalAndWait(
  pgid: number,
  signal: NodeJS.Signals,
  waitMs: number,
): Promise<boolean> {
  if (groupMembers(pgid).length === 0) return true;
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw err;
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (groupMembers(pgid).length === 0) return true;
  }
  return groupMembers(pgid).length === 0;
}

/**
 * Stops every group started by this module (SIGTERM, then SIGKILL): for a
 * signal that arrives while a stack is still starting.
 */
export async function stopAllGroups(graceMs = DEFAULT_GRACE_MS): Promise<void> {
  await Promise.allSettled(
    [...liveGroups].map(async pgid => {
      if (await signalAndWait(pgid, 'SIGTERM', graceMs)) return forget(pgid);
      await signalAndWait(pgid, 'SIGKILL', KILL_WAIT_MS);
      return forget(pgid);
    }),
  );
}

/** The group is gone: neither the exit hook nor the reaper may signal it again. */
function forget(pgid: number): void {
  liveGroups.delete(pgid);
  tellReaper(`-${pgid}`);
}

function killAllNow(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else (e.g. the CLI) handles this signal and stops the stack.
  if (process.listenerCount(signal) > 1) return;
  killAllNow();
  process.exit(128 + (constants.signals[signal] ?? 1));
}

/**
 * The reaper: stops the registered groups once its stdin (a pipe from this
 * process) closes, i.e. when this process is gone, however it ended.
 * `+PGID` registers a group, `-PGID` forgets it. It writes nothing.
 */
const REAPER_SCRIPT = `
declare -A groups
while IFS= read -r line; do
  case "$line" in
    +*) groups[\${line#+}]=1 ;;
    -*) unset "groups[\${line#-}]" ;;
  esac
done
alive=()
for g in "\${!groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null && alive+=("$g"); done
[ \${#alive[@]} -eq 0 ] && exit 0
sleep 3
for g in "\${alive[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
exit 0
`;

let reaper: ChildProcess | undefined;

function tellReaper(line: string): void {
  if (process.env.LOCAL_STACK_NO_REAPER === '1') return;
  if (!reaper) {
    reaper = spawn('bash', ['-c', REAPER_SCRIPT], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    reaper.on('error', () => {}); // no bash: the exit hooks still cover normal exits
    reaper.stdin?.on('error', () => {});
    reaper.unref();
    (reaper.stdin as unknown as {unref?: () => void} | null)?.unref?.();
  }
  reaper.stdin?.write(`${line}\n`);
}

/** Pid of the reaper, once one runs (for tests). */
export function reaperPid(): number | undefined {
  return reaper?.pid;
}

/**
 * Calls `onDeath` once when this process's parent is gone (it is reparented:
 * the parent pid changes), checking every `intervalMs`. For a foreground CLI
 * whose parent (npm, a shell) may die without passing a signal on.
 */
export function watchParent(
  onDeath: () => void,
  intervalMs = 1_000,
): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onDeath();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, onSignal);
  }
}
