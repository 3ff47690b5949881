/**
 * The Lab's export of a run as a scenario file (SPEC LB-7), as a pure function of the file and the
 * run's report: observed answers become `expect`/`afterSync` with labels bound in the order the
 * simulator checks them, the file's own bindings stay where they were, expect steps keep only
 * what acts, and the final state becomes two expect steps. The export is a valid scenario file.
 */
import { describe, expect, it } from 'vitest';
import { scenarioFromRun } from '../../../shared/protocol/lab-export.ts';
import type { FinalState, ScenarioReport, StepAnswer, TimelineStep } from '../../../shared/protocol/lab.ts';
import { ScenarioSchema, type Scenario } from '../../../shared/protocol/scenario.ts';

const FILE: Scenario = ScenarioSchema.parse({
  name: 'two devices',
  config: {
    scopeId: 'ws',
    strategy: 'profile_conversion',
    identityPriority: ['customerid', 'email', 'device_application_stamp'],
    loginIdentities: ['customerid'],
    uniqueIdentities: ['customerid'],
  },
  devices: { a: {}, b: {} },
  steps: [
    { device: 'a', do: 'identify', expect: { mpid: '$visitor', created: true } },
    { device: 'b', do: 'offline' },
    { device: 'b', do: 'login', identities: { customerid: 'c1' }, expect: { mpid: '!@visitor' } },
    { do: 'sync' },
    { do: 'expect', converged: true, profileCount: 7, devices: { a: { pending: 3 } } },
    { device: 'a', do: 'alias', source: '@visitor', destination: '@visitor' },
  ],
});

const ok = (mpid: string, created: boolean | null, loggedIn: boolean | null): StepAnswer => ({
  mpid,
  created,
  loggedIn,
  error: null,
});

function entry(step: number, fields: Partial<TimelineStep>): TimelineStep {
  return {
    step,
    do: FILE.steps[step - 1]?.do ?? 'expect',
    device: null,
    answer: null,
    serverAnswer: null,
    serverAnswerSeenAt: null,
    serverTrace: null,
    currentUsers: { a: 'A1', b: null },
    loggedIn: { a: false, b: null },
    graph: null,
    ...fields,
  };
}

const TIMELINE: TimelineStep[] = [
  entry(1, {
    device: 'a',
    answer: ok('A1', true, false),
    serverAnswer: ok('A1', true, false),
    serverAnswerSeenAt: 4,
  }),
  entry(2, { device: 'b' }),
  // b's offline login is answered by the server with a profile first seen there (merged at sync).
  entry(3, {
    device: 'b',
    answer: ok('B1', true, true),
    serverAnswer: ok('S1', false, true),
    serverAnswerSeenAt: 4,
    currentUsers: { a: 'A1', b: 'B1' },
  }),
  entry(4, { currentUsers: { a: 'A1', b: 'S1' } }),
  entry(5, { currentUsers: { a: 'A1', b: 'S1' } }),
  entry(6, {
    device: 'a',
    answer: { mpid: null, created: null, loggedIn: null, error: 'ALIAS_SAME_PROFILE' },
  }),
];

const FINAL: FinalState = {
  devices: {
    a: {
      currentUser: 'A1',
      pending: 0,
      localEvents: 1,
      people: ['A1'],
      notices: [],
      applicationStamp: 'das-a',
    },
    b: {
      currentUser: 'S1',
      pending: 0,
      localEvents: 0,
      people: ['S1', 'X9'],
      notices: [{ kind: 'merged' }],
      applicationStamp: 'das-b',
    },
  },
  server: {
    profileCount: 2,
    profiles: [
      {
        mpid: 'A1',
        found: true,
        identities: { device_application_stamp: ['das-a'] },
        events: ['e'],
        attributes: { k: 1 },
        orphaned: false,
      },
      { mpid: 'B1', found: false, identities: {}, events: [], attributes: {}, orphaned: false },
      {
        mpid: 'S1',
        found: true,
        identities: { customerid: ['c1'], device_application_stamp: ['das-b', 'old'] },
        events: [],
        attributes: {},
        orphaned: false,
      },
    ],
  },
};

const REPORT: ScenarioReport = {
  name: FILE.name,
  ok: false,
  steps: 6,
  expectations: 3,
  failures: [],
  durationMs: 1,
  faults: {},
  timeline: TIMELINE,
  finalState: FINAL,
};

