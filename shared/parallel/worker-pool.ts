/**
 * A fixed number of worker threads that run a list of tasks, each worker one
 * task at a time, and hand back the results in task order. Workers report
 * progress while a task runs. The first failure stops handing out tasks;
 * `run` rejects with it once every running task has ended.
 */
import {Worker, type ResourceLimits} from 'node:worker_threads';
import type {TaskReply, TaskRequest} from './protocol.js';
import {WorkerTaskError} from '../errors.js';

/** Tasks a worker holds at once: one running, one finishing (see serveTasks' ready). */
export const MAX_OVERLAP = 2;

export class WorkerPool<Task, Result, Progress> {
  private readonly workers: Worker[];
  private closed = false;

  /** `workerData(i)` is what worker i gets as its workerData. */
  constructor(
    script: URL,
    size: number,
    workerData: (index: number) => unknown = () => undefined,
    /** V8 heap limits of each worker (see ThreadShardRunner) */
    resourceLimits?: ResourceLimits,
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `a worker pool needs at least 1 worker, got ${size}`,
      );
    }
    this.workers = Array.from(
      {length: size},
      (_, index) =>
        new Worker(script, {
          workerData: workerData(index),
          ...(resourceLimits ? {resourceLimits} : {}),
          stdout: false,
          stderr: false,
        }),
    );
  }

  get size(): number {
    return this.workers.length;
  }

  run(
    tasks: Task[],
    onProgress?: (task: number, progress: Progress) => void,
  ): Promise<Result[]> {
    const results = new Array<Result>(tasks.length);
    let next = 0;
    let running = 0;
    let failure: unknown;
    // Per worker: its tasks, and which of them said they only wait now.
    const active = new Map<Worker, Set<number>>();
    const waiting = new Map<Worker, Set<number>>();
    for (const worker of this.workers) {
      active.set(worker, new Set());
      waiting.set(worker, new Set());
    }
    return new Promise((resolve, reject) => {
      const finish = () => {
        if (running > 0) return;
        if (failure !== undefined) reject(failure);
        else if (next >= tasks.length) resolve(results);
      };
      /**
       * A worker takes a task when it has none, or (at most MAX_OVERLAP at
       * once) when every task it has only waits.
       */
      const offer = (worker: Worker) => {
        if (failure !== undefined || next >= tasks.length) return finish();
        const mine = active.get(worker) as Set<number>;
        const idle = waiting.get(worker) as Set<number>;
        if (mine.size >= MAX_OVERLAP || idle.size < mine.size) return;
        start(worker, mine, idle);
      };
      const start = (worker: Worker, mine: Set<number>, idle: Set<number>) => {
        const index = next++;
        running++;
        mine.add(index);
        const end = () => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          mine.delete(index);
          idle.delete(index);
          running--;
        };
        const onMessage = (reply: TaskReply<Result, Progress>) => {
          if (reply.kind === 'broadcast-done' || reply.task !== index) return;
          if (reply.kind === 'progress') {
            onProgress?.(index, reply.progress);
            return;
          }
          if (reply.kind === 'ready') {
            idle.add(index);
            return offer(worker);
          }
          end();
          if (reply.kind === 'done') results[index] = reply.result;
          else failure ??= new WorkerTaskError(reply.message, reply.name);
          offer(worker);
          finish();
        };
        const onError = (error: Error) => {
          end();
          failure ??= error;
          finish();
        };
        // a worker that ends without an answer (killed, out of memory)
        const onExit = (code: number) =>
          onError(
            new Error(`worker exited with code ${code} during task ${index}`),
          );
        worker.on('message', onMessage);
        worker.once('error', onError);
        worker.once('exit', onExit);
        worker.postMessage({
          kind: 'task',
          task: index,
          payload: tasks[index],
        } satisfies TaskRequest<Task>);
      };
      if (tasks.length === 0) return resolve(results);
      for (const worker of this.workers) offer(worker);
    });
  }

  /** Sends `message` to every worker and waits for each one's answer. */
  async broadcast(payload: unknown, timeoutMs = 60_000): Promise<void> {
    await Promise.all(
      this.workers.map(
        worker =>
          new Promise<void>(resolve => {
            const timer = setTimeout(done, timeoutMs);
            function done() {
              clearTimeout(timer);
              worker.off('message', onMessage);
              resolve();
            }
            const onMessage = (reply: TaskReply<Result, Progress>) => {
              if (reply.kind === 'broadcast-done') done();
            };
            worker.on('message', onMessage);
            worker.once('exit', done);
            worker.postMessage({
              kind: 'broadcast',
              payload,
            } satisfies TaskRequest<Task>);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map(w => w.terminate()));
  }
}
