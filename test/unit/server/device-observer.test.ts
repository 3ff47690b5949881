/**
 * The device log's observer of identity-store writes (SPEC SS-7): profiles whose device view
 * changed go on the change feed; last-seen times alone are not sent to devices, which is what lets
 * PostgreSQL write them without announcing them (PG-7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../../server/db/connect.ts';
import { deviceLogObserver } from '../../../server/db/device-observer.ts';
import { SqlTexts } from '../../../server/db/sql-statements.ts';
import type { WriteSet } from '../../../shared/resolver/store-port.ts';

const write = (changes: WriteSet['changes']): WriteSet => ({ changes, history: [], request: null });

/** The statements the observer would run for a write set. */
function statementsFor(handle: DatabaseHandle, written: WriteSet): unknown[] {
  const run = deviceLogObserver(new SqlTexts(handle.db, handle.dialect)).committed(written);
  const sent: unknown[] = [];
  for (let step = run.next(); !step.done; step = run.next(0)) sent.push(step.value);
  return sent;
}

describe('device log observer (SS-7, PG-7)', () => {
  let handle: DatabaseHandle;
  beforeAll(async () => {
    handle = await openDatabase({ target: ':memory:' });
  });
  afterAll(async () => handle.close());

  it('[SS-7][PG-7] a write set of last-seen times alone runs no statement', () => {
    const touches = write([
      { op: 'updateProfile', mpid: '1', patch: { lastSeenAt: 5 } },
      { op: 'updateProfile', mpid: '2', patch: { lastSeenAt: 6 } },
    ]);
    expect(statementsFor(handle, touches)).toEqual([]);
  });

  it('[SS-7] a change a device sees puts the profile on the change feed', () => {
    const added = write([
      { op: 'updateProfile', mpid: '1', patch: { lastSeenAt: 5 } },
      { op: 'addIdentity', mpid: '1', identityType: 'email', value: 'a@x.io', unique: true },
    ]);
    expect(statementsFor(handle, added)).toHaveLength(1);
  });
});
