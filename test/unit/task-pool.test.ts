import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TaskPool } from '../../lambdas/services/concurrency';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
};

test('never more than the limit in flight, and run() returns as soon as a task has started', async () => {
  const pool = new TaskPool(2);
  const gates = [deferred(), deferred(), deferred()];
  let running = 0;
  let maxRunning = 0;
  const started: number[] = [];
  const task = (index: number) => async () => {
    started.push(index);
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await gates[index]!.promise;
    running -= 1;
  };
  await pool.run(task(0));
  await pool.run(task(1));
  // Both started although neither finished: the caller was free to go on.
  assert.deepEqual(started, [0, 1]);
  const third = pool.run(task(2));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, [0, 1], 'the third waits for a free slot');
  gates[0]!.resolve();
  await third;
  assert.deepEqual(started, [0, 1, 2]);
  gates[1]!.resolve();
  gates[2]!.resolve();
  assert.deepEqual(await pool.drain(), []);
  assert.equal(maxRunning, 2);
});

test('every task is attempted; drain() returns the failures instead of throwing', async () => {
  const pool = new TaskPool(3);
  const attempted: number[] = [];
  for (let index = 0; index < 5; index += 1) {
    await pool.run(async () => {
      attempted.push(index);
      if (index % 2 === 1) throw new Error(`task ${index}`);
    });
  }
  const failures = await pool.drain();
  assert.deepEqual(attempted.sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(failures.map((error) => (error as Error).message).sort(), ['task 1', 'task 3']);
});

test('a limit that is not a positive integer is refused with its value', () => {
  assert.throws(() => new TaskPool(0), /0/);
  assert.throws(() => new TaskPool(1.5), /1\.5/);
});
