import { startTransition, useEffect, useState } from 'react';
import type { Observable } from 'rxjs';

/**
 * The latest value of an observable, `initial` until it emits. The source must be stable across
 * renders (a field, or memoised with `useMemo`): a new observable each render would resubscribe
 * and, for RxDB-backed ones, re-run the query every time.
 */
export function useObservable<T>(source: Observable<T>, initial: T): T {
  return useLatest(source, initial, false);
}

/**
 * Like `useObservable`, but each new value renders as a transition: React paints urgent updates
 * first (the current person after a login) and may interrupt this render for them. For views whose
 * update can wait a frame, such as the people list (UP-2).
 */
export function useObservableInTransition<T>(source: Observable<T>, initial: T): T {
  return useLatest(source, initial, true);
}

function useLatest<T>(source: Observable<T>, initial: T, transition: boolean): T {
  const [latest, setLatest] = useState<{ source: Observable<T>; value: T }>({ source, value: initial });
  useEffect(() => {
    const subscription = source.subscribe((value) =>
      transition ? startTransition(() => setLatest({ source, value })) : setLatest({ source, value }),
    );
    return () => subscription.unsubscribe();
  }, [source, transition]);
  return latest.source === source ? latest.value : initial;
}
