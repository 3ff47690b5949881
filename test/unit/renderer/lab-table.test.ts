/**
 * The Lab's differences table and strategy override (SPEC LB-3, LB-6): profiles named per run in
 * order of appearance so runs compare despite random MPIDs; a row differs exactly when the
 * strategies' outcomes differ; each strategy's config keeps the file's lists unless it fixes them.
 */
import { describe, expect, it } from 'vitest';
import { ScenarioSchema } from '../../../shared/protocol/scenario.ts';
import {
  scenarioUnderStrategy,
  type LabStrategyRun,
  type TimelineStep,
} from '../../../shared/protocol/lab.ts';
import { labTable, verdict } from '../../../renderer/src/features/admin/lab/lab-table.ts';

interface Answered {
  readonly mpid: string;
  readonly created: boolean;
}

const answer = (mpid: string, created: boolean) => ({ mpid, created, loggedIn: null, error: null });

function step(n: number, device: Answered, server: string | null, user: string): TimelineStep {
  return {
    step: n,
    do: 'login',
    device: 'a',
    answer: answer(device.mpid, device.created),
    serverAnswer: server === null ? null : answer(server, device.created && server === device.mpid),
    serverAnswerSeenAt: server === null ? null : n + 1,
    serverTrace: null,
    currentUsers: { a: user },
    loggedIn: { a: true },
    graph: null,
  };
}

function completed(strategy: LabStrategyRun['strategy'], timeline: TimelineStep[]): LabStrategyRun {
  return {
    strategy,
    status: 'completed',
    report: {
      name: 's',
      ok: true,
      steps: 2,
      expectations: 3,
      failures: [],
      durationMs: 1,
      faults: {},
      timeline,
    },
  };
}

describe('the Lab differences table', () => {
  it('[LB-6] names profiles per run, so equal behaviour with other MPIDs does not differ; a merge does', () => {
    const table = labTable([
      completed('profile_conversion', [
        step(1, { mpid: '11', created: true }, '11', '11'),
        step(2, { mpid: '11', created: false }, '11', '11'),
      ]),
      completed('profile_link', [
        step(1, { mpid: '22', created: true }, '22', '22'),
        step(2, { mpid: '22', created: false }, '33', '33'),
      ]),
      {
        strategy: 'default',
        status: 'invalid_config',
        message: 'config.strategy: no',
        path: 'config.strategy',
      },
    ]);
    expect(table.strategies).toEqual(['profile_conversion', 'profile_link', 'default']);
    expect(table.rows).toEqual([
      { step: 1, what: 'a: login', cells: ['P1 created', 'P1 created', null], differs: false },
      { step: 2, what: 'a: login', cells: ['P1 found', 'P2 merged', null], differs: true },
    ]);
  });

  it('[LB-6] says what a strategy made of the file', () => {
    expect(verdict(completed('best_match', []))).toBe('passed (3 expectations)');
    expect(
      verdict({ strategy: 'best_match', status: 'failed', reason: 'timeout', message: 'took too long' }),
    ).toBe('run broke (timeout): took too long');
  });
});

describe('a scenario under another strategy', () => {
  const scenario = ScenarioSchema.parse({
    name: 's',
    config: {
      scopeId: 'c',
      strategy: 'profile_link',
      identityPriority: ['customerid', 'email', 'device_application_stamp'],
      loginIdentities: ['customerid', 'email'],
      uniqueIdentities: ['customerid', 'email'],
    },
    devices: { a: {} },
    steps: [{ do: 'sync' }],
  });

  it('[LB-3] keeps the file as it is under its own strategy and its lists under another', () => {
    expect(scenarioUnderStrategy(scenario, 'profile_link')).toEqual({ ok: true, value: scenario });
    const isolation = scenarioUnderStrategy(scenario, 'profile_isolation');
    expect(isolation.ok && isolation.value.config.loginIdentities).toEqual(['customerid', 'email']);
  });

  it('[LB-3] takes the lists a strategy fixes: default customer ID only, best match none', () => {
    const fixed = scenarioUnderStrategy(scenario, 'default');
    expect(fixed.ok && fixed.value.config.immutableIdentities).toEqual(['customerid']);
    const best = scenarioUnderStrategy(scenario, 'best_match');
    expect(best.ok && best.value.config.loginIdentities).toEqual([]);
  });

  it('[LB-3] reports a config the strategy refuses at its path', () => {
    const noCustomerId = {
      ...scenario,
      config: { ...scenario.config, identityPriority: ['email' as const] },
    };
    const refused = scenarioUnderStrategy(
      {
        ...noCustomerId,
        config: { ...noCustomerId.config, loginIdentities: ['email'], uniqueIdentities: ['email'] },
      },
      'default',
    );
    expect(refused.ok ? null : refused.error.path).toMatch(/^config\./);
  });
});
