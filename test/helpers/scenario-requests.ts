/**
 * The 40 scenarios of spec §7 (as `test/contract/scenarios.ts` runs them) written as the request
 * sequences a client sends, so the same sequence can be recorded through a real server and run
 * directly on a fresh store under any strategy (SPEC WI-7).
 *
 * A step names a profile by the id of the step whose answer the client holds (`@s1`), or by a
 * literal MPID that no step answered. A pre-existing profile of the contract suite (`seed`) is made
 * by requests too, since a replay starts from an empty store: an identify that carries the seed's
 * immutable identities and a marker of a type outside the priority (never stored, never matched, so
 * it always creates), then one modify that adds the rest. Searches are read-only and never logged,
 * so they are left out.
 */
import { scenarioConfig } from './harness.ts';
import type { ScopeConfig, ScopeConfigInput, Strategy } from '../../shared/identity/scope-config.ts';

export type IdentityStep = {
  readonly id: string;
  readonly kind: 'identify' | 'login' | 'logout';
  readonly identities: Record<string, string>;
  readonly previous?: string;
};
export type ModifyStep = {
  readonly id: string;
  readonly kind: 'modify';
  readonly target: string;
  readonly changes: readonly { type: string; old: string | null; new: string | null }[];
};
export type AliasStep = {
  readonly id: string;
  readonly kind: 'alias';
  readonly source: string;
  readonly destination: string;
};
export type RequestStep = IdentityStep | ModifyStep | AliasStep;

export interface ScenarioRequests {
  readonly sc: number;
  readonly config: ScopeConfig;
  readonly steps: readonly RequestStep[];
}

const DAY = 86_400_000;
const ED = 'ed.hyde@example.com';
const JEKYLL = 'h.jekyll@example.com';
const POOLE = 'poole@example.com';
const CONVERSION_LOGIN = { customerid: 'ABC123', email: ED, ios_idfv: '9876' };

const SEED_MARKERS = ['other10', 'other9'] as const;

/** The MPID a step's answer named, as a reference (`@id`). */
export const answerOf = (id: string) => `@${id}`;

function seed(id: string, identities: Record<string, string[]>, config: ScopeConfig): RequestStep[] {
  const immutable: Record<string, string> = {};
  const changes: { type: string; old: null; new: string }[] = [];
  for (const [type, values] of Object.entries(identities)) {
    if (!config.identityPriority.some((p) => p === type)) continue;
    values.forEach((value, index) => {
      if (index === 0 && config.immutableIdentities.some((t) => t === type)) immutable[type] = value;
      else changes.push({ type, old: null, new: value });
    });
  }
  const marker = SEED_MARKERS.find((type) => !config.identityPriority.some((p) => p === type));
  if (marker === undefined) throw new Error('the priority lists every marker type');
  const create: RequestStep = { id, kind: 'identify', identities: { ...immutable, [marker]: id } };
  return changes.length === 0
    ? [create]
    : [create, { id: `${id}-fill`, kind: 'modify', target: answerOf(id), changes }];
}

type Seeds = Record<string, Record<string, string[]>>;

function scenario(
  sc: number,
  strategy: Strategy,
  overrides: Partial<ScopeConfigInput>,
  seeds: Seeds,
  steps: readonly RequestStep[],
): ScenarioRequests {
  const config = scenarioConfig(strategy, { scopeId: 'default', ...overrides });
  return {
    sc,
    config,
    steps: [...Object.entries(seeds).flatMap(([id, s]) => seed(id, s, config)), ...steps],
  };
}

const login = (id: string, identities: Record<string, string>, previous?: string): IdentityStep => ({
  id,
  kind: 'login',
  identities,
  ...(previous === undefined ? {} : { previous: answerOf(previous) }),
});
const logout = (id: string, identities: Record<string, string>, previous: string): IdentityStep => ({
  id,
  kind: 'logout',
  identities,
  previous: answerOf(previous),
});
const identify = (id: string, identities: Record<string, string>, previous?: string): IdentityStep => ({
  id,
  kind: 'identify',
  identities,
  ...(previous === undefined ? {} : { previous: answerOf(previous) }),
});
const alias = (id: string, source: string, destination: string): AliasStep => ({
  id,
  kind: 'alias',
  source: answerOf(source),
  destination: answerOf(destination),
});

