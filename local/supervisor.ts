/**
 * Keeps the local stack's children running. A child that fails to start
 * because its port was taken (seen at once: it exits, or logs
 * "Address already in use", or another process answers on the port) is
 * started again on a fresh port. A child that dies later is restarted on
 * the same port, so that whoever talks to it finds it again; if that port
 * has been taken meanwhile, on a fresh one, and its `moved` hook restarts
 * or repoints whatever depends on it. Restarts are bounded: past
 * `maxRestarts` within `windowMs` the child is left down and that is logged.
 *
 * Recoveries run one at a time, in the order the exits were seen.
 */
import {EventEmitter} from 'node:events';
import {setTimeout as sleep} from 'node:timers/promises';
import {LocalStackError, ExitedEarlyError, PortInUseError} from './errors.js';
import {freePort} from './ports.js';
import type {ExitStatus, ManagedProcess} from './process-group.js';

export interface ChildSpec {
  /** Short name used in messages, e.g. "firestore-emulator". */
  name: string;
  /**
   * Starts the child on `port` and resolves once it serves there. On failure
   * it stops what it started and rejects (PortInUseError when the port was
   * taken).
   */
  start(port: number): Promise<ManagedProcess>;
  /** The port to use; 0 or undefined: a free one. A given port never moves. */
  port?: number;
  /** After a restart moved the child to another port: repoint or restart its users. */
  moved?(port: number): Promise<void>;
  /** After every restart (on the same port or not), e.g. re-create state the child lost. */
  restarted?(port: number): Promise<void>;
  /** Before the child is stopped for good (e.g. save its data). */
  beforeStop?(): Promise<void>;
}

export type ChildState = 'running' | 'restarting' | 'failed' | 'stopped';

export interface SupervisedChild {
  readonly name: string;
  readonly port: number;
  readonly process: ManagedProcess;
  readonly state: ChildState;
  /** Restarts after an unexpected exit, in all. */
  readonly restarts: number;
}

export interface RestartEvent {
  name: string;
  /** What ended the previous process. */
  exit: ExitStatus;
  port: number;
  /** True when the child now listens on another port than before. */
  moved: boolean;
  /** From the exit being seen to the child (and its hooks) being ready again. */
  ms: number;
}

export interface SupervisorOptions {
  /** Restarts allowed per child within `windowMs`; default 5. */
  maxRestarts?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Tries per start (fresh ports after a taken one); default 3. */
  startAttempts?: number;
  /** One line per exit, restart and give-up; default none. */
  log?: (line: string) => void;
  /** Where fresh ports come from; default freePort (get-port). */
  freePort?: () => Promise<number>;
}

interface Child {
  spec: ChildSpec;
  name: string;
  port: number;
  fixedPort: boolean;
  process: ManagedProcess;
  state: ChildState;
  restarts: number;
  /** Times of recent unexpected exits, for the budget. */
  recentExits: number[];
}

/**
 * Events: 'restarted' (RestartEvent), 'gave-up' ({name, reason}).
 */
