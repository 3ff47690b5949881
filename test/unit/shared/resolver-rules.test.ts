/**
 * Resolver rules beyond the §7 scenarios, on the in-memory reference store.
 */
import { describe, expect, it } from 'vitest';
import type { ScopeConfigInput, Strategy } from '../../../shared/identity/scope-config.ts';
import { MemoryIdentityStore } from '../../../shared/memory-store/memory-store.ts';
import { ExplainTraceSchema } from '../../../shared/resolver/trace.ts';
import { expectFailure, expectOk, Harness, identityBody, scenarioConfig } from '../../helpers/harness.ts';

const DAY = 86_400_000;

function harness(strategy: Strategy = 'profile_conversion', overrides: Partial<ScopeConfigInput> = {}) {
  return new Harness(new MemoryIdentityStore(), scenarioConfig(strategy, overrides));
}

describe('idempotency', () => {
  it('[IP-1][IP-2][TR-3] a replayed request_id returns the stored answer and trace and writes nothing', async () => {
    const h = harness();
    const first = await h.identify({ ios_idfv: 'd1' }, { requestId: 'req-1' });
    const before = await h.dump();
    const again = await h.identify({ ios_idfv: 'd1' }, { requestId: 'req-1' });
    expect(again.replayed).toBe(true);
    expect(again.response).toEqual(first.response);
    expect(again.trace).toEqual(first.trace);
    expect(await h.dump()).toEqual(before);
  });

  it('[IP-2] a replay answers the original result even after the graph has moved on', async () => {
    const h = harness();
    const first = await h.identify({ ios_idfv: 'd1' }, { requestId: 'req-1' });
    await h.login({ customerid: 'c1', ios_idfv: 'd1' }, { previous: first.response.mpid });
    const replay = await h.identify({ ios_idfv: 'd1' }, { requestId: 'req-1' });
    expect(replay.response).toEqual(first.response);
    expect(replay.response.is_ephemeral).toBe(true);
  });

  it('[IP-3] the same request_id with another body or kind is REQUEST_ID_CONFLICT and writes nothing', async () => {
    const h = harness();
    await h.identify({ ios_idfv: 'd1' }, { requestId: 'req-1' });
    const before = await h.dump();
    const other = await h.resolver.identify(
      h.config,
      identityBody({ ios_idfv: 'd2' }, { requestId: 'req-1' }),
    );
    expect(expectFailure(other).error.code).toBe('REQUEST_ID_CONFLICT');
    const otherKind = await h.resolver.login(
      h.config,
      identityBody({ ios_idfv: 'd1' }, { requestId: 'req-1' }),
    );
    expect(expectFailure(otherKind).error.code).toBe('REQUEST_ID_CONFLICT');
    expect(await h.dump()).toEqual(before);
  });

  it('[IP-1] a request without request_id is stored under a generated id', async () => {
    const h = harness();
    const r = await h.identify({ ios_idfv: 'd1' });
    const stored = (await h.dump()).requests;
    expect(stored.map((s) => s.requestId)).toEqual([r.requestId]);
    expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('[IP-4][IL-8] read_only resolves without persisting anything', async () => {
    const h = harness();
    const r = await h.identify({ ios_idfv: 'd1' }, { readOnly: true });
    expect(r.created).toBe(true);
    expect(r.trace.notes).toContain('read_only: nothing was persisted');
    expect(await h.profileCount()).toBe(0);
    expect((await h.dump()).requests).toEqual([]);
  });
});

describe('request normalisation', () => {
  it('[NV-1] identity values are normalised before lookup and storage', async () => {
    const h = harness();
    const first = await h.login({ email: '  Ed@Example.COM ', ios_idfv: 'd1' });
    const second = await h.login({ email: 'ed@example.com' });
    expect(second.response.mpid).toBe(first.response.mpid);
    expect(await h.identitiesOf(first.response.mpid)).toMatchObject({ email: ['ed@example.com'] });
    expect(first.trace.identities.find((i) => i.identityType === 'email')).toEqual({
      identityType: 'email',
      value: 'ed@example.com',
      raw: '  Ed@Example.COM ',
      use: 'lookup',
    });
  });

  it('[NV-2] blocked values are dropped, reported, and never stored', async () => {
    const h = harness();
    const r = await h.identify({ email: 'null', ios_idfv: 'd1' });
    expect(await h.identitiesOf(r.response.mpid)).toEqual({ ios_idfv: ['d1'] });
    expect(r.trace.identities).toContainEqual({
      identityType: 'email',
      value: 'null',
      raw: null,
      use: 'blocked',
    });
  });

  it('[NV-3] a request whose identities are all blocked is refused and writes nothing', async () => {
    const h = harness();
    const r = await h.resolver.identify(h.config, identityBody({ email: 'guest', customerid: 'undefined' }));
    expect(expectFailure(r).error.code).toBe('NO_USABLE_IDENTITIES');
    expect((await h.dump()).requests).toEqual([]);
  });

  it('[NV-4] identity types outside the priority are ignored for lookup and storage', async () => {
    const h = harness();
    const r = await h.identify({ ios_idfv: 'd1', push_token: 'p1' });
    expect(await h.identitiesOf(r.response.mpid)).toEqual({ ios_idfv: ['d1'] });
    expect(r.trace.identities).toContainEqual({
      identityType: 'push_token',
      value: 'p1',
      raw: null,
      use: 'not_in_priority',
    });
  });

  it('[NV-5][LO-5] logout ignores login-type values; with nothing else it creates a record without identities', async () => {
    const h = harness();
    const known = await h.login({ customerid: 'c1', ios_idfv: 'd1' });
    const out = await h.logout({ customerid: 'c1' }, { previous: known.response.mpid });
    expect(out.created).toBe(true);
    expect(out.trace.identities).toContainEqual({
      identityType: 'customerid',
      value: 'c1',
      raw: null,
      use: 'ignored_in_logout',
    });
    expect(await h.identitiesOf(out.response.mpid)).toEqual({});
  });

  it('[NV-6][ID-3] empty known_identities, non-string values and oversize values are refused', async () => {
    const h = harness();
    const cases: [unknown, string][] = [
      [{}, 'VALIDATION_ERROR'],
      [{ email: null, customerid: '' }, 'VALIDATION_ERROR'],
      [{ email: 42 }, 'INVALID_IDENTITY_VALUE'],
      [{ email: 'x'.repeat(1025) }, 'INVALID_IDENTITY_VALUE'],
      [{ fax: '1' }, 'UNKNOWN_IDENTITY_TYPE'],
      [{ customerid: 'a', customer_id: 'b' }, 'DUPLICATE_IDENTITY_TYPE'],
    ];
    for (const [identities, code] of cases) {
      const r = await h.resolver.identify(h.config, {
        environment: 'production',
        known_identities: identities,
      });
      expect(expectFailure(r).error.code, JSON.stringify(identities).slice(0, 40)).toBe(code);
    }
    expect(await h.profileCount()).toBe(0);
  });
});

describe('lookup and eligibility', () => {
  it('[LK-4] lookup stops as soon as one candidate remains', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { ios_idfv: ['d1'], roku_aid: ['r1'] } }]);
    const r = await h.identify({ ios_idfv: 'd1', roku_aid: 'r1' });
    expect(r.trace.lookups.at(-1)?.levels).toHaveLength(1);
  });

  const immutable = {
    loginIdentities: ['customerid', 'email'],
    uniqueIdentities: ['customerid', 'email'],
    immutableIdentities: ['customerid'],
  } as Partial<ScopeConfigInput>;

  it('[EL-3] a record holding an immutable ID needs a matching immutable ID in the request', async () => {
    const h = harness('profile_conversion', immutable);
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], email: ['a@x.com'] } }]);
    const r = await h.identify({ email: 'a@x.com' });
    expect(r.response.mpid).not.toBe('11');
    expect(r.trace.lookups[0]?.levels[0]?.excluded).toEqual([{ mpid: '11', reason: 'immutable_protected' }]);
  });

  it('[EL-4] a contradicting immutable ID in the request excludes the record', async () => {
    const h = harness('profile_conversion', {
      ...immutable,
      loginIdentities: ['customerid', 'email', 'other'],
      uniqueIdentities: ['customerid', 'email', 'other'],
      identityPriority: ['customerid', 'email', 'other', 'ios_idfv'],
      immutableIdentities: ['customerid', 'other'],
    });
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], other: ['o1'] } }]);
    const r = await h.identify({ customerid: 'c1', other: 'o2' });
    expect(r.response.mpid).not.toBe('11');
    expect(r.trace.lookups[0]?.levels[0]?.excluded).toEqual([{ mpid: '11', reason: 'immutable_conflict' }]);
  });
});

