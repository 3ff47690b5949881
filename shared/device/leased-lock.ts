/**
 * The device lock across pages, held as a lease (SPEC DV-19): a page that took the Web Lock keeps it
 * after its transaction, so its next transactions neither wait for the lock manager nor read the
 * head again to learn whether another page wrote (nobody else could have: DE-2). Another page that
 * wants the lock asks on a BroadcastChannel, again and again while it waits, and the holder lets go
 * as soon as its current transaction ends. A page also lets go when it is hidden (a frozen or
 * discarded background page must not keep the others waiting) and after a minute without a
 * transaction (a bound for a page that stops answering asks some other way; a visible page that
 * runs answers at once, so a longer hold costs the others nothing).
 *
 * The Web Lock alone keeps the pages' transactions apart; the messages only say when to let go, so
 * a lost or late message costs time, never correctness.
 */
import type { DeviceLock } from './rxdb-store.ts';

/** The part of the Web Locks API the lease uses (`navigator.locks`). */
export interface LockRequester {
  request(name: string, options: { mode: 'exclusive' }, callback: () => Promise<unknown>): Promise<unknown>;
}

/** The part of a BroadcastChannel the lease uses. */
export interface LeaseChannel {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** Whether the page is hidden, and a way to hear when that changes (`document`'s visibility). */
export interface PageVisibility {
  hidden(): boolean;
  onHidden(listener: () => void): void;
}

export interface LeaseOptions {
  readonly locks: LockRequester;
  /** The lock's name; the channel of the pages sharing it is opened by the caller under that name. */
  readonly name: string;
  readonly channel: LeaseChannel;
  readonly visibility?: PageVisibility;
  /** Let go after this long without a transaction (ms). */
  readonly idleMs?: number;
  /** How often a waiting page asks the holder again (ms). */
  readonly askEveryMs?: number;
}

const WANT = 'identity-sync:lock-wanted';

export function leasedLock(options: LeaseOptions): DeviceLock {
  const { locks, name, channel, visibility } = options;
  const idleMs = options.idleMs ?? 60_000;
  const askEveryMs = options.askEveryMs ?? 50;
  /** Ends the Web Lock's callback, which gives the lock back; `null` while not held. */
  let letGo: (() => void) | null = null;
  let running = false;
  let wanted = false;
  let idle: ReturnType<typeof setTimeout> | undefined;

  const release = () => {
    clearTimeout(idle);
    const end = letGo;
    letGo = null;
    wanted = false;
    end?.();
  };
  const releaseIfAsked = () => {
    if (letGo !== null && !running && (wanted || visibility?.hidden() === true)) release();
  };

  channel.addEventListener('message', (event) => {
    if (event.data !== WANT || letGo === null) return;
    wanted = true;
    releaseIfAsked();
  });
  visibility?.onHidden(releaseIfAsked);

  const acquire = () =>
    new Promise<void>((granted, failed) => {
      const ask = () => channel.postMessage(WANT);
      const asking = setInterval(ask, askEveryMs);
      locks
        .request(name, { mode: 'exclusive' }, () => {
          clearInterval(asking);
          wanted = false;
          return new Promise<void>((end) => {
            letGo = end;
            granted();
          });
        })
        .catch((error: unknown) => {
          clearInterval(asking);
          failed(error instanceof Error ? error : new Error(`the device lock was refused: ${String(error)}`));
        });
      ask();
    });

  return async (task) => {
    if (running) throw new Error('the device lock is not re-entrant');
    running = true;
    clearTimeout(idle);
    try {
      const unbroken = letGo !== null;
      if (!unbroken) await acquire();
      return await task(unbroken);
    } finally {
      running = false;
      releaseIfAsked();
      if (letGo !== null) idle = setTimeout(release, idleMs);
    }
  };
}
