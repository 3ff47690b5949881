import { useEffect, useState } from 'react';
import type { Observable } from 'rxjs';

/**
 * The latest value of an observable, `initial` until it emits. The source must be stable across
 * renders (a field, or memoised with `useMemo`): a new observable each render would resubscribe
 * and, for RxDB-backed ones, re-run the query every time.
 */
export function useObservable<T>(source: Observable<T>, initial: T): T {
  const [latest, setLatest] = useState<{ source: Observable<T>; value: T }>({ source, value: initial });
  useEffect(() => {
    const subscription = source.subscribe((value) => setLatest({ source, value }));
    return () => subscription.unsubscribe();
  }, [source]);
  return latest.source === source ? latest.value : initial;
}