describe('identify, login and logout details', () => {
  it('[IL-6] link with autoAliasOnLinkLogin queues an alias from the anonymous previous MPID', async () => {
    const h = harness('profile_link', { aliasing: { autoAliasOnLinkLogin: true } });
    const anon = await h.identify({ ios_idfv: 'd1' });
    const known = await h.login({ customerid: 'c1', ios_idfv: 'd1' }, { previous: anon.response.mpid });
    const [processed] = await h.resolver.processDueAliases(h.config);
    expect(processed?.alias).toMatchObject({
      sourceMpid: anon.response.mpid,
      destinationMpid: known.response.mpid,
      status: 'applied',
    });
  });

  it('[IL-6] without the flag no alias is queued', async () => {
    const h = harness('profile_link');
    const anon = await h.identify({ ios_idfv: 'd1' });
    await h.login({ customerid: 'c1', ios_idfv: 'd1' }, { previous: anon.response.mpid });
    expect((await h.dump()).aliases).toEqual([]);
  });

  it('[IL-7] matched_identities are the request identifiers the record held before write-back', async () => {
    const h = harness();
    const anon = await h.identify({ ios_idfv: 'd1' });
    const r = await h.identify({ ios_idfv: 'd1', roku_aid: 'r1' });
    expect(r.response.mpid).toBe(anon.response.mpid);
    expect(r.response.matched_identities).toEqual({ ios_idfv: 'd1' });
    expect(r.response.context).toBeNull();
  });

  it('[IL-9] a returned record is seen now; a new record is created, first seen and seen now', async () => {
    const h = harness();
    const created = await h.identify({ ios_idfv: 'd1' });
    const at = await h.profile(created.response.mpid);
    expect(at.createdAt).toBe(at.firstSeenAt);
    expect(at.lastSeenAt).toBe(at.createdAt);
    await h.identify({ ios_idfv: 'd1' });
    const later = await h.profile(created.response.mpid);
    expect(later.lastSeenAt).toBeGreaterThan(at.lastSeenAt);
    expect(later.firstSeenAt).toBe(at.firstSeenAt);
  });

  it('[LO-2] conversion with reuse_anonymous_match returns to the anonymous device profile', async () => {
    const h = harness('profile_conversion', { conversionLogout: 'reuse_anonymous_match' });
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'], ios_idfv: ['d1'] } },
    ]);
    const r = await h.logout({ ios_idfv: 'd1' }, { previous: '22' });
    expect(r.response.mpid).toBe('11');
  });

  it('[LO-4] best match treats login and logout as identify, or rejects them', async () => {
    const lenient = harness('best_match', { identityPriority: ['email', 'ios_idfv'] });
    const first = await lenient.identify({ ios_idfv: 'd1' });
    const login = await lenient.login({ email: 'a@x.com', ios_idfv: 'd1' });
    const logout = await lenient.logout({ ios_idfv: 'd1' });
    expect(login.response.mpid).toBe(first.response.mpid);
    expect(logout.response.mpid).toBe(first.response.mpid);
    expect(login.response.is_logged_in).toBe(false);
    const strict = harness('best_match', {
      identityPriority: ['email', 'ios_idfv'],
      bestMatchLoginLogout: 'reject',
    });
    const refused = await strict.resolver.login(strict.config, identityBody({ email: 'a@x.com' }));
    expect(expectFailure(refused).error.code).toBe('STRATEGY_UNSUPPORTED');
    expect(await strict.profileCount()).toBe(0);
  });

  it('[WB-4] a unique value is not added when the record holds another value of that type', async () => {
    const h = harness();
    const known = await h.login({ customerid: 'c1', email: 'a@x.com' });
    const r = await h.login({ customerid: 'c1', email: 'b@x.com' });
    expect(r.response.mpid).toBe(known.response.mpid);
    expect(r.trace.situation).toBe('K5');
    expect(r.trace.skipped).toEqual([
      { identityType: 'email', value: 'b@x.com', reason: 'unique_type_already_set', holder: null },
    ]);
    expect((await h.identitiesOf(known.response.mpid))['email']).toEqual(['a@x.com']);
  });

  it('[WB-5] a unique value nobody holds is added to a record without one', async () => {
    const h = harness();
    const known = await h.login({ customerid: 'c1' });
    await h.login({ customerid: 'c1', email: 'a@x.com' });
    expect((await h.identitiesOf(known.response.mpid))['email']).toEqual(['a@x.com']);
  });

  it('[CR-1] a new record does not take a unique value another record holds', async () => {
    const h = harness('profile_link', { loginIdentities: ['customerid'] });
    await h.seed([{ mpid: '11', identities: { email: ['a@x.com'] } }]);
    const r = await h.login({ customerid: 'c2', email: 'a@x.com' });
    expect(r.created).toBe(true);
    expect(r.trace.situation).toBe('K2');
    expect(await h.identitiesOf(r.response.mpid)).toEqual({ customerid: ['c2'] });
    expect(r.trace.skipped).toEqual([
      { identityType: 'email', value: 'a@x.com', reason: 'unique_held_by_other', holder: '11' },
    ]);
  });
});

