/**
 * A worker for WorkerPool tests: squares numbers, fails on negatives, exits
 * on 13; for n >= 100 it says ready() and then waits 30 ms, as a shard does
 * while its files are flushed.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import {serveTasks} from '../../shared/parallel/serve-tasks.js';

let broadcasts = 0;
let running = 0;
serveTasks<
  number,
  {square: number; broadcasts: number; running: number},
  number
>(
  async (n, progress, ready) => {
    if (n < 0) throw new RangeError(`negative: ${n}`);
    if (n === 13) process.exit(3);
    running++;
    const seen = running;
    progress(n);
    if (n >= 100) {
      ready();
      await sleep(30);
    }
    running--;
    return {square: n * n, broadcasts, running: seen};
  },
  async () => {
    broadcasts++;
  },
);
