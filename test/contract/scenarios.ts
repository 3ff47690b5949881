/**
 * The 40 acceptance scenarios of spec §7, registered against a store adapter. MPIDs the docs
 * print for pre-existing profiles are seeded as written; profiles the resolver creates get
 * labels (A, B, ...) and are checked to be new.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScopeConfigInput, Strategy } from '../../shared/identity/scope-config.ts';
import { expectFailure, expectOk, Harness, scenarioConfig } from '../helpers/harness.ts';
import type { AdapterFactory } from './adapter.ts';

const DAY = 86_400_000;
const ED = 'ed.hyde@example.com';
const JEKYLL = 'h.jekyll@example.com';
const POOLE = 'poole@example.com';

export function registerScenarioSuite(factory: AdapterFactory): void {
  describe(`spec §7 scenarios on ${factory.name}`, () => {
    let close: () => Promise<void>;
    let stores: Awaited<ReturnType<AdapterFactory['create']>>[] = [];

    beforeEach(() => {
      stores = [];
      close = async () => {
        for (const s of stores) await s.close();
      };
    });
    afterEach(() => close());

    async function harness(strategy: Strategy, overrides: Partial<ScopeConfigInput> = {}): Promise<Harness> {
      const created = await factory.create();
      stores.push(created);
      return new Harness(created.store, scenarioConfig(strategy, overrides));
    }

    /** Scenarios 1-8: the documented profile conversion flow, replayed up to step `upTo`. */
    async function conversionFlow(h: Harness, upTo: number) {
      let A = '';
      let B = '';
      let C = '';
      if (upTo >= 1) A = (await h.identify({ ios_idfv: '9876' })).response.mpid;
      if (upTo >= 2) await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: A });
      if (upTo >= 3) B = (await h.logout({ ios_idfv: '9876' }, { previous: A })).response.mpid;
      if (upTo >= 4) await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: B });
      if (upTo >= 5) {
        await h.seed([{ mpid: '3456', identities: { email: [JEKYLL] } }]);
        expectOk(await h.modify(A, [{ type: 'email', old: ED, new: JEKYLL }]));
      }
      if (upTo >= 6) C = (await h.identify({ roku_aid: '8765' })).response.mpid;
      if (upTo >= 7)
        await h.login({ customerid: 'ABC123', email: JEKYLL, roku_aid: '8765' }, { previous: C });
      return { A, B, C };
    }

    it('[SC-1][IL-3][IL-7] conversion: identify on a fresh device creates an anonymous profile', async () => {
      const h = await harness('profile_conversion');
      const r = await h.identify({ ios_idfv: '9876' });
      expect(r.created).toBe(true);
      expect(r.response).toMatchObject({ is_ephemeral: true, is_logged_in: false, matched_identities: {} });
      expect(await h.identitiesOf(r.response.mpid)).toEqual({ ios_idfv: ['9876'] });
      expect(r.trace.situation).toBe('N0');
    });

    it('[SC-2][IL-4] conversion: login converts the anonymous profile in place (same MPID, now known)', async () => {
      const h = await harness('profile_conversion');
      const { A } = await conversionFlow(h, 1);
      const r = await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: A });
      expect(r.response.mpid).toBe(A);
      expect(r.response).toMatchObject({
        is_logged_in: true,
        is_ephemeral: false,
        matched_identities: { ios_idfv: '9876' },
      });
      expect(await h.identitiesOf(A)).toEqual({ customerid: ['ABC123'], email: [ED], ios_idfv: ['9876'] });
      expect(r.trace).toMatchObject({ situation: 'K2', branch: 'convert_anonymous' });
    });

    it('[SC-3][LO-2] conversion: logout creates a new anonymous profile and leaves the known one', async () => {
      const h = await harness('profile_conversion');
      const { A } = await conversionFlow(h, 2);
      const before = await h.profile(A);
      const r = await h.logout({ ios_idfv: '9876' }, { previous: A });
      expect(r.created).toBe(true);
      expect(r.response.mpid).not.toBe(A);
      expect(r.response).toMatchObject({ is_logged_in: false, is_ephemeral: true });
      expect(await h.identitiesOf(r.response.mpid)).toEqual({ ios_idfv: ['9876'] });
      expect(await h.profile(A)).toEqual(before);
    });

    it('[SC-4][IL-2] conversion: a returning login resolves to the known profile; the new anonymous one is not merged', async () => {
      const h = await harness('profile_conversion');
      const { A, B } = await conversionFlow(h, 3);
      const r = await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: B });
      expect(r.response.mpid).toBe(A);
      expect(r.trace.situation).toBe('K1');
      expect(await h.identitiesOf(B)).toEqual({ ios_idfv: ['9876'] });
    });

    it('[SC-5][MD-4][MD-5] conversion: modify takes a unique email from a feed profile, which is orphaned', async () => {
      const h = await harness('profile_conversion');
      const { A } = await conversionFlow(h, 5);
      expect((await h.identitiesOf(A))['email']).toEqual([JEKYLL]);
      const orphan = await h.profile('3456');
      expect(orphan.orphanedAt).not.toBeNull();
      expect(orphan.identities).toEqual({});
      const found = await h.search({ email: JEKYLL });
      expect(expectOk(found).response.mpid).toBe(A);
    });

    it('[SC-6][IL-3] conversion: identify on a new device creates a new anonymous profile', async () => {
      const h = await harness('profile_conversion');
      const { A } = await conversionFlow(h, 5);
      const r = await h.identify({ roku_aid: '8765' });
      expect(r.created).toBe(true);
      expect([A, '3456']).not.toContain(r.response.mpid);
    });

    it('[SC-7][IL-2][WB-2] conversion: login on the new device returns the known profile and adds the Roku ID', async () => {
      const h = await harness('profile_conversion');
      const { A, C } = await conversionFlow(h, 6);
      const r = await h.login({ customerid: 'ABC123', email: JEKYLL, roku_aid: '8765' }, { previous: C });
      expect(r.response.mpid).toBe(A);
      expect((await h.identitiesOf(A))['roku_aid']).toEqual(['8765']);
      expect(await h.identitiesOf(C)).toEqual({ roku_aid: ['8765'] });
    });

    it('[SC-8][EL-2] conversion: a device-only identify cannot reach the known profile; it returns the anonymous one', async () => {
      const h = await harness('profile_conversion');
      const { A, C } = await conversionFlow(h, 7);
      const r = await h.identify({ roku_aid: '8765' });
      expect(r.response.mpid).toBe(C);
      const level = r.trace.lookups[0]?.levels[0];
      expect(level?.excluded).toContainEqual({ mpid: A, reason: 'login_protected' });
    });

    it('[SC-9][IL-4] conversion: a different person logging in from a known current user gets a new known profile', async () => {
      const h = await harness('profile_conversion');
      await h.seed([{ mpid: '1234', identities: { customerid: ['ABC123'], ios_idfv: ['9876'] } }]);
      const before = await h.profile('1234');
      const r = await h.login({ customerid: 'XYZ999', ios_idfv: '9876' }, { previous: '1234' });
      expect(r.created).toBe(true);
      expect(r.trace.situation).toBe('K3');
      expect(await h.identitiesOf(r.response.mpid)).toEqual({ customerid: ['XYZ999'], ios_idfv: ['9876'] });
      expect(await h.profile('1234')).toEqual(before);
    });

    it('[SC-10][IL-3][WB-2] default strategy: email is not a login ID, so identify adds it and the profile stays anonymous', async () => {
      const h = await harness('default');
      await h.seed([{ mpid: '1234', identities: { device_application_stamp: ['d1'] } }]);
      const r = await h.identify({ email: 'a@x.com', device_application_stamp: 'd1' });
      expect(r.response).toMatchObject({ mpid: '1234', is_ephemeral: true, is_logged_in: false });
      expect(await h.identitiesOf('1234')).toEqual({ device_application_stamp: ['d1'], email: ['a@x.com'] });
    });

    const tieConfig = (priority: string[]) =>
      ({
        identityPriority: priority,
        loginIdentities: ['customerid'],
        uniqueIdentities: ['customerid'],
      }) as Partial<ScopeConfigInput>;
    const tieProfiles = [
      { mpid: '1111', identities: { email: [JEKYLL], ios_idfv: ['1234'], other: ['AAAA'] } },
      { mpid: '2222', identities: { email: [JEKYLL], android_aaid: ['2345'], other: ['BBBB'] } },
    ];

    it('[SC-11][LK-2] a lower identifier breaks the tie; a conflicting one lower still does not disqualify', async () => {
      const h = await harness(
        'profile_conversion',
        tieConfig(['customerid', 'email', 'other', 'ios_idfv', 'android_aaid']),
      );
      await h.seed(tieProfiles);
      const r = await h.identify({ email: JEKYLL, other: 'AAAA', ios_idfv: '2345' });
      expect(r.response.mpid).toBe('1111');
      expect(r.trace.lookups.at(-1)?.levels.map((l) => l.candidates)).toEqual([['1111', '2222'], ['1111']]);
    });

    it('[SC-12][LK-3] an identifier absent from the request is skipped; the next one breaks the tie', async () => {
      const h = await harness(
        'profile_conversion',
        tieConfig(['customerid', 'email', 'ios_idfv', 'android_aaid']),
      );
      await h.seed(tieProfiles);
      const r = await h.identify({ email: JEKYLL, android_aaid: '2345' });
      expect(r.response.mpid).toBe('2222');
    });

    const userData = [
      { mpid: '1234', identities: { customerid: ['h.jekyll.85'], email: [ED], ios_idfv: ['1234'] } },
      { mpid: '5678', identities: { email: [JEKYLL] } },
    ];

    it('[SC-13][EL-2] one matching login ID is enough to reach a known profile', async () => {
      const h = await harness('profile_conversion', { loginIdentities: ['customerid', 'email'] });
      await h.seed(userData);
      expect((await h.identify({ email: ED })).response.mpid).toBe('1234');
    });

    it('[SC-14][EL-2] login = {email}: the email finds its profile', async () => {
      const h = await harness('profile_conversion', {
        loginIdentities: ['email'],
        uniqueIdentities: ['email'],
      });
      await h.seed(userData);
      expect((await h.identify({ email: JEKYLL, ios_idfv: '5678' })).response.mpid).toBe('5678');
    });

    it('[SC-15][EL-2] a device ID alone cannot reach a known profile: a new profile is created', async () => {
      const h = await harness('profile_conversion', {
        loginIdentities: ['email'],
        uniqueIdentities: ['email'],
      });
      await h.seed(userData);
      const r = await h.identify({ ios_idfv: '1234' });
      expect(r.created).toBe(true);
      expect(r.trace.situation).toBe('N2');
    });

    it('[SC-16][MD-4][MD-5] unique email: modify moves the value and orphans the other profile', async () => {
      const h = await harness('profile_conversion', {
        uniqueIdentities: ['email'],
        loginIdentities: ['email'],
      });
      await h.seed(userData);
      const r = expectOk(await h.modify('1234', [{ type: 'email', old: ED, new: JEKYLL }]));
      expect(r.response.change_results).toEqual([{ identity_type: 'email', modified_mpid: '1234' }]);
      expect((await h.identitiesOf('1234'))['email']).toEqual([JEKYLL]);
      expect((await h.profile('5678')).orphanedAt).not.toBeNull();
    });

    it('[SC-17][MD-6] non-unique email: both profiles keep the value', async () => {
      const h = await harness('profile_conversion', {
        uniqueIdentities: ['customerid'],
        loginIdentities: ['customerid'],
      });
      await h.seed(userData);
      expectOk(await h.modify('1234', [{ type: 'email', old: ED, new: JEKYLL }]));
      expect((await h.identitiesOf('1234'))['email']).toEqual([JEKYLL]);
      expect(await h.identitiesOf('5678')).toEqual({ email: [JEKYLL] });
      expect((await h.profile('5678')).orphanedAt).toBeNull();
    });

    it('[SC-18][IL-2][WB-3] link, K4: the customer ID decides; login never moves a unique email', async () => {
      const h = await harness('profile_link');
      await h.seed([
        { mpid: '1111', identities: { customerid: ['c1'], email: ['e1@x.com'] } },
        { mpid: '2222', identities: { customerid: ['c2'] } },
      ]);
      const r = await h.login({ customerid: 'c2', email: 'e1@x.com' });
      expect(r.response.mpid).toBe('2222');
      expect(r.trace.situation).toBe('K4');
      expect(r.trace.skipped).toEqual([
        { identityType: 'email', value: 'e1@x.com', reason: 'unique_held_by_other', holder: '1111' },
      ]);
      expect(await h.identitiesOf('1111')).toEqual({ customerid: ['c1'], email: ['e1@x.com'] });
      expect(await h.identitiesOf('2222')).toEqual({ customerid: ['c2'] });
    });

    it('[SC-19][MD-7] an immutable customer ID cannot be changed; nothing changes', async () => {
      const h = await harness('profile_conversion', {
        loginIdentities: ['customerid', 'email'],
        uniqueIdentities: ['customerid', 'email'],
        immutableIdentities: ['customerid'],
      });
      await h.seed([{ mpid: '1234', identities: { customerid: ['c1'] } }]);
      const before = await h.dump();
      const failure = expectFailure(await h.modify('1234', [{ type: 'customerid', old: 'c1', new: 'c9' }]));
      expect(failure.error.code).toBe('IMMUTABLE_IDENTITY');
      expect(await h.dump()).toEqual(before);
    });

    it('[SC-20][MD-1] modify of a non-existent MPID is a LOOKUP_ERROR and creates nothing', async () => {
      const h = await harness('profile_conversion');
      const failure = expectFailure(await h.modify('99999', [{ type: 'email', old: null, new: 'a@x.com' }]));
      expect(failure.error.code).toBe('LOOKUP_ERROR');
      expect(await h.profileCount()).toBe(0);
    });

    const immutableCid = {
      loginIdentities: ['customerid', 'email'],
      uniqueIdentities: ['customerid', 'email'],
      immutableIdentities: ['customerid'],
    } as Partial<ScopeConfigInput>;

    it('[SC-21][SR-1] search by an immutable customer ID finds the profile', async () => {
      const h = await harness('profile_conversion', immutableCid);
      await h.seed(userData);
      const before = await h.dump();
      expect(expectOk(await h.search({ customerid: 'h.jekyll.85' })).response.mpid).toBe('1234');
      expect(await h.dump()).toEqual(before);
    });

    it('[SC-22][SR-2] search for an unknown customer ID is 404 and creates nothing', async () => {
      const h = await harness('profile_conversion', immutableCid);
      await h.seed(userData);
      const before = await h.dump();
      expect(expectFailure(await h.search({ customerid: '9101' })).error.code).toBe('NOT_FOUND_ERROR');
      expect(await h.dump()).toEqual(before);
    });

    it('[SC-23][SR-3] searchRequiresImmutableMatch: an email search is 404 with the knob and finds the profile without it', async () => {
      const strict = await harness('profile_conversion', {
        ...immutableCid,
        searchRequiresImmutableMatch: true,
      });
      await strict.seed(userData);
      expect(expectFailure(await strict.search({ email: JEKYLL })).error.code).toBe('NOT_FOUND_ERROR');
      const lenient = await harness('profile_conversion', immutableCid);
      await lenient.seed(userData);
      expect(expectOk(await lenient.search({ email: JEKYLL })).response.mpid).toBe('5678');
    });

    /** Scenarios 24-27: the documented profile link flow. */
    async function linkFlow(h: Harness, upTo: number) {
      const login = { customerid: 'ABC123', email: ED, ios_idfv: '9876' };
      const A = (await h.identify({ ios_idfv: '9876' })).response.mpid;
      let B = '';
      let C = '';
      let D = '';
      if (upTo >= 24) B = (await h.login(login, { previous: A })).response.mpid;
      if (upTo >= 25) C = (await h.logout({ ios_idfv: '9876' }, { previous: B })).response.mpid;
      if (upTo >= 26) await h.login(login, { previous: C });
      if (upTo >= 27) D = (await h.logout({ ios_idfv: '9876' }, { previous: B })).response.mpid;
      return { A, B, C, D };
    }

    it('[SC-24][IL-5] link: a first login creates a new known profile and leaves the anonymous one untouched', async () => {
      const h = await harness('profile_link');
      const A = (await h.identify({ ios_idfv: '9876' })).response.mpid;
      const anonymous = await h.profile(A);
      const r = await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: A });
      expect(r.created).toBe(true);
      expect(r.response.mpid).not.toBe(A);
      expect(r.response.is_logged_in).toBe(true);
      expect(await h.identitiesOf(r.response.mpid)).toEqual({
        customerid: ['ABC123'],
        email: [ED],
        ios_idfv: ['9876'],
      });
      expect(await h.identitiesOf(A)).toEqual({ ios_idfv: ['9876'] });
      expect((await h.profile(A)).identities).toEqual(anonymous.identities);
    });

    it('[SC-25][LO-1] link: logout creates a new anonymous profile', async () => {
      const h = await harness('profile_link');
      const { A, B } = await linkFlow(h, 24);
      const r = await h.logout({ ios_idfv: '9876' }, { previous: B });
      expect(r.created).toBe(true);
      expect([A, B]).not.toContain(r.response.mpid);
    });

    it('[SC-26][IL-2] link: logging in again returns the known profile', async () => {
      const h = await harness('profile_link');
      const { B, C } = await linkFlow(h, 25);
      const r = await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: C });
      expect(r.response.mpid).toBe(B);
    });

    it('[SC-27][LO-1] link: every logout creates another new anonymous profile', async () => {
      const h = await harness('profile_link');
      const { A, B, C } = await linkFlow(h, 26);
      const r = await h.logout({ ios_idfv: '9876' }, { previous: B });
      expect(r.created).toBe(true);
      expect([A, B, C]).not.toContain(r.response.mpid);
    });

    it('[SC-28][LK-5] link: several anonymous profiles share the device ID; previous_mpid wins, then the most recently seen', async () => {
      const h = await harness('profile_link');
      const { A, C, D } = await linkFlow(h, 27);
      const tied = await h.identify({ ios_idfv: '9876' });
      expect(tied.response.mpid).toBe(D);
      expect(tied.trace.lookups.at(-1)?.tieBreak).toMatchObject({ rule: 'most_recently_seen' });
      expect(new Set(tied.trace.lookups.at(-1)?.tieBreak?.among)).toEqual(new Set([A, C, D]));
      const previous = await h.identify({ ios_idfv: '9876' }, { previous: C });
      expect(previous.response.mpid).toBe(C);
      expect(previous.trace.lookups.at(-1)?.tieBreak?.rule).toBe('previous_mpid');
      expect((await h.identify({ ios_idfv: '9876' })).response.mpid).toBe(C);
    });

    it('[SC-29][IL-2][WB-2] link: a login from another device returns the known profile and adds the Roku ID', async () => {
      const h = await harness('profile_link');
      await h.seed([
        { mpid: '2345', identities: { customerid: ['ABC123'], email: [JEKYLL], ios_idfv: ['9876'] } },
        { mpid: '5678', identities: { roku_aid: ['8765'] } },
      ]);
      const r = await h.login(
        { customerid: 'ABC123', email: JEKYLL, roku_aid: '8765' },
        { previous: '5678' },
      );
      expect(r.response.mpid).toBe('2345');
      expect((await h.identitiesOf('2345'))['roku_aid']).toEqual(['8765']);
      expect(await h.identitiesOf('5678')).toEqual({ roku_aid: ['8765'] });
    });

    async function isolationFlow(h: Harness) {
      const A = (await h.identify({ ios_idfv: '9876' })).response.mpid;
      const anonymousBefore = await h.profile(A);
      const login = await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: A });
      return { A, B: login.response.mpid, login, anonymousBefore };
    }

    it('[SC-30][IL-5] isolation: login creates a new known profile; nothing anonymous carries over', async () => {
      const h = await harness('profile_isolation');
      const { A, B, login, anonymousBefore } = await isolationFlow(h);
      expect(login.created).toBe(true);
      expect(B).not.toBe(A);
      expect((await h.profile(A)).identities).toEqual(anonymousBefore.identities);
    });

    it('[SC-31][LO-3] isolation: logout returns to the existing anonymous profile', async () => {
      const h = await harness('profile_isolation');
      const { A, B } = await isolationFlow(h);
      const r = await h.logout({ ios_idfv: '9876' }, { previous: B });
      expect(r.response.mpid).toBe(A);
      expect(r.trace.situation).toBe('G1');
    });

    it('[SC-32][IL-2] isolation: logging in again returns the known profile', async () => {
      const h = await harness('profile_isolation');
      const { A, B } = await isolationFlow(h);
      await h.logout({ ios_idfv: '9876' }, { previous: B });
      expect(
        (await h.login({ customerid: 'ABC123', email: ED, ios_idfv: '9876' }, { previous: A })).response.mpid,
      ).toBe(B);
    });

    it('[SC-33][LO-3] isolation: logout with no anonymous profile on the device creates one', async () => {
      const h = await harness('profile_isolation');
      const known = await h.login({ customerid: 'ABC123', device_application_stamp: 'd9' });
      const r = await h.logout({ device_application_stamp: 'd9' }, { previous: known.response.mpid });
      expect(r.created).toBe(true);
      expect(r.response.mpid).not.toBe(known.response.mpid);
      expect(r.trace.situation).toBe('G2');
    });

    const bestMatch = {
      identityPriority: ['email', 'ios_idfv', 'android_uuid'],
    } as Partial<ScopeConfigInput>;

    it('[SC-34][EL-5] best match: an identify with an email finds the device profile and adds the email', async () => {
      const h = await harness('best_match', bestMatch);
      const first = await h.identify({ ios_idfv: '9876' });
      const second = await h.identify({ email: ED, ios_idfv: '9876' });
      expect(second.response.mpid).toBe(first.response.mpid);
      expect(await h.identitiesOf(first.response.mpid)).toEqual({ email: [ED], ios_idfv: ['9876'] });
    });

    it('[SC-35][WB-2] best match: a second person on a shared device lands on the same profile, which holds two emails', async () => {
      const h = await harness('best_match', bestMatch);
      await h.seed([{ mpid: '1234', identities: { ios_idfv: ['9876'], email: [JEKYLL] } }]);
      const r = await h.identify({ email: POOLE, ios_idfv: '9876' });
      expect(r.response.mpid).toBe('1234');
      expect((await h.identitiesOf('1234'))['email']).toEqual([JEKYLL, POOLE].sort());
    });

    it('[SC-36][LK-1] best match: the higher-priority email wins over a device-only profile', async () => {
      const h = await harness('best_match', bestMatch);
      await h.seed([{ mpid: '1234', identities: { ios_idfv: ['9876'], email: [JEKYLL, POOLE] } }]);
      const device = await h.identify({ android_uuid: '8765' });
      expect(device.created).toBe(true);
      const r = await h.identify({ android_uuid: '8765', email: POOLE });
      expect(r.response.mpid).toBe('1234');
      expect((await h.identitiesOf('1234'))['android_uuid']).toEqual(['8765']);
    });

    it('[SC-37][AL-4][AL-7] link: an alias is accepted, applied after the delay, and overwrites first-seen only', async () => {
      const h = await harness('profile_link', { aliasing: { processingDelayMs: DAY } });
      const tenDaysAgo = h.clock.peek() - 10 * DAY;
      await h.seed([
        { mpid: '1234', identities: { ios_idfv: ['9876'] }, at: tenDaysAgo },
        { mpid: '5678', identities: { customerid: ['ABC123'] } },
      ]);
      const accepted = expectOk(
        await h.resolver.alias(h.config, {
          environment: 'production',
          data: { source_mpid: '1234', destination_mpid: '5678' },
        }),
      );
      expect(accepted.alias.status).toBe('pending');
      expect(await h.resolver.processDueAliases(h.config)).toEqual([]);
      h.clock.advance(DAY);
      const [processed] = await h.resolver.processDueAliases(h.config);
      expect(processed?.alias).toMatchObject({
        status: 'applied',
        sourceMpid: '1234',
        destinationMpid: '5678',
      });
      expect((await h.profile('5678')).firstSeenAt).toBe(tenDaysAgo);
      expect(await h.identitiesOf('5678')).toEqual({ customerid: ['ABC123'] });
      const notes = (await h.dump()).history
        .filter((e) => e.kind === 'alias_applied')
        .map((e) => [e.mpid, e.reason]);
      expect(notes).toEqual([
        ['1234', 'aliased into 5678'],
        ['5678', 'merged from 1234'],
      ]);
    });

    it('[SC-38][AL-2] an alias whose source is its destination is a 400 ALIAS_ERROR', async () => {
      const h = await harness('profile_conversion');
      await h.seed([{ mpid: '5678', identities: { customerid: ['ABC123'] } }]);
      const r = await h.resolver.alias(h.config, {
        environment: 'production',
        data: { source_mpid: '5678', destination_mpid: '5678' },
      });
      expect(expectFailure(r).error.code).toBe('ALIAS_ERROR');
    });

    it('[SC-39][AL-6] link: an old destination used as a source is accepted (202) but never applied', async () => {
      const h = await harness('profile_link');
      await h.seed([
        { mpid: '1234', identities: { ios_idfv: ['9876'] } },
        { mpid: '5678', identities: { customerid: ['ABC123'] } },
        { mpid: '9999', identities: { customerid: ['XYZ'] } },
      ]);
      expectOk(
        await h.resolver.alias(h.config, {
          environment: 'production',
          data: { source_mpid: '1234', destination_mpid: '5678' },
        }),
      );
      await h.resolver.processDueAliases(h.config);
      const second = expectOk(
        await h.resolver.alias(h.config, {
          environment: 'production',
          data: { source_mpid: '5678', destination_mpid: '9999' },
        }),
      );
      expect(second.alias.status).toBe('pending');
      const [processed] = await h.resolver.processDueAliases(h.config);
      expect(processed?.alias.status).toBe('rejected');
      expect(processed?.alias.statusReason).toContain('previously a destination');
    });

    it('[SC-40][AL-1] isolation: an alias request is 403 ALIAS_NOT_AVAILABLE', async () => {
      const h = await harness('profile_isolation');
      await h.seed([
        { mpid: '1234', identities: { ios_idfv: ['9876'] } },
        { mpid: '5678', identities: { customerid: ['ABC123'] } },
      ]);
      const before = await h.dump();
      const r = await h.resolver.alias(h.config, {
        environment: 'production',
        data: { source_mpid: '1234', destination_mpid: '5678' },
      });
      expect(expectFailure(r).error.code).toBe('ALIAS_NOT_AVAILABLE');
      expect(await h.dump()).toEqual(before);
    });
  });
}