describe('modify details', () => {
  it('[MD-2] empty identity_changes is a no-op 200; both values null is refused', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { ios_idfv: ['d1'] } }]);
    const before = (await h.dump()).profiles;
    const r = expectOk(await h.modify('11', []));
    expect(r.response).toEqual({ mpid: '11', is_logged_in: false, change_results: [] });
    expect((await h.dump()).profiles).toEqual(before);
    expect(expectFailure(await h.modify('11', [{ type: 'email', old: null, new: null }])).error.code).toBe(
      'VALIDATION_ERROR',
    );
  });

  it('[MD-2] remove, then add, then replace a non-unique value', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { ios_idfv: ['d1'], roku_aid: ['r1'] } }]);
    expectOk(await h.modify('11', [{ type: 'roku_aid', old: 'r1', new: null }]));
    expect(await h.identitiesOf('11')).toEqual({ ios_idfv: ['d1'] });
    expectOk(await h.modify('11', [{ type: 'roku_aid', old: null, new: 'r2' }]));
    expectOk(await h.modify('11', [{ type: 'ios_idfv', old: 'd1', new: 'd2' }]));
    expect(await h.identitiesOf('11')).toEqual({ ios_idfv: ['d2'], roku_aid: ['r2'] });
  });

  it('[MD-3][ID-4] the device application stamp and types outside the priority cannot be modified; blocked values are refused', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { ios_idfv: ['d1'] } }]);
    const before = await h.dump();
    for (const [type, value, code] of [
      ['device_application_stamp', 'x', 'IDENTITY_NOT_MODIFIABLE'],
      ['push_token', 'x', 'IDENTITY_NOT_MODIFIABLE'],
      ['email', 'null', 'BLOCKED_IDENTITY_VALUE'],
      ['fax', 'x', 'UNKNOWN_IDENTITY_TYPE'],
    ] as const) {
      expect(expectFailure(await h.modify('11', [{ type, old: null, new: value }])).error.code, type).toBe(
        code,
      );
    }
    expect(await h.dump()).toEqual(before);
  });

  it('[MD-1] modify of an invalid MPID is INVALID_MPID; of an orphan is LOOKUP_ERROR', async () => {
    const h = harness();
    expect(expectFailure(await h.modify('01', [])).error.code).toBe('INVALID_MPID');
    await h.seed([
      { mpid: '11', identities: { email: ['a@x.com'] } },
      { mpid: '22', identities: { customerid: ['c2'] } },
    ]);
    expectOk(await h.modify('22', [{ type: 'email', old: null, new: 'a@x.com' }]));
    expect(expectFailure(await h.modify('11', [{ type: 'ios_idfv', old: null, new: 'd' }])).error.code).toBe(
      'LOOKUP_ERROR',
    );
  });

  const immutable = {
    loginIdentities: ['customerid', 'email'],
    uniqueIdentities: ['customerid', 'email'],
    immutableIdentities: ['customerid'],
  } as Partial<ScopeConfigInput>;

  it('[MD-7] an immutable ID can be set once, not removed, and not taken from another profile', async () => {
    const h = harness('profile_conversion', immutable);
    await h.seed([
      { mpid: '11', identities: { email: ['a@x.com'] } },
      { mpid: '22', identities: { customerid: ['c2'] } },
    ]);
    expectOk(await h.modify('11', [{ type: 'customerid', old: null, new: 'c1' }]));
    expectOk(await h.modify('11', [{ type: 'customerid', old: 'c1', new: 'c1' }]));
    expect(
      expectFailure(await h.modify('11', [{ type: 'customerid', old: 'c1', new: null }])).error.code,
    ).toBe('IMMUTABLE_IDENTITY');
    const h2 = harness('profile_conversion', immutable);
    await h2.seed([
      { mpid: '11', identities: { email: ['a@x.com'] } },
      { mpid: '22', identities: { customerid: ['c2'] } },
    ]);
    expect(
      expectFailure(await h2.modify('11', [{ type: 'customerid', old: null, new: 'c2' }])).error.code,
    ).toBe('IMMUTABLE_IDENTITY');
    expect(await h2.identitiesOf('22')).toEqual({ customerid: ['c2'] });
  });

  it('[MD-8] a stale old_value removes nothing and still sets the new value', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], roku_aid: ['r1'] } }]);
    expectOk(await h.modify('11', [{ type: 'roku_aid', old: 'stale', new: 'r2' }]));
    expect((await h.identitiesOf('11'))['roku_aid']).toEqual(['r1', 'r2']);
  });

  it('[MD-9] one refused change leaves the whole modify unapplied', async () => {
    const h = harness('profile_conversion', immutable);
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], email: ['a@x.com'] } }]);
    const before = await h.dump();
    const r = await h.modify('11', [
      { type: 'email', old: 'a@x.com', new: 'b@x.com' },
      { type: 'customerid', old: 'c1', new: 'c2' },
    ]);
    expect(expectFailure(r).error).toMatchObject({ code: 'IMMUTABLE_IDENTITY', path: 'identity_changes[1]' });
    expect(await h.dump()).toEqual(before);
  });

  it('[MD-10][MD-11] a unique replace leaves exactly one value and reports the modified profile', async () => {
    const h = harness();
    await h.seed([{ mpid: '11', identities: { customerid: ['c1'], email: ['a@x.com'] } }]);
    const r = expectOk(await h.modify('11', [{ type: 'email', old: 'zzz', new: 'b@x.com' }]));
    expect(r.response).toEqual({
      mpid: '11',
      is_logged_in: true,
      change_results: [{ identity_type: 'email', modified_mpid: '11' }],
    });
    expect((await h.identitiesOf('11'))['email']).toEqual(['b@x.com']);
  });

  it('[MD-5][HI-1] a profile that loses its last identifier is orphaned, with history on both sides', async () => {
    const h = harness();
    await h.seed([
      { mpid: '11', identities: { email: ['a@x.com'] } },
      { mpid: '22', identities: { customerid: ['c2'] } },
    ]);
    expectOk(await h.modify('22', [{ type: 'email', old: null, new: 'a@x.com' }]));
    const kinds = (await h.dump()).history.map((e) => [e.kind, e.mpid, e.otherMpid]);
    expect(kinds).toEqual([
      ['identity_moved', '11', '22'],
      ['identity_added', '22', null],
      ['profile_orphaned', '11', null],
    ]);
    const r = await h.identify({ email: 'a@x.com' });
    expect(r.response.mpid).toBe('22');
  });
});

