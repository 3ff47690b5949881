/**
 * The group call behind PostgreSQL's touch batches and snapshot reads (SPEC PG-10, PG-14): items
 * go out at once while calls are free, wait while they are not, and go out together.
 */
import { describe, expect, it } from 'vitest';
import { GroupCall } from '../../../server/db/group-call.ts';

/** A call whose every invocation is held until released, recording the items it was given. */
function heldCalls() {
  const calls: { items: readonly number[]; release: (fail?: Error) => void }[] = [];
  const call = (items: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      calls.push({
        items,
        release: (fail) => (fail === undefined ? resolve(items.map((n) => `r${n}`)) : reject(fail)),
      });
    });
  return { calls, call };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCall', () => {
  it('[PG-10][PG-14] sends at once while fewer than inFlight calls run; the rest wait and go out together, at most maxBatch per call', async () => {
    const { calls, call } = heldCalls();
    const group = new GroupCall(2, 3, call);
    const results = [1, 2, 3, 4, 5, 6, 7].map((n) => group.submit(n));
    await turn();
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    calls[0]?.release();
    await turn();
    expect(calls.map((c) => c.items)).toEqual([[1], [2], [3, 4, 5]]);
    calls[1]?.release();
    await turn();
    expect(calls.map((c) => c.items)).toEqual([[1], [2], [3, 4, 5], [6, 7]]);
    calls[2]?.release();
    calls[3]?.release();
    expect(await Promise.all(results)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7']);
  });

  it('a call that fails fails each of its items with its error, and the next call still goes out', async () => {
    const { calls, call } = heldCalls();
    const group = new GroupCall(1, 10, call);
    const first = group.submit(1);
    const waiting = [group.submit(2), group.submit(3)].map((p) => p.catch((error: unknown) => error));
    const last = group.submit(4);
    await turn();
    calls[0]?.release();
    await turn();
    expect(calls[1]?.items).toEqual([2, 3, 4]);
    const failure = new Error('the call failed');
    calls[1]?.release(failure);
    expect(await first).toBe('r1');
    expect(await Promise.all(waiting)).toEqual([failure, failure]);
    await expect(last).rejects.toBe(failure);
    const after = group.submit(5);
    await turn();
    calls[2]?.release();
    expect(await after).toBe('r5');
  });
});