/** SC-1..8: the conversion flow up to step `upTo`; the feed profile of SC-5 is made just before it. */
function conversionFlow(upTo: number): RequestStep[] {
  const flow: RequestStep[] = [
    identify('s1', { ios_idfv: '9876' }),
    login('s2', CONVERSION_LOGIN, 's1'),
    logout('s3', { ios_idfv: '9876' }, 's2'),
    login('s4', CONVERSION_LOGIN, 's3'),
  ];
  const config = scenarioConfig('profile_conversion', { scopeId: 'default' });
  const steps = flow.slice(0, Math.min(upTo, 4));
  if (upTo >= 5)
    steps.push(...seed('f3456', { email: [JEKYLL] }, config), {
      id: 's5',
      kind: 'modify',
      target: answerOf('s4'),
      changes: [{ type: 'email', old: ED, new: JEKYLL }],
    });
  if (upTo >= 6) steps.push(identify('s6', { roku_aid: '8765' }));
  if (upTo >= 7) steps.push(login('s7', { customerid: 'ABC123', email: JEKYLL, roku_aid: '8765' }, 's6'));
  if (upTo >= 8) steps.push(identify('s8', { roku_aid: '8765' }));
  return steps;
}

/** SC-24..28: the link flow up to scenario `upTo`. */
function linkFlow(upTo: number): RequestStep[] {
  const steps: RequestStep[] = [identify('s1', { ios_idfv: '9876' })];
  if (upTo >= 24) steps.push(login('s24', CONVERSION_LOGIN, 's1'));
  if (upTo >= 25) steps.push(logout('s25', { ios_idfv: '9876' }, 's24'));
  if (upTo >= 26) steps.push(login('s26', CONVERSION_LOGIN, 's25'));
  if (upTo >= 27) steps.push(logout('s27', { ios_idfv: '9876' }, 's26'));
  return steps;
}

function isolationFlow(): RequestStep[] {
  return [identify('s1', { ios_idfv: '9876' }), login('s2', CONVERSION_LOGIN, 's1')];
}

