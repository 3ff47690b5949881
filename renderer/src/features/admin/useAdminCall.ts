import { useEffect, useState } from 'react';
import type { AdminFailure, AdminResult } from './admin-api.ts';
import { useAdmin } from './AdminContext.tsx';

export type CallState<T> =
  | { readonly status: 'loading' }
  | { readonly status: 'failed'; readonly failure: AdminFailure }
  | { readonly status: 'done'; readonly value: T };

/**
 * Runs an admin API read whenever `key` changes (and on `reload`), giving loading, failed or done.
 * A 401 also ends the session (the console then shows the sign-in form with the reason).
 */
export function useAdminCall<T>(
  key: string | null,
  load: () => Promise<AdminResult<T>>,
): { state: CallState<T>; reload: () => void } {
  const { sessions } = useAdmin();
  const [round, setRound] = useState(0);
  const [answer, setAnswer] = useState<{ key: string; state: CallState<T> } | null>(null);
  const fullKey = key === null ? null : `${key}#${round}`;
  useEffect(() => {
    if (fullKey === null) return;
    let live = true;
    void load().then((result) => {
      if (!live) return;
      if (!result.ok) sessions.refused(result.error);
      setAnswer({
        key: fullKey,
        state: result.ok
          ? { status: 'done', value: result.value }
          : { status: 'failed', failure: result.error },
      });
    });
    return () => {
      live = false;
    };
    // `load` is a new closure each render; `fullKey` names what it loads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [fullKey, sessions]);
  const state: CallState<T> =
    answer !== null && answer.key === fullKey ? answer.state : { status: 'loading' };
  return { state, reload: () => setRound((r) => r + 1) };
}
