/** Messages between a WorkerPool and its workers. */
export type TaskRequest<Task> =
  | {kind: 'task'; task: number; payload: Task}
  | {kind: 'broadcast'; payload: unknown};

export type TaskReply<Result, Progress> =
  | {kind: 'progress'; task: number; progress: Progress}
  /** the task is finishing (e.g. flushing files): the worker can start another */
  | {kind: 'ready'; task: number}
  | {kind: 'done'; task: number; result: Result}
  | {kind: 'failed'; task: number; message: string; name: string}
  | {kind: 'broadcast-done'};
