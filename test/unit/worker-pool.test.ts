import assert from 'node:assert/strict';
import {describe, it} from 'node:test';
import {WorkerPool} from '../../shared/parallel/worker-pool.js';
import {WorkerTaskError} from '../../shared/errors.js';

const SCRIPT = new URL('../support/square-worker.js', import.meta.url);

describe('WorkerPool', () => {
  it('runs every task once, results in task order, with progress', async () => {
    const pool = new WorkerPool<number, {square: number}, number>(SCRIPT, 3);
    try {
      const progress: number[] = [];
      const tasks = Array.from({length: 12}, (_, i) => i); // 13 would exit
      const results = await pool.run(tasks, (task, p) => {
        assert.equal(p, task);
        progress.push(task);
      });
      assert.deepEqual(
        results.map(r => r.square),
        tasks.map(n => n * n),
      );
      assert.deepEqual(
        progress.sort((a, b) => a - b),
        tasks,
      );
    } finally {
      await pool.close();
    }
  });

  it('rejects with the failing task error, and broadcasts reach every worker', async () => {
    const pool = new WorkerPool<
      number,
      {square: number; broadcasts: number},
      number
    >(SCRIPT, 2);
    try {
      await assert.rejects(
        pool.run([1, 2, -5, 4]),
        (error: unknown) =>
          error instanceof WorkerTaskError &&
          error.errorName === 'RangeError' &&
          error.message === 'negative: -5',
      );
      await pool.broadcast('abort');
      const after = await pool.run([7, 8]);
      assert.deepEqual(
        after.map(r => r.broadcasts),
        [1, 1],
      );
    } finally {
      await pool.close();
    }
  });

  it('hands a worker its next task once the current one says it only waits', async () => {
    const pool = new WorkerPool<
      number,
      {square: number; running: number},
      number
    >(SCRIPT, 1);
    try {
      const tasks = [100, 101, 102, 103, 104, 105];
      const results = await pool.run(tasks);
      assert.deepEqual(
        results.map(r => r.square),
        tasks.map(n => n * n),
      );
      // a task started while the one before was still finishing, never more than two at once
      const overlap = results.map(r => r.running);
      assert.equal(overlap[0], 1);
      assert.equal(overlap[1], 2);
      assert.ok(
        overlap.every(n => n <= 2),
        overlap.join(),
      );
    } finally {
      await pool.close();
    }
  });

  it('rejects when a worker exits in the middle of a task', async () => {
    const pool = new WorkerPool<number, {square: number}, number>(SCRIPT, 1);
    try {
      await assert.rejects(
        pool.run([2, 13, 3]),
        /worker exited with code 3 during task 1/,
      );
    } finally {
      await pool.close();
    }
  });
});