export class Supervisor extends EventEmitter {
  private readonly children = new Map<string, Child>();
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly startAttempts: number;
  private readonly log: (line: string) => void;
  private readonly freePort: () => Promise<number>;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: SupervisorOptions = {}) {
    super();
    this.maxRestarts = options.maxRestarts ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.startAttempts = options.startAttempts ?? 3;
    this.log = options.log ?? (() => {});
    this.freePort = options.freePort ?? freePort;
  }

  /** Starts a child (on fresh ports while its port is taken) and watches it. */
  async add(spec: ChildSpec): Promise<SupervisedChild> {
    if (this.children.has(spec.name)) {
      throw new LocalStackError(`${spec.name} is supervised already`);
    }
    const fixedPort = Boolean(spec.port);
    const first = fixedPort ? spec.port! : await this.freePort();
    const {process, port} = await this.startOn(spec, first, fixedPort);
    const child: Child = {
      spec,
      name: spec.name,
      port,
      fixedPort,
      process,
      state: 'running',
      restarts: 0,
      recentExits: [],
    };
    this.children.set(spec.name, child);
    this.watch(child, process);
    return this.view(child);
  }

  /** The child's current state (a live view). */
  child(name: string): SupervisedChild {
    const child = this.children.get(name);
    if (!child) throw new LocalStackError(`no supervised child ${name}`);
    return this.view(child);
  }

  names(): string[] {
    return [...this.children.keys()];
  }

  /** Resolves once no recovery is running or queued. */
  async settled(): Promise<void> {
    for (;;) {
      const current = this.queue;
      await current;
      if (current === this.queue) return;
    }
  }

  /**
   * Stops and starts a child on purpose, on the same port if it is still
   * free (for a dependency that moved). Meant for `moved`/`restarted` hooks,
   * which run inside a recovery: it does not wait for the queue.
   */
  async restart(name: string): Promise<void> {
    const child = this.children.get(name);
    if (!child || this.closed || child.state === 'stopped') return;
    child.state = 'restarting';
    const old = child.process;
    await old.stop();
    const before = child.port;
    await this.bringBack(child);
    this.log(
      `${name} restarted on purpose (port ${before}${child.port === before ? '' : ` -> ${child.port}`})`,
    );
  }

  /** Stops one child for good (its beforeStop first); no restart follows. */
  async stop(name: string): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.state === 'stopped') return;
    const wasRunning = child.state === 'running';
    child.state = 'stopped';
    try {
      if (wasRunning) await child.spec.beforeStop?.();
    } finally {
      await child.process.stop();
    }
  }

  /** No more restarts from now on (the stack is stopping). */
  close(): void {
    this.closed = true;
  }

  private view(child: Child): SupervisedChild {
    return {
      get name() {
        return child.name;
      },
      get port() {
        return child.port;
      },
      get process() {
        return child.process;
      },
      get state() {
        return child.state;
      },
      get restarts() {
        return child.restarts;
      },
    };
  }

  private watch(child: Child, process: ManagedProcess): void {
    void process.exited.then(exit => {
      if (this.closed || child.process !== process) return;
      if (child.state !== 'running') return; // stopped or restarted on purpose
      this.log(
        `${child.name} (pid ${process.pid}, port ${child.port}) exited: code ${exit.code}, signal ${exit.signal}`,
      );
      child.state = 'restarting';
      this.queue = this.queue.then(() =>
        this.recover(child, exit).catch(err => {
          child.state = 'failed';
          this.log(
            `${child.name}: could not be restarted: ${(err as Error).message}`,
          );
          this.emit('gave-up', {name: child.name, reason: String(err)});
        }),
      );
    });
  }

  private async recover(child: Child, exit: ExitStatus): Promise<void> {
    if (this.closed || child.state === 'stopped') return;
    const seen = Date.now();
    child.recentExits = child.recentExits.filter(t => seen - t < this.windowMs);
    if (child.recentExits.length >= this.maxRestarts) {
      child.state = 'failed';
      const reason = `${child.recentExits.length} restarts within ${this.windowMs / 1000} s; left down`;
      this.log(`${child.name}: GAVE UP after ${reason}`);
      this.emit('gave-up', {name: child.name, reason});
      return;
    }
    child.recentExits.push(seen);
    child.restarts++;
    const before = child.port;
    await this.bringBack(child);
    const event: RestartEvent = {
      name: child.name,
      exit,
      port: child.port,
      moved: child.port !== before,
      ms: Date.now() - seen,
    };
    this.log(
      `${child.name} restarted (pid ${child.process.pid}, port ${child.port}${event.moved ? `, moved from ${before}` : ''}) in ${event.ms} ms; ` +
        `${child.recentExits.length}/${this.maxRestarts} restarts in the last ${this.windowMs / 1000} s`,
    );
    this.emit('restarted', event);
  }

  /** Starts the child again (same port first), runs its hooks, watches it. */
  private async bringBack(child: Child): Promise<void> {
    const before = child.port;
    const {process, port} = await this.startOn(
      child.spec,
      before,
      child.fixedPort,
    );
    if (this.closed || child.state === 'stopped') {
      await process.stop();
      return;
    }
    child.process = process;
    child.port = port;
    child.state = 'running';
    this.watch(child, process);
    if (port !== before) await child.spec.moved?.(port);
    await child.spec.restarted?.(port);
  }

  /**
   * Starts on `port`; when the port was taken, or the child exited before
   * it was ready (a bind failure worded in a way we do not match, or a
   * crash), again, on a fresh port unless the port is fixed. A child that
   * just does not get ready in time is not tried again.
   */
  private async startOn(
    spec: ChildSpec,
    port: number,
    fixedPort: boolean,
  ): Promise<{process: ManagedProcess; port: number}> {
    for (let attempt = 1; ; attempt++) {
      try {
        return {process: await spec.start(port), port};
      } catch (err) {
        const retry =
          err instanceof PortInUseError || err instanceof ExitedEarlyError;
        if (this.closed || !retry || attempt >= this.startAttempts) throw err;
        if (!fixedPort) port = await this.freePort();
        this.log(
          `${spec.name}: ${(err as Error).message.split('\n')[0]}; trying again on port ${port}`,
        );
        await sleep(100 * attempt);
      }
    }
  }
}
