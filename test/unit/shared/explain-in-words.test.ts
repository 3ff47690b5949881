/**
 * The explain trace in plain words (SPEC TR-5), on traces the resolver really produces against the
 * in-memory store, plus hand-made traces for the vocabulary no request reaches today.
 */
import { describe, expect, it } from 'vitest';
import { STRATEGIES, type ScopeConfigInput, type Strategy } from '../../../shared/identity/scope-config.ts';
import { MemoryIdentityStore } from '../../../shared/memory-store/memory-store.ts';
import {
  describeIdentity,
  explainInWords,
  parseExplainTrace,
  type ExplainOptions,
  type Explanation,
} from '../../../shared/resolver/explain-in-words.ts';
import {
  BRANCHES,
  EXCLUSION_REASONS,
  SITUATIONS,
  WRITE_ACTIONS,
  writeTrace,
  type ExplainTrace,
} from '../../../shared/resolver/trace.ts';
import { expectFailure, expectOk, Harness, scenarioConfig } from '../../helpers/harness.ts';

function harness(strategy: Strategy = 'profile_conversion', overrides: Partial<ScopeConfigInput> = {}) {
  return new Harness(new MemoryIdentityStore(), scenarioConfig(strategy, overrides));
}

const JARGON = [/\b[NKG][0-5]\b/, /[a-z]_[a-z]/, /\bundefined\b/, /\[object/];

/** Explains and checks the words carry no situation codes, enum names or stringified nothings. */
function explain(trace: ExplainTrace, options?: ExplainOptions): Explanation {
  const explanation = explainInWords(trace, options);
  for (const sentence of [explanation.headline, ...explanation.steps]) {
    for (const jargon of JARGON) expect(sentence, sentence).not.toMatch(jargon);
    expect(sentence, sentence).toMatch(/^[A-Zi0-9"].*[.]$/);
  }
  return explanation;
}

describe('identify, login and logout in words', () => {
  it('[TR-5][IL-3] anonymous identify: a new visitor, then the same visitor recognised by the device ID', async () => {
    const h = harness();
    const first = await h.identify({ ios_idfv: 'd1' });
    const a = first.response.mpid;
    expect(explain(first.trace)).toEqual({
      headline: 'Treated as a new anonymous visitor: no existing profile matched.',
      steps: [
        'No profile holds iOS vendor ID d1.',
        'Profile conversion: nothing matched, so a new anonymous profile was started.',
        `Created profile ${a} with iOS vendor ID d1.`,
      ],
    });
    const again = await h.identify({ ios_idfv: 'd1' });
    expect(explain(again.trace)).toEqual({
      headline: 'Recognised an existing anonymous visitor (iOS vendor ID d1).',
      steps: [
        `iOS vendor ID d1 (priority 1 in this request) matched profile ${a}.`,
        `Profile conversion: the request's identifiers matched an anonymous profile, so the answer is profile ${a}.`,
        `Nothing new was written to profile ${a}.`,
      ],
    });
  });

  it('[TR-5][IL-4][LO-2][IL-2] conversion: login converts the anonymous profile, logout starts anew, login returns', async () => {
    const h = harness();
    const a = (await h.identify({ ios_idfv: 'd1' })).response.mpid;
    const login = await h.login({ customerid: 'c1', ios_idfv: 'd1' }, { previous: a });
    expect(login.response.mpid).toBe(a);
    expect(explain(login.trace)).toEqual({
      headline: 'Logged in as a new customer: the anonymous profile became known.',
      steps: [
        `The device was last on anonymous profile ${a}.`,
        'No profile holds customer ID c1.',
        `Profile ${a} was excluded: it is anonymous, and only customers were looked for here.`,
        'No existing customer matched.',
        `iOS vendor ID d1 (priority 2 in this request) matched profile ${a}.`,
        `Profile conversion: the login IDs are new and the device has an anonymous profile, so profile ${a} became a customer, keeping its MPID and history.`,
        `Added customer ID c1 to profile ${a}.`,
      ],
    });

    const logout = await h.logout({ ios_idfv: 'd1' }, { previous: a });
    const b = logout.response.mpid;
    expect(explain(logout.trace)).toEqual({
      headline: 'Logged out to a new anonymous profile.',
      steps: [
        `The device was last on customer profile ${a}.`,
        `Profile ${a} was excluded: it is logged-in-only, and a request must carry one of its login IDs.`,
        'No anonymous profile matched.',
        'Profile conversion: the device has no anonymous profile, so a new anonymous profile was started.',
        `Created profile ${b} with iOS vendor ID d1.`,
      ],
    });

    const back = await h.login({ customerid: 'c1', ios_idfv: 'd1' }, { previous: b });
    expect(explain(back.trace)).toEqual({
      headline: 'Logged in as an existing customer (customer ID c1).',
      steps: [
        `The device was last on anonymous profile ${b}.`,
        `Customer ID c1 (priority 1 in this request) matched profile ${a}.`,
        `Profile conversion: a login ID matched a customer, so the answer is profile ${a}.`,
        `Nothing new was written to profile ${a}.`,
      ],
    });
  });

  it('[TR-5][WB-2][DV-10] login with a new customer ID and an email someone else holds: new customer, email refused', async () => {
    const h = harness('profile_conversion', {
      loginIdentities: ['customerid'],
      uniqueIdentities: ['customerid', 'email'],
    });
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], email: ['a@x.com'] } }]);
    const r = await h.login({ customerid: 'c2', email: 'a@x.com' });
    const n = r.response.mpid;
    expect(explain(r.trace)).toEqual({
      headline: 'Logged in as a new customer on a new profile.',
      steps: [
        'No profile holds customer ID c2.',
        'Profile 11 was excluded: it is logged-in-only, and a request must carry one of its login IDs.',
        'No existing customer matched.',
        'No anonymous profile matched.',
        'Profile conversion: the login IDs are new and there is no anonymous profile to use, so a new customer profile was created.',
        `Created profile ${n} with customer ID c2.`,
        'Email a@x.com already belongs to someone else (profile 11), so it was not added.',
      ],
    });
  });

  it('[TR-5][IL-2][WB-3] K5: the email finds the customer; a second customer ID is refused', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], email: ['a@x.com'] } }]);
    const r = await h.login({ customerid: 'c2', email: 'a@x.com' });
    expect(explain(r.trace)).toEqual({
      headline: 'Logged in as an existing customer (email a@x.com).',
      steps: [
        'No profile holds customer ID c2.',
        'Email a@x.com (priority 2 in this request) matched profile 11.',
        'Profile conversion: one login ID matched a customer and another is new, so the answer is profile 11.',
        'Nothing new was written to profile 11.',
        'Customer ID c2 was not added: profile 11 already has one, and only one is allowed.',
      ],
    });
  });

  it('[TR-5][IL-2] K4 under link: two customers match, the higher-priority login ID decides', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { customerid: ['c1'] } },
      { mpid: '22', identities: { customerid: ['c2'], email: ['a@x.com'] } },
    ]);
    const r = await h.login({ customerid: 'c1', email: 'a@x.com' });
    expect(explain(r.trace).steps).toEqual([
      'Customer ID c1 (priority 1 in this request) matched profile 11.',
      'Profile link: the login IDs pointed at two customers, and the higher-priority one decides, so the answer is profile 11.',
      'Nothing new was written to profile 11.',
      'Email a@x.com already belongs to someone else (profile 22), so it was not added.',
    ]);
  });

  it('[TR-5][IL-5][IL-6] link login creates a new customer profile, leaves the anonymous one and aliases it', async () => {
    const h = harness('profile_link', { aliasing: { autoAliasOnLinkLogin: true } });
    const a = (await h.identify({ ios_idfv: 'd1' })).response.mpid;
    const r = await h.login({ customerid: 'c1', ios_idfv: 'd1' }, { previous: a });
    const n = r.response.mpid;
    expect(n).not.toBe(a);
    expect(explain(r.trace)).toEqual({
      headline: 'Logged in as a new customer on a new profile.',
      steps: [
        `The device was last on anonymous profile ${a}.`,
        'No profile holds customer ID c1.',
        `Profile ${a} was excluded: it is anonymous, and only customers were looked for here.`,
        'No existing customer matched.',
        `iOS vendor ID d1 (priority 2 in this request) matched profile ${a}.`,
        `Profile link: the login IDs are new and the device has an anonymous profile, so a new customer profile was created and profile ${a} was left as it was.`,
        `Created profile ${n} with customer ID c1 and iOS vendor ID d1.`,
        `The activity of profile ${a} will count for profile ${n} once the alias is processed.`,
      ],
    });
  });

  it('[TR-5][IL-5][LO-3][NV-5] isolation: login keeps the anonymous profile apart; logout returns to it', async () => {
    const h = harness('profile_isolation');
    const a = (await h.identify({ ios_idfv: 'd1' })).response.mpid;
    const login = await h.login({ customerid: 'c1', ios_idfv: 'd1' }, { previous: a });
    const n = login.response.mpid;
    expect(explain(login.trace).steps).toContain(
      `Profile isolation: the login IDs are new and the device has an anonymous profile, so a new customer profile was created and profile ${a} stays separate: nothing anonymous carries over.`,
    );
    const logout = await h.logout({ customerid: 'c1', ios_idfv: 'd1' }, { previous: n });
    expect(logout.response.mpid).toBe(a);
    expect(explain(logout.trace)).toEqual({
      headline: "Logged out back to the device's anonymous profile (iOS vendor ID d1).",
      steps: [
        'Customer ID c1 was ignored: logout does not use login IDs.',
        `The device was last on customer profile ${n}.`,
        `iOS vendor ID d1 (priority 1 in this request) matched profile ${a}.`,
        `Profile ${n} was excluded: it is logged-in-only, and a request must carry one of its login IDs.`,
        `Profile isolation: the device has an anonymous profile, so logout returned to profile ${a}.`,
        `Nothing new was written to profile ${a}.`,
      ],
    });
  });

  it('[TR-5][LO-2] link: logout starts a new anonymous profile even though one matches', async () => {
    const h = harness('profile_link');
    const a = (await h.identify({ ios_idfv: 'd1' })).response.mpid;
    const r = await h.logout({ ios_idfv: 'd1' }, { previous: a });
    expect(explain(r.trace).steps).toContain(
      'Profile link: the device has an anonymous profile, but logout always starts a new anonymous profile.',
    );
  });

  it('[TR-5][EL-2][IL-3] login-ID protection: a device ID held only by a customer gives a new visitor', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], ios_idfv: ['d1'] } }]);
    const r = await h.identify({ ios_idfv: 'd1' });
    expect(explain(r.trace)).toEqual({
      headline: 'Treated as a new anonymous visitor: only logged-in customers matched.',
      steps: [
        'Profile 11 was excluded: it is logged-in-only, and a request must carry one of its login IDs.',
        'No anonymous profile matched.',
        'Profile conversion: only logged-in customers matched, and they stay protected, so a new anonymous profile was started.',
        `Created profile ${r.response.mpid} with iOS vendor ID d1.`,
      ],
    });
  });

  const immutable = {
    loginIdentities: ['customerid', 'email'],
    uniqueIdentities: ['customerid', 'email'],
    immutableIdentities: ['customerid'],
  } as Partial<ScopeConfigInput>;

  it('[TR-5][EL-3] a profile with an immutable ID the request does not carry is excluded', async () => {
    const h = harness('profile_conversion', immutable);
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], email: ['a@x.com'] } }]);
    const r = await h.identify({ email: 'a@x.com' });
    expect(explain(r.trace).steps).toContain(
      'Profile 11 was excluded: it holds an immutable ID that this request does not carry.',
    );
  });

  it('[TR-5][EL-4] a profile whose immutable ID the request contradicts is excluded', async () => {
    const h = harness('profile_conversion', {
      ...immutable,
      loginIdentities: ['customerid', 'email', 'other'],
      uniqueIdentities: ['customerid', 'email', 'other'],
      identityPriority: ['customerid', 'email', 'other', 'ios_idfv'],
      immutableIdentities: ['customerid', 'other'],
    });
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], other: ['o1'] } }]);
    const r = await h.identify({ customerid: 'c1', other: 'o2' });
    expect(explain(r.trace).steps).toContain(
      'Profile 11 was excluded: it holds an immutable ID that this request contradicts.',
    );
  });

  it('[TR-5][NV-1][NV-2][NV-4] normalised, blocked and out-of-priority values are told as such', async () => {
    const h = harness();
    const r = await h.login({ email: 'A@X.com ', ios_idfv: 'd1', customerid: 'guest', push_token: 'p1' });
    const explanation = explain(r.trace);
    expect(explanation.headline).toBe('Logged in as a new customer on a new profile.');
    expect(explanation.steps.slice(0, 3)).toEqual([
      'The customer ID value "guest" is blocked and was ignored.',
      'Email "A@X.com " was normalised to "a@x.com".',
      'Push token p1 is not in the identity priority, so it was neither used nor stored.',
    ]);
    expect(explanation.steps.at(-1)).toBe(
      `Created profile ${r.response.mpid} with email a@x.com and iOS vendor ID d1.`,
    );
  });

  it('[TR-5][LO-4] a previous MPID that is orphaned or unknown is said to be unused', async () => {
    const h = harness();
    await h.seed([
      { mpid: '11', identities: { email: ['a@x.com'] } },
      { mpid: '22', identities: {} },
    ]);
    expectOk(await h.modify('22', [{ type: 'email', old: null, new: 'a@x.com' }]));
    const orphaned = await h.identify({ ios_idfv: 'd1' }, { previous: '11' });
    expect(explain(orphaned.trace).steps[0]).toBe(
      'The device was last on profile 11, which is orphaned and was not used.',
    );
    const unknown = await h.identify({ ios_idfv: 'd1' }, { previous: '999' });
    expect(explain(unknown.trace).steps[0]).toBe(
      'The device was last on profile 999, which does not exist here and was not used.',
    );
  });

  it('[TR-5][IP-4] a dry run says nothing was saved', async () => {
    const h = harness();
    const r = await h.identify({ ios_idfv: 'd1' }, { readOnly: true });
    expect(explain(r.trace).steps.at(-1)).toBe('Dry run: nothing was saved.');
  });
});

