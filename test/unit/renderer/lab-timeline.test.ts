/**
 * One strategy's run step by step in words (SPEC LB-8): answers with profiles named P1, P2… as in
 * the differences table, the server's explain trace in the console's words with the same names,
 * each device's current user logged in or anonymous, and a step that asked nothing says so.
 */
import { describe, expect, it } from 'vitest';
import { MemoryIdentityStore } from '../../../shared/memory-store/memory-store.ts';
import type { TimelineStep } from '../../../shared/protocol/lab.ts';
import { timelineRows } from '../../../renderer/src/features/admin/lab/lab-timeline.ts';
import { Harness, scenarioConfig } from '../../helpers/harness.ts';

const answer = (mpid: string, created: boolean, loggedIn: boolean) => ({
  mpid,
  created,
  loggedIn,
  error: null,
});

describe('the Lab timeline in words', () => {
  it('[LB-8] answers, the explain trace and current users, with profiles named as in the table', async () => {
    const h = new Harness(new MemoryIdentityStore(), scenarioConfig('profile_conversion'));
    const first = await h.identify({ ios_idfv: 'd1' });
    const mpid = first.response.mpid;
    const timeline: TimelineStep[] = [
      {
        step: 1,
        do: 'offline',
        device: 'tablet',
        answer: null,
        serverAnswer: null,
        serverAnswerSeenAt: null,
        serverTrace: null,
        currentUsers: { tablet: null, phone: null },
        loggedIn: { tablet: null, phone: null },
        graph: null,
      },
      {
        step: 2,
        do: 'identify',
        device: 'tablet',
        answer: answer(mpid, true, false),
        serverAnswer: answer(mpid, true, false),
        serverAnswerSeenAt: 3,
        serverTrace: first.trace,
        currentUsers: { tablet: mpid, phone: null },
        loggedIn: { tablet: false, phone: null },
        graph: null,
      },
      {
        step: 3,
        do: 'login',
        device: 'phone',
        answer: { mpid: null, created: null, loggedIn: null, error: 'IDENTITY_TAKEN' },
        serverAnswer: null,
        serverAnswerSeenAt: null,
        serverTrace: null,
        currentUsers: { tablet: mpid, phone: 'other' },
        loggedIn: { tablet: false, phone: true },
        graph: null,
      },
    ];
    const [offline, identify, login] = timelineRows(timeline);
    expect(offline).toEqual({
      step: 1,
      what: 'tablet: offline',
      device: null,
      server: null,
      why: null,
      users: ['tablet: nobody yet', 'phone: nobody yet'],
    });
    expect(identify?.device).toBe('P1, created, anonymous');
    expect(identify?.server).toBe('P1, created, anonymous');
    expect(identify?.why?.headline).toBe('Treated as a new anonymous visitor: no existing profile matched.');
    expect(identify?.why?.steps).toContain('Created profile P1 with iOS vendor ID d1.');
    expect(identify?.users).toEqual(['tablet: P1, anonymous', 'phone: nobody yet']);
    expect(login?.device).toBe('refused: IDENTITY_TAKEN');
    expect(login?.server).toBe('not synced yet');
    expect(login?.users).toEqual(['tablet: P1, anonymous', 'phone: P2, logged in']);
  });
});
