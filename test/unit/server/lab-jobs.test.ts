/**
 * Lab jobs without processes (SPEC LB-11..LB-14): a fake runner ends each strategy when the test
 * says, so the job's states are seen one by one; ended jobs are forgotten by age and by count,
 * running ones never; a runner that throws leaves strategies `crashed`, not a job stuck running.
 */
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../../shared/identity/scope-config.ts';
import type { LabStrategyRun } from '../../../shared/protocol/lab.ts';
import type { Scenario } from '../../../shared/protocol/scenario.ts';
import { LabJobs, type LabRuns } from '../../../server/lab-jobs.ts';
import type { LabRunHooks } from '../../../server/lab.ts';

const SCENARIO = {} as Scenario;
const invalid = (strategy: Strategy): LabStrategyRun => ({
  strategy,
  status: 'invalid_config',
  message: 'no',
});

/** A runner whose strategies start and end when the test calls `start(i)` / `end(i)`. */
function fakeRunner() {
  let hooks: LabRunHooks = {};
  let finish: (() => void) | null = null;
  let fail: ((error: Error) => void) | null = null;
  let strategies: readonly Strategy[] = [];
  const runner: LabRuns = {
    run(_scenario, asked, given) {
      hooks = given;
      strategies = asked;
      return new Promise((resolve, reject) => {
        finish = () => resolve(asked.map(invalid));
        fail = reject;
      });
    },
  };
  return {
    runner,
    start: (i: number) => hooks.onStart?.(i),
    end: (i: number) => hooks.onEnd?.(i, invalid(strategies[i]!)),
    finish: () => finish?.(),
    fail: (error: Error) => fail?.(error),
    aborted: () => hooks.signal?.aborted ?? false,
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('Lab jobs', () => {
  it('[LB-12] a job reads waiting, running, then each strategy ended, done counting up, then completed', async () => {
    const fake = fakeRunner();
    const jobs = new LabJobs(fake.runner, { maxRunning: 4, maxEnded: 20, keepEndedMs: 1000, now: () => 0 });
    const started = jobs.start(SCENARIO, ['default', 'best_match']);
    if (!started.ok) throw new Error('refused');
    const id = started.value.id;
    expect(started.value).toMatchObject({ state: 'running', done: 0, total: 2 });
    expect(started.value.strategies.map((s) => s.status)).toEqual(['waiting', 'waiting']);
    fake.start(0);
    expect(jobs.get(id)?.strategies.map((s) => s.status)).toEqual(['running', 'waiting']);
    fake.end(0);
    fake.start(1);
    expect(jobs.get(id)).toMatchObject({ state: 'running', done: 1 });
    fake.end(1);
    fake.finish();
    await flush();
    expect(jobs.get(id)).toMatchObject({ state: 'completed', done: 2 });
  });

  it('[LB-13] cancel aborts the runner and reads cancelled at once; ends reported later change nothing', () => {
    const fake = fakeRunner();
    const jobs = new LabJobs(fake.runner, { maxRunning: 4, maxEnded: 20, keepEndedMs: 1000, now: () => 0 });
    const started = jobs.start(SCENARIO, ['default', 'best_match']);
    if (!started.ok) throw new Error('refused');
    fake.start(0);
    fake.end(0);
    fake.start(1);
    const cancelled = jobs.cancel(started.value.id);
    expect(fake.aborted()).toBe(true);
    expect(cancelled?.state).toBe('cancelled');
    expect(cancelled?.strategies.map((s) => s.status)).toEqual(['invalid_config', 'cancelled']);
    fake.end(1);
    expect(jobs.get(started.value.id)).toEqual(cancelled);
    expect(jobs.cancel(started.value.id), 'cancelling twice').toEqual(cancelled);
  });

  it('[LB-14] at most maxRunning jobs run at once; ended jobs are forgotten by age and count, running ones never', () => {
    let now = 0;
    const fakes = Array.from({ length: 4 }, fakeRunner);
    let next = 0;
    const runner: LabRuns = { run: (...args) => fakes[next++]!.runner.run(...args) };
    const jobs = new LabJobs(runner, { maxRunning: 2, maxEnded: 1, keepEndedMs: 1000, now: () => now });
    const first = jobs.start(SCENARIO, ['default']);
    const second = jobs.start(SCENARIO, ['default']);
    const third = jobs.start(SCENARIO, ['default']);
    expect(third.ok ? null : third.error.code).toBe('RATE_LIMITED');
    if (!first.ok || !second.ok) throw new Error('refused');
    jobs.cancel(first.value.id);
    const fourth = jobs.start(SCENARIO, ['default']);
    if (!fourth.ok) throw new Error('refused');
    now = 10;
    jobs.cancel(second.value.id);
    // Two ended, one kept: the one that ended first is forgotten.
    expect(jobs.get(first.value.id)).toBeNull();
    expect(jobs.get(second.value.id)?.state).toBe('cancelled');
    now = 10 + 1001;
    expect(jobs.get(second.value.id), 'past keepEndedMs').toBeNull();
    expect(jobs.get(fourth.value.id)?.state, 'running, whatever its age').toBe('running');
  });

  it('[LB-12] a runner that throws ends the job: the strategies not ended read crashed', async () => {
    const fake = fakeRunner();
    const jobs = new LabJobs(fake.runner, { maxRunning: 4, maxEnded: 20, keepEndedMs: 1000, now: () => 0 });
    const started = jobs.start(SCENARIO, ['default', 'best_match']);
    if (!started.ok) throw new Error('refused');
    fake.end(0);
    fake.fail(new Error('no temporary folder'));
    await flush();
    expect(jobs.get(started.value.id)).toMatchObject({
      state: 'completed',
      strategies: [
        { status: 'invalid_config' },
        { status: 'failed', reason: 'crashed', message: 'no temporary folder' },
      ],
    });
  });
});
