/** A worker for WorkerPool tests: squares numbers, fails on negatives, exits on 13. */
import {serveTasks} from '../../shared/parallel/serve-tasks.js';

let broadcasts = 0;
serveTasks<number, {square: number; broadcasts: number}, number>(
  async (n, progress) => {
    if (n < 0) throw new RangeError(`negative: ${n}`);
    if (n === 13) process.exit(3);
    progress(n);
    return {square: n * n, broadcasts};
  },
  async () => {
    broadcasts++;
  },
);