describe('search', () => {
  it('[SR-1][SR-4] search never writes, not even the request, and answers the identify shape', async () => {
    const h = harness();
    const known = await h.login({ customerid: 'c1' });
    const before = await h.dump();
    const found = expectOk(await h.search({ customerid: 'c1' }));
    expect(found.response).toMatchObject({
      mpid: known.response.mpid,
      is_logged_in: false,
      is_ephemeral: false,
      matched_identities: { customerid: 'c1' },
    });
    expect(await h.dump()).toEqual(before);
  });

  it('[SR-2][EL-2] a known profile is not found without its login ID; the trace says why', async () => {
    const h = harness();
    await h.login({ customerid: 'c1', ios_idfv: 'd1' });
    const missing = expectFailure(await h.search({ ios_idfv: 'd1' }));
    expect(missing.error.code).toBe('NOT_FOUND_ERROR');
    expect(missing.trace?.lookups[0]?.levels[0]?.excluded[0]?.reason).toBe('login_protected');
  });
});

describe('aliasing details', () => {
  const aliasBody = (extra: Record<string, unknown> = {}) => ({
    environment: 'production',
    data: { source_mpid: '11', destination_mpid: '22', ...extra },
  });

  it('[AL-2] unknown MPIDs, invalid MPIDs and reversed ranges are refused and write nothing', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'] } },
    ]);
    const before = await h.dump();
    const now = h.clock.peek();
    const cases: [unknown, string][] = [
      [{ environment: 'production', data: { source_mpid: '11', destination_mpid: '33' } }, 'ALIAS_ERROR'],
      [{ environment: 'production', data: { source_mpid: 'x', destination_mpid: '22' } }, 'INVALID_MPID'],
      [{ environment: 'production', data: { destination_mpid: '22' } }, 'VALIDATION_ERROR'],
      [aliasBody({ start_unixtime_ms: now, end_unixtime_ms: now - 1 }), 'ALIAS_ERROR'],
      [aliasBody({ start_unixtime_ms: 0, end_unixtime_ms: now - 100 * DAY }), 'ALIAS_ERROR'],
      [{ environment: 'production' }, 'VALIDATION_ERROR'],
    ];
    for (const [body, code] of cases)
      expect(expectFailure(await h.resolver.alias(h.config, body)).error.code).toBe(code);
    expect(await h.dump()).toEqual(before);
  });

  it('[AL-1] aliasing switched off is 403 even under link', async () => {
    const h = harness('profile_link', { aliasing: { enabled: false } });
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'] } },
    ]);
    expect(expectFailure(await h.resolver.alias(h.config, aliasBody())).error.code).toBe(
      'ALIAS_NOT_AVAILABLE',
    );
  });

  it('[AL-3] a start before the window is clamped to it and noted in the trace', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'] } },
    ]);
    const accepted = expectOk(await h.resolver.alias(h.config, aliasBody({ start_unixtime_ms: 0 })));
    expect(accepted.alias.endMs - accepted.alias.startMs).toBe(90 * DAY);
    expect(accepted.trace.notes[0]).toContain('clamped');
  });

  it('[AL-5][AL-6] aliases are processed oldest first; an overlapping second alias of one source is dropped', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'] } },
      { mpid: '33', identities: { customerid: ['c3'] } },
    ]);
    expectOk(await h.resolver.alias(h.config, aliasBody()));
    expectOk(await h.resolver.alias(h.config, aliasBody({ destination_mpid: '33' })));
    const processed = await h.resolver.processDueAliases(h.config);
    expect(processed.map((p) => [p.alias.destinationMpid, p.alias.status])).toEqual([
      ['22', 'applied'],
      ['33', 'rejected'],
    ]);
    expect(processed[1]?.alias.statusReason).toContain('overlapping window');
  });

  it('[AL-6] a destination that was a source is dropped', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'] } },
      { mpid: '33', identities: { ios_idfv: ['d3'] } },
    ]);
    expectOk(await h.resolver.alias(h.config, aliasBody()));
    await h.resolver.processDueAliases(h.config);
    expectOk(await h.resolver.alias(h.config, aliasBody({ source_mpid: '33', destination_mpid: '11' })));
    const [processed] = await h.resolver.processDueAliases(h.config);
    expect(processed?.alias.statusReason).toContain('previously a source');
  });

  it('[AL-8] undo restores the destination first-seen time from the aliases that remain', async () => {
    const h = harness('profile_link');
    const now = h.clock.peek();
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] }, at: now - 20 * DAY },
      { mpid: '33', identities: { ios_idfv: ['d3'] }, at: now - 10 * DAY },
      { mpid: '22', identities: { customerid: ['c1'] }, at: now - 1 * DAY },
    ]);
    const first = expectOk(await h.resolver.alias(h.config, aliasBody()));
    expectOk(await h.resolver.alias(h.config, aliasBody({ source_mpid: '33' })));
    await h.resolver.processDueAliases(h.config);
    expect((await h.profile('22')).firstSeenAt).toBe(now - 20 * DAY);
    expectOk(await h.resolver.undoAlias(h.config, first.aliasId));
    expect((await h.profile('22')).firstSeenAt).toBe(now - 10 * DAY);
    const undone = (await h.dump()).aliases.find((a) => a.id === first.aliasId);
    expect(undone?.status).toBe('undone');
    expect(expectFailure(await h.resolver.undoAlias(h.config, first.aliasId)).error.code).toBe('ALIAS_ERROR');
    expect(expectFailure(await h.resolver.undoAlias(h.config, 'nope')).error.code).toBe('LOOKUP_ERROR');
  });

  it('[AL-9] alias requests are idempotent by request_id', async () => {
    const h = harness('profile_link');
    await h.seed([
      { mpid: '11', identities: { ios_idfv: ['d1'] } },
      { mpid: '22', identities: { customerid: ['c1'] } },
    ]);
    const body = { ...aliasBody(), request_id: 'alias-1' };
    const first = expectOk(await h.resolver.alias(h.config, body));
    const before = await h.dump();
    const again = expectOk(await h.resolver.alias(h.config, body));
    expect(again).toMatchObject({ replayed: true, aliasId: first.aliasId });
    expect(await h.dump()).toEqual(before);
  });
});