function exported(report: ScenarioReport = REPORT): Scenario {
  const result = scenarioFromRun(FILE, report);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

describe('export of a Lab run as a scenario file', () => {
  it('[LB-7] is a valid scenario file with the same acting steps in the same places', () => {
    const file = exported();
    expect(ScenarioSchema.safeParse(JSON.parse(JSON.stringify(file))).success).toBe(true);
    expect(file.steps.slice(0, 6).map((s) => s.do)).toEqual(FILE.steps.map((s) => s.do));
    expect(file.steps[5]).toMatchObject({ source: '@visitor', destination: '@visitor' });
    expect(file.name).toBe('two devices (observed under profile_conversion)');
  });

  it("[LB-7] answers become expectations; the file's own binding stays, new profiles bind in check order", () => {
    const steps = exported().steps as Record<string, unknown>[];
    expect(steps[0]).toMatchObject({
      expect: { mpid: '$visitor', created: true, loggedIn: false },
      afterSync: { mpid: '@visitor', created: true, loggedIn: false },
    });
    // "!@visitor" was the file's guess; the export says what happened: a new profile, then the
    // server's answer (checked at step 4's sync) with another new one.
    expect(steps[2]).toMatchObject({
      expect: { mpid: '$p1', created: true, loggedIn: true },
      afterSync: { mpid: '$p2', created: false, loggedIn: true },
    });
    expect(steps[5]).toMatchObject({ expect: { error: 'ALIAS_SAME_PROFILE' } });
    expect(steps[5]).not.toHaveProperty('afterSync');
  });

  it('[LB-7] an expect step keeps only what acts (converged) and gains the current users seen there', () => {
    const steps = exported().steps;
    expect(steps[4]).toEqual({
      do: 'expect',
      converged: true,
      devices: { a: { currentUser: '@visitor' }, b: { currentUser: '@p2' } },
    });
  });

  it('[LB-7] the final state: current users, then devices, profiles, absent ones and the count', () => {
    const steps = exported().steps;
    expect(steps.slice(6)).toEqual([
      { do: 'expect', devices: { a: { currentUser: '@visitor' }, b: { currentUser: '@p2' } } },
      {
        do: 'expect',
        profiles: [
          {
            mpid: '@visitor',
            identities: { device_application_stamp: ['device:a'] },
            events: ['e'],
            attributes: { k: 1 },
            orphaned: false,
          },
          // A stamp no device holds now (renewed) leaves the stamps out rather than guess.
          { mpid: '@p2', identities: { customerid: ['c1'] }, events: [], attributes: {}, orphaned: false },
        ],
        absent: ['@p1'],
        profileCount: 2,
        devices: {
          a: { pending: 0, localEvents: 1, people: ['@visitor'], notices: [] },
          // X9 was never named by a step, so it has no label and people is not checked.
          b: { pending: 0, localEvents: 0, notices: [{ kind: 'merged' }] },
        },
      },
    ]);
  });

  it('[LB-7] invented labels never take a name the file uses', () => {
    const file: Scenario = {
      ...FILE,
      steps: FILE.steps.map((s, i) => (i === 5 ? { ...s, source: '@p1' } : s)),
    };
    const result = scenarioFromRun(file, REPORT);
    expect(result.ok && result.value.steps[2]).toMatchObject({
      expect: { mpid: '$p2' },
      afterSync: { mpid: '$p3' },
    });
  });

  it('[LB-7] the server down at the end: devices only; a report without a timeline cannot be exported', () => {
    const down = exported({ ...REPORT, finalState: { ...FINAL, server: null } }).steps.at(-1);
    expect(down).toEqual({
      do: 'expect',
      devices: {
        a: { pending: 0, localEvents: 1, people: ['@visitor'], notices: [] },
        b: { pending: 0, localEvents: 0, notices: [{ kind: 'merged' }] },
      },
    });
    const bare: ScenarioReport = { ...REPORT };
    delete bare.timeline;
    expect(scenarioFromRun(FILE, bare)).toEqual({ ok: false, error: 'no_timeline' });
    expect(scenarioFromRun(FILE, { ...REPORT, timeline: TIMELINE.slice(1) })).toEqual({
      ok: false,
      error: 'timeline_mismatch',
    });
  });
});