const tieConfig = (priority: string[]): Partial<ScopeConfigInput> => ({
  identityPriority: priority as ScopeConfigInput['identityPriority'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
});
const tieProfiles: Seeds = {
  p1111: { email: [JEKYLL], ios_idfv: ['1234'], other: ['AAAA'] },
  p2222: { email: [JEKYLL], android_aaid: ['2345'], other: ['BBBB'] },
};
const userData: Seeds = {
  p1234: { customerid: ['h.jekyll.85'], email: [ED], ios_idfv: ['1234'] },
  p5678: { email: [JEKYLL] },
};
const emailOnly: Partial<ScopeConfigInput> = { loginIdentities: ['email'], uniqueIdentities: ['email'] };
const immutableCid: Partial<ScopeConfigInput> = {
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
  immutableIdentities: ['customerid'],
};
const bestMatch: Partial<ScopeConfigInput> = { identityPriority: ['email', 'ios_idfv', 'android_uuid'] };
const aliasPair: Seeds = { p1234: { ios_idfv: ['9876'] }, p5678: { customerid: ['ABC123'] } };

function conversion(sc: number): ScenarioRequests {
  return scenario(sc, 'profile_conversion', {}, {}, conversionFlow(sc));
}

/** Every scenario of spec §7, numbered as in SPEC "Scenarios (spec §7)". */
export const SCENARIO_REQUESTS: readonly ScenarioRequests[] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8].map(conversion),
  scenario(9, 'profile_conversion', {}, { p1234: { customerid: ['ABC123'], ios_idfv: ['9876'] } }, [
    login('s1', { customerid: 'XYZ999', ios_idfv: '9876' }, 'p1234'),
  ]),
  scenario(10, 'default', {}, { p1234: { device_application_stamp: ['d1'] } }, [
    identify('s1', { email: 'a@x.com', device_application_stamp: 'd1' }),
  ]),
  scenario(
    11,
    'profile_conversion',
    tieConfig(['customerid', 'email', 'other', 'ios_idfv', 'android_aaid']),
    tieProfiles,
    [identify('s1', { email: JEKYLL, other: 'AAAA', ios_idfv: '2345' })],
  ),
  scenario(
    12,
    'profile_conversion',
    tieConfig(['customerid', 'email', 'ios_idfv', 'android_aaid']),
    tieProfiles,
    [identify('s1', { email: JEKYLL, android_aaid: '2345' })],
  ),
  scenario(13, 'profile_conversion', {}, userData, [identify('s1', { email: ED })]),
  scenario(14, 'profile_conversion', emailOnly, userData, [
    identify('s1', { email: JEKYLL, ios_idfv: '5678' }),
  ]),
  scenario(15, 'profile_conversion', emailOnly, userData, [identify('s1', { ios_idfv: '1234' })]),
  ...[
    { sc: 16, overrides: emailOnly },
    { sc: 17, overrides: { loginIdentities: ['customerid'], uniqueIdentities: ['customerid'] } },
  ].map(({ sc, overrides }) =>
    scenario(sc, 'profile_conversion', overrides as Partial<ScopeConfigInput>, userData, [
      {
        id: 's1',
        kind: 'modify',
        target: answerOf('p1234'),
        changes: [{ type: 'email', old: ED, new: JEKYLL }],
      },
    ]),
  ),
  scenario(
    18,
    'profile_link',
    {},
    { p1111: { customerid: ['c1'], email: ['e1@x.com'] }, p2222: { customerid: ['c2'] } },
    [login('s1', { customerid: 'c2', email: 'e1@x.com' })],
  ),
  scenario(19, 'profile_conversion', immutableCid, { p1234: { customerid: ['c1'] } }, [
    {
      id: 's1',
      kind: 'modify',
      target: answerOf('p1234'),
      changes: [{ type: 'customerid', old: 'c1', new: 'c9' }],
    },
  ]),
  scenario(20, 'profile_conversion', {}, {}, [
    { id: 's1', kind: 'modify', target: '99999', changes: [{ type: 'email', old: null, new: 'a@x.com' }] },
  ]),
  scenario(21, 'profile_conversion', immutableCid, userData, []),
  scenario(22, 'profile_conversion', immutableCid, userData, []),
  scenario(23, 'profile_conversion', { ...immutableCid, searchRequiresImmutableMatch: true }, userData, []),
  ...[24, 25, 26, 27].map((sc) => scenario(sc, 'profile_link', {}, {}, linkFlow(sc))),
  scenario(28, 'profile_link', {}, {}, [
    ...linkFlow(27),
    identify('t1', { ios_idfv: '9876' }),
    identify('t2', { ios_idfv: '9876' }, 's25'),
    identify('t3', { ios_idfv: '9876' }),
  ]),
  scenario(
    29,
    'profile_link',
    {},
    { p2345: { customerid: ['ABC123'], email: [JEKYLL], ios_idfv: ['9876'] }, p5678: { roku_aid: ['8765'] } },
    [login('s1', { customerid: 'ABC123', email: JEKYLL, roku_aid: '8765' }, 'p5678')],
  ),
  scenario(30, 'profile_isolation', {}, {}, isolationFlow()),
  scenario(31, 'profile_isolation', {}, {}, [...isolationFlow(), logout('s3', { ios_idfv: '9876' }, 's2')]),
  scenario(32, 'profile_isolation', {}, {}, [
    ...isolationFlow(),
    logout('s3', { ios_idfv: '9876' }, 's2'),
    login('s4', CONVERSION_LOGIN, 's3'),
  ]),
  scenario(33, 'profile_isolation', {}, {}, [
    login('s1', { customerid: 'ABC123', device_application_stamp: 'd9' }),
    logout('s2', { device_application_stamp: 'd9' }, 's1'),
  ]),
  scenario(34, 'best_match', bestMatch, {}, [
    identify('s1', { ios_idfv: '9876' }),
    identify('s2', { email: ED, ios_idfv: '9876' }),
  ]),
  scenario(35, 'best_match', bestMatch, { p1234: { ios_idfv: ['9876'], email: [JEKYLL] } }, [
    identify('s1', { email: POOLE, ios_idfv: '9876' }),
  ]),
  scenario(36, 'best_match', bestMatch, { p1234: { ios_idfv: ['9876'], email: [JEKYLL, POOLE] } }, [
    identify('s1', { android_uuid: '8765' }),
    identify('s2', { android_uuid: '8765', email: POOLE }),
  ]),
  scenario(37, 'profile_link', { aliasing: { processingDelayMs: DAY } }, aliasPair, [
    alias('s1', 'p1234', 'p5678'),
  ]),
  scenario(38, 'profile_conversion', {}, { p5678: { customerid: ['ABC123'] } }, [
    alias('s1', 'p5678', 'p5678'),
  ]),
  scenario(39, 'profile_link', {}, { ...aliasPair, p9999: { customerid: ['XYZ'] } }, [
    alias('s1', 'p1234', 'p5678'),
    alias('s2', 'p5678', 'p9999'),
  ]),
  scenario(40, 'profile_isolation', {}, aliasPair, [alias('s1', 'p1234', 'p5678')]),
];

/** Whether the IDSync API log can replay the whole scenario (WI-4: its modify/alias bodies are not kept). */
export function identityOnly(scenario: ScenarioRequests): boolean {
  return scenario.steps.every(
    (step) => step.kind === 'identify' || step.kind === 'login' || step.kind === 'logout',
  );
}
