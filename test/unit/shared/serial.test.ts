/**
 * The one serial-queue utility (SPEC SS-5): order, no overlap, and error isolation.
 */
import { describe, expect, it } from 'vitest';
import { serial } from '../../../shared/util/serial.ts';

/** A promise settled from outside, to control when each task finishes. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('serial', () => {
  it('[SS-5] tasks run one at a time, in call order, whatever order they would finish in', async () => {
    const queue = serial();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const done = gates.map((gate, i) =>
      queue(async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await settle();
    expect(log).toEqual(['start 0']);
    gates[2]?.resolve();
    gates[1]?.resolve();
    await settle();
    expect(log).toEqual(['start 0']);
    gates[0]?.resolve();
    expect(await Promise.all(done)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('[SS-5] a task that rejects or throws fails alone: its caller sees the error, later tasks still run', async () => {
    const queue = serial();
    const failing = queue(() => Promise.reject(new Error('boom')));
    const throwing = queue(() => {
      throw new Error('sync boom');
    });
    const after = queue(() => Promise.resolve('still runs'));
    await expect(failing).rejects.toThrow('boom');
    await expect(throwing).rejects.toThrow('sync boom');
    expect(await after).toBe('still runs');
    expect(await queue(() => Promise.resolve(1))).toBe(1);
  });

  it('[SS-5] idle() settles once every task asked for so far has settled, failed ones included', async () => {
    const queue = serial();
    const gate = deferred();
    const first = queue(() => gate.promise.then(() => Promise.reject(new Error('late failure'))));
    first.catch(() => undefined);
    let idle = false;
    const waiting = queue.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    gate.resolve();
    await waiting;
    expect(idle).toBe(true);
    await expect(first).rejects.toThrow('late failure');
  });

  it('[SS-5] separate queues do not wait for each other', async () => {
    const a = serial();
    const b = serial();
    const gate = deferred();
    const blocked = a(() => gate.promise);
    expect(await b(() => Promise.resolve('b ran'))).toBe('b ran');
    gate.resolve();
    await blocked;
  });
});
