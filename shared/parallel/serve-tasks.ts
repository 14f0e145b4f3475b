/**
 * The worker side of a WorkerPool: runs each task it is sent with `handler`
 * and answers with its result, its error, or progress on the way.
 */
import {parentPort} from 'node:worker_threads';
import type {TaskReply, TaskRequest} from './protocol.js';

export function serveTasks<Task, Result, Progress>(
  /** `ready()`: this task only waits now; the pool may send the next one */
  handler: (
    task: Task,
    progress: (p: Progress) => void,
    ready: () => void,
  ) => Promise<Result>,
  onBroadcast: (payload: unknown) => Promise<void> = async () => undefined,
  transferOf: (result: Result) => ArrayBuffer[] = () => [],
): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks must run in a worker thread');
  const reply = (
    message: TaskReply<Result, Progress>,
    transfer: ArrayBuffer[] = [],
  ) => port.postMessage(message, transfer);
  port.on('message', (request: TaskRequest<Task>) => {
    if (request.kind === 'broadcast') {
      void onBroadcast(request.payload)
        .catch(() => undefined)
        .then(() => reply({kind: 'broadcast-done'}));
      return;
    }
    const task = request.task;
    handler(
      request.payload,
      progress => reply({kind: 'progress', task, progress}),
      () => reply({kind: 'ready', task}),
    ).then(
      result => reply({kind: 'done', task, result}, transferOf(result)),
      (error: unknown) =>
        reply({
          kind: 'failed',
          task,
          message: error instanceof Error ? error.message : String(error),
          name: error instanceof Error ? error.name : 'Error',
        }),
    );
  });
}
