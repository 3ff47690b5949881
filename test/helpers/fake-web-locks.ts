/**
 * Pages of one origin, in one process, for the device lock's tests: a lock manager that grants an
 * exclusive lock to one callback at a time in the order asked (as the Web Locks API does), and
 * BroadcastChannels between the pages whose messages arrive on a later turn, or are lost on demand.
 */
import type { LeaseChannel, LockRequester, PageVisibility } from '../../shared/device/leased-lock.ts';
import { serial } from '../../shared/util/serial.ts';

export class FakeLockManager implements LockRequester {
  /** How many times the lock was asked for. */
  requests = 0;
  private readonly queue = serial();

  request(
    _name: string,
    _options: { mode: 'exclusive' },
    callback: () => Promise<unknown>,
  ): Promise<unknown> {
    this.requests += 1;
    return this.queue(callback);
  }
}

export class FakeChannels {
  private readonly members: { listener: (event: { data: unknown }) => void }[] = [];
  /** Messages to lose before delivering again. */
  lose = 0;
  delivered = 0;

  open(): LeaseChannel {
    const self = { listener: (_event: { data: unknown }) => undefined as void };
    this.members.push(self);
    return {
      postMessage: (data) => {
        if (this.lose > 0) {
          this.lose -= 1;
          return;
        }
        for (const member of this.members) {
          if (member === self) continue;
          setTimeout(() => {
            this.delivered += 1;
            member.listener({ data });
          }, 0);
        }
      },
      addEventListener: (_type, listener) => {
        self.listener = listener;
      },
    };
  }
}

/** A page's visibility the test sets. */
export class FakeVisibility implements PageVisibility {
  private isHidden = false;
  private readonly listeners: (() => void)[] = [];

  hidden(): boolean {
    return this.isHidden;
  }

  onHidden(listener: () => void): void {
    this.listeners.push(listener);
  }

  set(hidden: boolean): void {
    this.isHidden = hidden;
    if (hidden) for (const listener of this.listeners) listener();
  }
}