describe('traces and history', () => {
  it('[TR-1][TR-2][TR-4] traces validate against their schema and name the returned profile', async () => {
    const h = harness('profile_link');
    const a = await h.identify({ ios_idfv: 'd1' });
    const b = await h.login(
      { customerid: 'c1', email: 'a@x.com', ios_idfv: 'd1' },
      { previous: a.response.mpid },
    );
    for (const r of [a, b]) {
      expect(ExplainTraceSchema.parse(r.trace)).toEqual(r.trace);
      expect(r.trace.result.mpid).toBe(r.response.mpid);
    }
    expect(b.trace.branch).toBe('new_known');
    expect(b.trace.writes.map((w) => w.action)).toEqual([
      'create_profile',
      'add_identity',
      'add_identity',
      'add_identity',
    ]);
  });

  it('[HI-1][HI-2] graph changes append history with actor, request and reason, in increasing seq', async () => {
    const h = harness();
    const r = await h.resolver.identify(h.config, identityBody({ ios_idfv: 'd1' }, { requestId: 'r1' }), {
      actor: { kind: 'device', id: 'dev-1' },
    });
    const created = expectOk(r);
    const history = (await h.dump()).history;
    expect(history.map((e) => e.kind)).toEqual(['profile_created', 'identity_added']);
    expect(history[0]).toMatchObject({
      mpid: created.response.mpid,
      requestId: 'r1',
      actor: { kind: 'device', id: 'dev-1' },
    });
    expect(history[0]?.reason).toContain('identify');
    expect((history[1]?.seq ?? 0) > (history[0]?.seq ?? 0)).toBe(true);
  });
});
