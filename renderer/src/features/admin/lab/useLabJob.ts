/**
 * A Lab run as a job (SPEC LB-11..LB-13, LB-15): started on the server, polled until it ends, and
 * cancellable. Leaving the page, or starting over, cancels a job still running, so no simulator
 * runs for an answer nobody will read. Only the latest job's answers are kept: a late poll of an
 * abandoned job changes nothing.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { STRATEGIES } from '../../../../../shared/identity/scope-config.ts';
import { jobRuns, type LabJob } from '../../../../../shared/protocol/lab-jobs.ts';
import type { LabStrategyRun } from '../../../../../shared/protocol/lab.ts';
import type { Scenario } from '../../../../../shared/protocol/scenario.ts';
import { failureInWords, type AdminFailure } from '../admin-api.ts';
import { useAdmin, useAdminSession } from '../AdminContext.tsx';

/** How often a running job is asked for its progress. */
const LAB_POLL_MS = 500;

export type LabJobState =
  | { readonly status: 'idle' }
  | { readonly status: 'starting' }
  | { readonly status: 'running'; readonly job: LabJob; readonly cancelling: boolean }
  | { readonly status: 'cancelled'; readonly job: LabJob }
  | { readonly status: 'failed'; readonly message: string }
  | { readonly status: 'done'; readonly runs: readonly LabStrategyRun[]; readonly scenario: Scenario };

export interface LabJobControls {
  readonly state: LabJobState;
  readonly start: (scenario: Scenario) => void;
  readonly cancel: () => void;
  /** Back to idle (another file was picked), cancelling a job still running. */
  readonly reset: () => void;
}

/** The job being followed: the file it runs, its id once the server answered, the next poll's timer. */
interface Followed {
  readonly scenario: Scenario;
  id: string | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/** A job that ended: its runs when every strategy ran to its end, else what was cancelled. */
function ended(job: LabJob, scenario: Scenario): LabJobState {
  const runs = jobRuns(job);
  return job.state === 'completed' && runs !== null
    ? { status: 'done', runs, scenario }
    : { status: 'cancelled', job };
}

export function useLabJob(): LabJobControls {
  const { api } = useAdminSession();
  const { sessions } = useAdmin();
  const [state, setState] = useState<LabJobState>({ status: 'idle' });
  /** The latest job while it may still run; null once it ended, was cancelled, or was left. */
  const live = useRef<Followed | null>(null);

  const failed = useCallback(
    (failure: AdminFailure) => {
      sessions.refused(failure);
      setState({ status: 'failed', message: failureInWords(failure) });
    },
    [sessions],
  );

  /** Stops following the current job; cancels it on the server if it may still be running. */
  const abandon = useCallback(() => {
    const current = live.current;
    live.current = null;
    if (current === null) return;
    if (current.timer !== null) clearTimeout(current.timer);
    if (current.id !== null) void api.cancelLabJob(current.id);
  }, [api]);

  useEffect(() => abandon, [abandon]);

  const start = useCallback(
    (scenario: Scenario) => {
      abandon();
      const mine: Followed = { scenario, id: null, timer: null };
      live.current = mine;
      setState({ status: 'starting' });
      void (async () => {
        let answer = await api.startLabJob({ scenario, strategies: [...STRATEGIES] });
        for (;;) {
          if (live.current !== mine) {
            // Left before the server answered: the job it started is nobody's.
            if (answer.ok && mine.id === null) void api.cancelLabJob(answer.value.id);
            return;
          }
          if (!answer.ok) {
            live.current = null;
            failed(answer.error);
            return;
          }
          const job = answer.value;
          mine.id = job.id;
          if (job.state !== 'running') {
            live.current = null;
            setState(ended(job, scenario));
            return;
          }
          setState((now) => ({
            status: 'running',
            job,
            cancelling: now.status === 'running' && now.cancelling,
          }));
          await new Promise((resolve) => (mine.timer = setTimeout(resolve, LAB_POLL_MS)));
          if (live.current !== mine) return;
          answer = await api.labJob(job.id);
        }
      })();
    },
    [abandon, api, failed],
  );

  const cancel = useCallback(() => {
    const mine = live.current;
    if (mine === null || mine.id === null) return;
    setState((now) => (now.status === 'running' ? { ...now, cancelling: true } : now));
    void api.cancelLabJob(mine.id).then((result) => {
      if (live.current !== mine) return;
      live.current = null;
      if (!result.ok) failed(result.error);
      else setState(ended(result.value, mine.scenario));
    });
  }, [api, failed]);

  const reset = useCallback(() => {
    abandon();
    setState({ status: 'idle' });
  }, [abandon]);

  return { state, start, cancel, reset };
}