describe('lookups and tie-breaks in words', () => {
  it('[TR-5][LK-2][LK-5] narrowing, a conflicting lower identifier and the previous-MPID tie-break', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'], roku_aid: ['r1'] } },
      { mpid: '22', identities: { ios_idfv: ['d1'], roku_aid: ['r2'] } },
      { mpid: '33', identities: { ios_idfv: ['d1'] } },
      { mpid: '44', identities: { roku_aid: ['r9'] } },
    ]);
    const narrowed = await h.identify({ ios_idfv: 'd1', roku_aid: 'r2' });
    expect(explain(narrowed.trace).steps.slice(0, 2)).toEqual([
      'iOS vendor ID d1 (priority 1 in this request) matched 3 profiles (11, 22 and 33).',
      'Roku advertising ID r2 (priority 2 in this request) narrowed the choice to profile 22.',
    ]);
    const conflicting = await h.identify({ ios_idfv: 'd1', roku_aid: 'r9' }, { previous: '33' });
    expect(explain(conflicting.trace).steps).toEqual([
      'The device was last on anonymous profile 33.',
      'iOS vendor ID d1 (priority 1 in this request) matched 3 profiles (11, 22 and 33).',
      'Roku advertising ID r9 (priority 2 in this request) matched only other profiles, so it did not change the choice.',
      "Profile 33 won the tie among 3 profiles (11, 22 and 33): it was the device's previous profile.",
      "Profile link: the request's identifiers matched an anonymous profile, so the answer is profile 33.",
      'Added Roku advertising ID r9 to profile 33.',
    ]);
  });

  it('[TR-5][EL-5][LK-5] best match on a shared device: 10,000 candidates are summarised, never listed', async () => {
    const h = harness('best_match');
    const at = h.clock.peek();
    await h.seed(
      Array.from({ length: 10_000 }, (_, i) => ({
        mpid: String(i + 1),
        identities: { ios_idfv: ['shared'] },
        at: at + i,
      })),
    );
    const r = await h.identify({ ios_idfv: 'shared' });
    expect(r.response.mpid).toBe('10000');
    const explanation = explain(r.trace);
    expect(explanation).toEqual({
      headline: 'Matched an existing profile (iOS vendor ID shared).',
      steps: [
        'iOS vendor ID shared (priority 1 in this request) matched 10,000 profiles (1, 2, 3, 4, 5 and 9,995 others).',
        'Profile 10000 won the tie among 10,000 profiles (1, 2, 3, 4, 5 and 9,995 others): it was seen most recently.',
        'Best match: every matching profile counts, so the answer is profile 10000.',
        'Nothing new was written to profile 10000.',
      ],
    });
    expect(JSON.stringify(explanation).length).toBeLessThan(600);
  });

  it('[TR-5][EL-5] best match with nothing matching creates a new profile', async () => {
    const h = harness('best_match');
    const r = await h.identify({ ios_idfv: 'd1' });
    expect(explain(r.trace)).toEqual({
      headline: 'Created a new profile: no existing profile matched.',
      steps: [
        'No profile holds iOS vendor ID d1.',
        'Best match: nothing matched, so a new profile was created.',
        `Created profile ${r.response.mpid} with iOS vendor ID d1.`,
      ],
    });
  });
});

