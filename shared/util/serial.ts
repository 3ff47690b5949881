/**
 * A promise-chain mutex: tasks passed to it run one at a time, in call order; a task that fails
 * does not stop the ones after it.
 */
export interface Serial {
  <T>(task: () => Promise<T>): Promise<T>;
  /** Settles once every task asked for so far has settled. */
  idle(): Promise<void>;
}

export function serial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  const run = <T>(task: () => Promise<T>): Promise<T> => {
    const start = () => task();
    const next = tail.then(start, start);
    tail = next.catch(() => undefined);
    return next;
  };
  return Object.assign(run, { idle: () => tail.then(() => undefined) });
}
