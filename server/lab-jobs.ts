/**
 * Lab jobs (SPEC LB-11..LB-14): a Conversion Lab run the console polls instead of holding one
 * request open. A job runs its strategies with the one `LabRunner` (the same runs, places and
 * limits as `POST /lab/runs`) and keeps each strategy's state as it goes. Jobs live in memory only:
 * a bounded number run at once, ended ones are kept for a while to be read, and a restart forgets
 * them all (a run touches no stored data, so nothing is lost but the answer).
 */
import { randomUUID } from 'node:crypto';
import type { Strategy } from '../shared/identity/scope-config.ts';
import { apiError, type ApiError } from '../shared/protocol/errors.ts';
import type { LabJob, LabJobStrategy } from '../shared/protocol/lab-jobs.ts';
import type { LabStrategyRun } from '../shared/protocol/lab.ts';
import type { Scenario } from '../shared/protocol/scenario.ts';
import { err, ok, type Result } from '../shared/util/result.ts';
import type { LabRunHooks } from './lab.ts';

/** What a job needs of the runner (the `LabRunner`; a fake in unit tests). */
export interface LabRuns {
  run(scenario: Scenario, strategies: readonly Strategy[], hooks: LabRunHooks): Promise<LabStrategyRun[]>;
}

export interface LabJobsOptions {
  /** Jobs running at once; one more is refused (RATE_LIMITED) until one ends or is cancelled. */
  readonly maxRunning: number;
  /** Ended jobs kept to be read; past it the oldest ended one is forgotten. */
  readonly maxEnded: number;
  /** How long an ended job is kept. */
  readonly keepEndedMs: number;
  readonly now: () => number;
}

const LAB_JOB_DEFAULTS = {
  maxRunning: 4,
  maxEnded: 20,
  keepEndedMs: 15 * 60_000,
  now: Date.now,
} as const satisfies LabJobsOptions;

interface JobRecord {
  readonly id: string;
  state: LabJob['state'];
  readonly strategies: LabJobStrategy[];
  readonly controller: AbortController;
  endedAt: number | null;
}

export class LabJobs {
  private readonly jobs = new Map<string, JobRecord>();

  constructor(
    private readonly runner: LabRuns,
    private readonly options: LabJobsOptions = LAB_JOB_DEFAULTS,
  ) {}

  /** Starts a job and answers it at once (every strategy waiting), or why it may not start. */
  start(scenario: Scenario, strategies: readonly Strategy[]): Result<LabJob, ApiError> {
    this.forgetOld();
    const running = [...this.jobs.values()].filter((job) => job.state === 'running').length;
    if (running >= this.options.maxRunning) {
      return err(
        apiError(
          'RATE_LIMITED',
          `${running} lab jobs are running, the most at once; wait for one to end or cancel one`,
        ),
      );
    }
    const job: JobRecord = {
      id: randomUUID(),
      state: 'running',
      strategies: strategies.map((strategy) => ({ strategy, status: 'waiting' })),
      controller: new AbortController(),
      endedAt: null,
    };
    this.jobs.set(job.id, job);
    const hooks: LabRunHooks = {
      signal: job.controller.signal,
      onStart: (index) => this.record(job, index, { strategy: strategies[index]!, status: 'running' }),
      onEnd: (index, run) => this.record(job, index, run),
    };
    this.runner.run(scenario, strategies, hooks).then(
      () => this.end(job, 'completed'),
      (error: unknown) => this.broke(job, error),
    );
    return ok(view(job));
  }

  get(id: string): LabJob | null {
    this.forgetOld();
    const job = this.jobs.get(id);
    return job === undefined ? null : view(job);
  }

  /**
   * Cancels a running job: its running simulators are killed, its waiting ones never start, and it
   * reads `cancelled` at once. Strategies that had ended keep their answers. An ended job is
   * answered unchanged (cancelling twice, or after the end, changes nothing).
   */
  cancel(id: string): LabJob | null {
    const job = this.jobs.get(id);
    if (job === undefined) return null;
    if (job.state === 'running') {
      this.end(job, 'cancelled');
      job.strategies.forEach((entry, index) => {
        if (entry.status === 'waiting' || entry.status === 'running')
          job.strategies[index] = { strategy: entry.strategy, status: 'cancelled' };
      });
      job.controller.abort();
    }
    return view(job);
  }

  /** Cancels every running job (the server is closing: no simulator outlives it). */
  close(): void {
    for (const job of this.jobs.values()) if (job.state === 'running') this.cancel(job.id);
  }

  /** A strategy's new state, unless the job has ended (a cancelled job's entries stay cancelled). */
  private record(job: JobRecord, index: number, entry: LabJobStrategy): void {
    if (job.state === 'running') job.strategies[index] = entry;
  }

  /** The runner itself failed (no temporary folder, say): the strategies not ended read `crashed`. */
  private broke(job: JobRecord, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    job.strategies.forEach((entry, index) => {
      if (entry.status === 'waiting' || entry.status === 'running')
        this.record(job, index, { strategy: entry.strategy, status: 'failed', reason: 'crashed', message });
    });
    this.end(job, 'completed');
  }

  private end(job: JobRecord, state: 'completed' | 'cancelled'): void {
    if (job.state !== 'running') return;
    job.state = state;
    job.endedAt = this.options.now();
  }

  private forgetOld(): void {
    const oldest = this.options.now() - this.options.keepEndedMs;
    const ended = [...this.jobs.values()]
      .flatMap((job) => (job.endedAt === null ? [] : [{ id: job.id, endedAt: job.endedAt }]))
      .sort((a, b) => a.endedAt - b.endedAt);
    ended.forEach((job, i) => {
      if (job.endedAt < oldest || i < ended.length - this.options.maxEnded) this.jobs.delete(job.id);
    });
  }
}

function view(job: JobRecord): LabJob {
  const strategies = job.strategies.map((entry) => ({ ...entry }));
  const done = strategies.filter((e) => e.status !== 'waiting' && e.status !== 'running').length;
  return { id: job.id, state: job.state, done, total: strategies.length, strategies };
}