describe('modify, search and alias in words', () => {
  it('[TR-5][MD-4][MD-5] modify: a unique email moves, its last holder is orphaned; a change and no change', async () => {
    const h = harness();
    await h.seed([
      { mpid: '11', identities: { email: ['a@x.com'] } },
      { mpid: '22', identities: { customerid: ['c2'] } },
    ]);
    const moved = expectOk(await h.modify('22', [{ type: 'email', old: null, new: 'a@x.com' }]));
    expect(explain(moved.trace)).toEqual({
      headline: 'Changed the identities of profile 22.',
      steps: [
        'Email a@x.com moved from profile 11 to profile 22: it can belong to only one profile.',
        'Added email a@x.com to profile 22.',
        'Profile 11 lost its last identifier and is now orphaned.',
      ],
    });
    const changed = expectOk(await h.modify('22', [{ type: 'email', old: 'a@x.com', new: 'b@x.com' }]));
    expect(explain(changed.trace).steps).toEqual([
      'Removed email a@x.com from profile 22.',
      'Added email b@x.com to profile 22.',
    ]);
    const none = expectOk(await h.modify('22', []));
    expect(explain(none.trace)).toEqual({
      headline: 'Nothing changed on profile 22.',
      steps: ['The profile already matched the request.'],
    });
  });

  it('[TR-5][SR-1][SR-2][SR-3] search found, not found, and refused for want of an immutable match', async () => {
    const h = harness('profile_conversion', {
      immutableIdentities: ['customerid'],
      searchRequiresImmutableMatch: true,
    });
    await h.seed([
      { mpid: '11', identities: { customerid: ['c1'] } },
      { mpid: '22', identities: { email: ['a@x.com'] } },
    ]);
    const found = expectOk(await h.search({ customerid: 'c1' }));
    expect(explain(found.trace)).toEqual({
      headline: 'Found profile 11 (customer ID c1).',
      steps: [
        'Customer ID c1 (priority 1 in this request) matched profile 11.',
        'Search only reads: nothing was written.',
      ],
    });
    const missing = expectFailure(await h.search({ customerid: 'c9' })).trace;
    expect(missing).not.toBeNull();
    expect(explain(missing!)).toEqual({
      headline: 'No profile found.',
      steps: ['No profile holds customer ID c9.', 'Search only reads: nothing was written.'],
    });
    const refused = expectFailure(await h.search({ email: 'a@x.com' })).trace;
    expect(explain(refused!).steps.at(-1)).toBe(
      'Profile 22 was not returned: search finds a profile only through an immutable ID it holds.',
    );
  });

  it('[TR-5][AL-1][AL-3] an accepted alias, with its start clamped to the window', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'] } },
    ]);
    const body = {
      environment: 'production',
      data: { source_mpid: '11', destination_mpid: '22', start_unixtime_ms: 0 },
    };
    const accepted = expectOk(await h.resolver.alias(h.config, body));
    expect(explain(accepted.trace)).toEqual({
      headline: 'Accepted an alias of profile 11 into profile 22.',
      steps: [
        'The activity of profile 11 will count for profile 22 once the alias is processed.',
        'The alias start was moved to fit the 90-day alias window.',
      ],
    });
  });
});

describe('options, vocabulary and fallbacks', () => {
  it('[TR-5] MPIDs are shown through mpidLabel and strategies by the names given', async () => {
    const h = harness('default');
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'] } }]);
    const r = await h.login({ customerid: 'c1' });
    const names = new Map([['11', 'Ann Lee']]);
    const explanation = explain(r.trace, { mpidLabel: (mpid) => names.get(mpid) ?? mpid });
    expect(explanation.steps).toEqual([
      'Customer ID c1 (priority 1 in this request) matched profile Ann Lee.',
      'Default strategy: a login ID matched a customer, so the answer is profile Ann Lee.',
      'Nothing new was written to profile Ann Lee.',
    ]);
    const renamed = explain(r.trace, { strategyNames: { default: 'Standard sign-in' } });
    expect(renamed.steps[1]).toBe(
      'Standard sign-in: a login ID matched a customer, so the answer is profile 11.',
    );
  });

  it('[TR-5] describeIdentity names types in words and elides long values', () => {
    expect(describeIdentity('email', 'a@example.com')).toBe('email a@example.com');
    expect(describeIdentity('customerid', 'c-1')).toBe('customer ID c-1');
    expect(describeIdentity('android_aaid', 'x'.repeat(1000))).toBe(
      `Android advertising ID ${'x'.repeat(63)}…`,
    );
  });

  /** A real trace to vary by hand for the vocabulary no request produces today. */
  async function baseTrace(): Promise<ExplainTrace> {
    const h = harness();
    return (await h.identify({ ios_idfv: 'd1' })).trace;
  }

  it('[TR-5][LK-6] every exclusion reason is worded, and long exclusion lists are summarised', async () => {
    const base = await baseTrace();
    const excluded = EXCLUSION_REASONS.map((reason, i) => ({ mpid: String(i + 1), reason }));
    const many = Array.from({ length: 6 }, (_, i) => ({
      mpid: String(100 + i),
      reason: 'orphaned' as const,
    }));
    const trace: ExplainTrace = {
      ...base,
      lookups: [
        {
          purpose: 'any',
          levels: [
            { identityType: 'ios_idfv', value: 'd1', hits: [], excluded, candidates: [] },
            { identityType: 'roku_aid', value: 'r1', hits: [], excluded: many, candidates: [] },
          ],
          tieBreak: null,
          result: null,
        },
      ],
    };
    expect(explain(trace).steps.slice(0, 8)).toEqual([
      'Profile 1 was excluded: it is orphaned and can never be returned.',
      'Profile 2 was excluded: it is logged-in-only, and a request must carry one of its login IDs.',
      'Profile 3 was excluded: it holds an immutable ID that this request does not carry.',
      'Profile 4 was excluded: it holds an immutable ID that this request contradicts.',
      'Profile 5 was excluded: it is anonymous, and only customers were looked for here.',
      'Profile 6 was excluded: it belongs to a customer, and only anonymous profiles were looked for here.',
      '6 profiles (100, 101, 102, 103, 104 and 1 other) were excluded: each is orphaned and can never be returned.',
      'No profile matched.',
    ]);
  });

  it('[TR-5][AL-5][AL-8] every write action is worded, the alias processing ones included', async () => {
    const base = await baseTrace();
    const writes = [
      writeTrace('create_profile', '3'),
      writeTrace('add_identity', '3', 'email', 'c@x.com'),
      writeTrace('remove_identity', '1', 'email', 'a@x.com'),
      writeTrace('move_identity', '1', 'email', 'b@x.com', '3'),
      writeTrace('orphan_profile', '1'),
      writeTrace('accept_alias', '2', null, null, '1'),
      writeTrace('apply_alias', '2', null, null, '1'),
      writeTrace('reject_alias', '2', null, null, '1'),
      writeTrace('undo_alias', '2', null, null, '1'),
      writeTrace('set_first_seen', '2', null, null, '1'),
      writeTrace('set_first_seen', '2'),
    ];
    expect(new Set(writes.map((w) => w.action))).toEqual(new Set(WRITE_ACTIONS));
    const steps = explain({ ...base, kind: 'alias_processing', branch: 'alias_accepted', writes }).steps;
    expect(steps.slice(-10)).toEqual([
      'Created profile 3 with email c@x.com.',
      'Removed email a@x.com from profile 1.',
      'Email b@x.com moved from profile 1 to profile 3: it can belong to only one profile.',
      'Profile 1 lost its last identifier and is now orphaned.',
      'The activity of profile 1 will count for profile 2 once the alias is processed.',
      'The activity of profile 1 now counts for profile 2: the alias was applied.',
      'The alias of profile 1 into profile 2 was dropped.',
      'The alias of profile 1 into profile 2 was undone.',
      'Profile 2 took its first-seen time from profile 1.',
      'The first-seen time of profile 2 was updated.',
    ]);
  });

  it('[TR-5][NV-2] an empty value and an unknown note are still told', async () => {
    const base = await baseTrace();
    const trace: ExplainTrace = {
      ...base,
      identities: [{ identityType: 'email', value: '', raw: '   ', use: 'blocked' }, ...base.identities],
      notes: ['Replayed from the archive.'],
    };
    const steps = explain(trace).steps;
    expect(steps[0]).toBe('The email value "   " is empty and was ignored.');
    expect(steps.at(-1)).toBe('Replayed from the archive.');
  });

  it('[TR-5][TR-1] every branch, situation and strategy gives a headline and steps in words', async () => {
    const base = await baseTrace();
    for (const strategy of STRATEGIES)
      for (const branch of BRANCHES)
        for (const situation of [null, ...SITUATIONS]) {
          const explanation = explain({ ...base, strategy, branch, situation });
          expect(explanation.headline.length).toBeGreaterThan(10);
        }
  });

  it('[TR-5][TR-4] parseExplainTrace accepts a stored trace and explains a missing, other-version or damaged one', async () => {
    const trace = await baseTrace();
    expect(parseExplainTrace(JSON.parse(JSON.stringify(trace)))).toEqual({ ok: true, value: trace });
    expect(parseExplainTrace(undefined)).toEqual({
      ok: false,
      error: {
        headline: 'No explanation was recorded for this request.',
        steps: ['The server sent no trace with this answer, or it has not been synced yet.'],
      },
    });
    expect(parseExplainTrace(null)).toEqual(parseExplainTrace(undefined));
    expect(parseExplainTrace({ ...trace, version: 2 })).toEqual({
      ok: false,
      error: {
        headline: 'This explanation comes from a newer version of Identity Sync.',
        steps: ['It was recorded in trace format 2, and this app reads format 1.'],
      },
    });
    expect(parseExplainTrace({ version: 0 })).toMatchObject({
      error: { headline: 'This explanation comes from an older version of Identity Sync.' },
    });
    for (const damaged of [{ ...trace, branch: 'teleported' }, 'garbage', { version: 1 }]) {
      const parsed = parseExplainTrace(damaged);
      expect(parsed.ok).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.error.headline).toBe('This explanation could not be read.');
      expect(parsed.error.steps).toEqual([
        expect.stringMatching(/^The recorded trace is damaged or incomplete \(.+: .+\)\.$/),
      ]);
    }
  });
});
