/**
 * The explain trace in plain words (SPEC TR-5). Field staff and developers read, per request, what
 * the server decided and why: a one-sentence headline, then short steps in order: identifiers
 * normalised, blocked or set aside; what each priority level matched and who was excluded and why;
 * the tie-break; the strategy branch; what was written; what was refused. Every enum of the trace
 * is worded by an exhaustive switch or record, so a new branch or reason does not compile until it
 * has words. Profile lists are summarised ("… and 9,995 others"): a shared device can match
 * thousands of profiles.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import type { Strategy } from '../identity/scope-config.ts';
import { err, ok, type Result } from '../util/result.ts';
import {
  ExplainTraceSchema,
  TRACE_VERSION,
  type ExclusionReason,
  type ExplainTrace,
  type IdentityTrace,
  type LevelTrace,
  type LookupTrace,
  type Situation,
  type SkipTrace,
  type WriteTrace,
} from './trace.ts';

export interface Explanation {
  /** One sentence: the outcome, e.g. "Logged in as an existing customer (customer ID c-1042)." */
  readonly headline: string;
  /** Short sentences, in order: identifiers, matches and exclusions, strategy branch, writes, refusals. */
  readonly steps: readonly string[];
}

export interface ExplainOptions {
  /** The strategies' names as the reader knows them; the product's names by default. */
  readonly strategyNames?: Partial<Readonly<Record<Strategy, string>>>;
  /** How to show an MPID (a person's name, say); the MPID itself by default. */
  readonly mpidLabel?: (mpid: string) => string;
}

const IDENTITY_LABELS: Readonly<Record<IdentityType, string>> = {
  other: 'other ID',
  customerid: 'customer ID',
  facebook: 'Facebook ID',
  twitter: 'Twitter ID',
  google: 'Google ID',
  microsoft: 'Microsoft ID',
  yahoo: 'Yahoo ID',
  email: 'email',
  alias: 'alias ID',
  facebookcustomaudienceid: 'Facebook custom audience ID',
  other2: 'other ID 2',
  other3: 'other ID 3',
  other4: 'other ID 4',
  other5: 'other ID 5',
  other6: 'other ID 6',
  other7: 'other ID 7',
  other8: 'other ID 8',
  other9: 'other ID 9',
  other10: 'other ID 10',
  mobile_number: 'mobile number',
  phone_number_2: 'phone number 2',
  phone_number_3: 'phone number 3',
  ios_idfa: 'iOS advertising ID',
  ios_idfv: 'iOS vendor ID',
  android_aaid: 'Android advertising ID',
  android_uuid: 'Android ID',
  fire_aid: 'Fire advertising ID',
  push_token: 'push token',
  roku_aid: 'Roku advertising ID',
  roku_publisher_id: 'Roku publisher ID',
  microsoft_aid: 'Microsoft advertising ID',
  microsoft_publisher_id: 'Microsoft publisher ID',
  amp_id: 'AMP ID',
  device_application_stamp: 'device application stamp',
};

const STRATEGY_NAMES: Readonly<Record<Strategy, string>> = {
  profile_conversion: 'Profile conversion',
  default: 'Default strategy',
  profile_link: 'Profile link',
  profile_isolation: 'Profile isolation',
  best_match: 'Best match',
};

/** Items of a list shown before the rest is counted. */
const SHOWN = 5;
/** Characters of an identity value shown; the rest is elided. */
const VALUE_CHARS = 64;

const shorten = (value: string) =>
  value.length > VALUE_CHARS ? `${value.slice(0, VALUE_CHARS - 1)}…` : value;
const quoted = (value: string) => `"${shorten(value)}"`;
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** "email a@example.com", "customer ID c-1". */
export function describeIdentity(type: IdentityType, value: string): string {
  return `${IDENTITY_LABELS[type]} ${shorten(value)}`;
}

/** "a", "a and b", "a, b and c"; past five items "a, b, c, d, e and 9,995 others". */
function listOf(items: readonly string[], show: (item: string) => string, conjunction = 'and'): string {
  const shown = items.slice(0, SHOWN).map(show);
  const rest = items.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} ${conjunction} ${count(rest)} other${rest === 1 ? '' : 's'}`;
  const last = shown.pop() ?? '';
  return shown.length === 0 ? last : `${shown.join(', ')} ${conjunction} ${last}`;
}

/** Upper-cases the first letter, except of words like "iOS". */
function capitalise(sentence: string): string {
  return /^[a-z]+[A-Z]/.test(sentence) ? sentence : sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/** The trace with the reader's names for profiles and the strategy. */
interface Words {
  readonly trace: ExplainTrace;
  readonly strategy: string;
  readonly bestMatch: boolean;
  /** "profile 123". */
  readonly profile: (mpid: string | null) => string;
  /** "profile 123", or "3 profiles (1, 2 and 3)". */
  readonly profiles: (mpids: readonly string[]) => string;
}

function wordsFor(trace: ExplainTrace, options: ExplainOptions): Words {
  const label = options.mpidLabel ?? ((mpid: string) => mpid);
  const profile = (mpid: string | null) => (mpid === null ? 'no profile' : `profile ${label(mpid)}`);
  return {
    trace,
    strategy: options.strategyNames?.[trace.strategy] ?? STRATEGY_NAMES[trace.strategy],
    bestMatch: trace.strategy === 'best_match',
    profile,
    profiles: (mpids) =>
      mpids.length === 1
        ? profile(mpids[0] ?? null)
        : `${count(mpids.length)} profiles (${listOf(mpids, label)})`,
  };
}

function identityStep({ identityType, value, raw, use }: IdentityTrace): string | null {
  const label = IDENTITY_LABELS[identityType];
  switch (use) {
    case 'lookup':
      return raw === null ? null : `${label} ${quoted(raw)} was normalised to ${quoted(value)}.`;
    case 'blocked':
      return `the ${label} value ${quoted(raw ?? value)} is ${value === '' ? 'empty' : 'blocked'} and was ignored.`;
    case 'not_in_priority':
      return `${describeIdentity(identityType, value)} is not in the identity priority, so it was neither used nor stored.`;
    case 'ignored_in_logout':
      return `${describeIdentity(identityType, value)} was ignored: logout does not use login IDs.`;
  }
}

function previousStep(say: Words): string | null {
  const previous = say.trace.previousMpid;
  if (previous === null) return null;
  const p = say.profile(previous.mpid);
  switch (previous.status) {
    case 'anonymous':
      return `the device was last on ${say.bestMatch ? '' : 'anonymous '}${p}.`;
    case 'known':
      return `the device was last on customer ${p}.`;
    case 'orphaned':
      return `the device was last on ${p}, which is orphaned and was not used.`;
    case 'not_found':
      return `the device was last on ${p}, which does not exist here and was not used.`;
  }
}

/** How many of the request's identifiers, in priority order, the lookup examined (LK-4 stops early). */
function examined(lookup: LookupTrace, used: readonly IdentityTrace[]): number {
  const last = lookup.levels.at(-1);
  if (lookup.result === null || lookup.tieBreak !== null || last === undefined) return used.length;
  return used.findIndex((i) => i.identityType === last.identityType) + 1;
}

/** Identifiers a lookup examined without any level: nothing on record holds them (TR-1). */
function unmatchedStep(trace: ExplainTrace): string | null {
  const used = trace.identities.filter((i) => i.use === 'lookup');
  const unmatched = used.filter((identity, index) =>
    trace.lookups.some(
      (lookup) =>
        index < examined(lookup, used) &&
        !lookup.levels.some((l) => l.identityType === identity.identityType),
    ),
  );
  if (unmatched.length === 0) return null;
  const names = unmatched.map((i) => describeIdentity(i.identityType, i.value));
  return `no profile holds ${listOf(names, (name) => name, 'or')}.`;
}

function exclusionClause(reason: ExclusionReason): string {
  switch (reason) {
    case 'orphaned':
      return 'is orphaned and can never be returned';
    case 'login_protected':
      return 'is logged-in-only, and a request must carry one of its login IDs';
    case 'immutable_protected':
      return 'holds an immutable ID that this request does not carry';
    case 'immutable_conflict':
      return 'holds an immutable ID that this request contradicts';
    case 'not_known':
      return 'is anonymous, and only customers were looked for here';
    case 'not_anonymous':
      return 'belongs to a customer, and only anonymous profiles were looked for here';
  }
}

function exclusionSteps(excluded: LevelTrace['excluded'], say: Words): string[] {
  const byReason = new Map<ExclusionReason, string[]>();
  for (const { mpid, reason } of excluded) {
    const mpids = byReason.get(reason);
    if (mpids === undefined) byReason.set(reason, [mpid]);
    else mpids.push(mpid);
  }
  return [...byReason].map(
    ([reason, mpids]) =>
      `${say.profiles(mpids)} ${mpids.length === 1 ? 'was excluded: it' : 'were excluded: each'} ${exclusionClause(reason)}.`,
  );
}

/** What one priority level did to the candidates (LK-1, LK-2). */
function levelStep(
  level: LevelTrace,
  before: readonly string[] | null,
  rank: number,
  say: Words,
): string | null {
  if (level.hits.length === 0) return null;
  const what = `${describeIdentity(level.identityType, level.value)} (priority ${rank} in this request)`;
  if (before === null) return `${what} matched ${say.profiles(level.hits)}.`;
  const candidates = new Set(before);
  const overlap = level.hits.filter((mpid) => candidates.has(mpid)).length;
  if (overlap === 0) return `${what} matched only other profiles, so it did not change the choice.`;
  if (overlap === before.length) return `${what} matched all of them, so it did not narrow the choice.`;
  return `${what} narrowed the choice to ${say.profiles(level.candidates)}.`;
}

function tieBreakStep(lookup: LookupTrace, say: Words): string | null {
  const tie = lookup.tieBreak;
  if (tie === null) return null;
  const why =
    tie.rule === 'previous_mpid' ? "it was the device's previous profile" : 'it was seen most recently';
  return `${say.profile(lookup.result)} won the tie among ${say.profiles(tie.among)}: ${why}.`;
}

function notFoundStep(purpose: LookupTrace['purpose'], say: Words): string {
  switch (purpose) {
    case 'known':
      return 'no existing customer matched.';
    case 'anonymous':
      return say.bestMatch ? 'no profile matched.' : 'no anonymous profile matched.';
    case 'any':
    case 'search':
      return 'no profile matched.';
  }
}

function lookupSteps(lookup: LookupTrace, say: Words): string[] {
  const used = say.trace.identities.filter((i) => i.use === 'lookup');
  const steps: (string | null)[] = [];
  let before: readonly string[] | null = null;
  for (const level of lookup.levels) {
    const rank = used.findIndex((i) => i.identityType === level.identityType) + 1;
    steps.push(levelStep(level, before, rank, say), ...exclusionSteps(level.excluded, say));
    if (level.candidates.length > 0) before = level.candidates;
  }
  steps.push(tieBreakStep(lookup, say));
  if (lookup.result === null && lookup.levels.length > 0) steps.push(notFoundStep(lookup.purpose, say));
  return steps.filter((s) => s !== null);
}

/** The situation (spec §3) in words; the codes themselves are never shown. */
function situationClause(situation: Situation): string {
  switch (situation) {
    case 'N0':
      return 'nothing matched';
    case 'N1':
      return "the request's identifiers matched an anonymous profile";
    case 'N2':
      return 'only logged-in customers matched, and they stay protected';
    case 'K1':
      return 'a login ID matched a customer';
    case 'K2':
      return 'the login IDs are new and the device has an anonymous profile';
    case 'K3':
      return 'the login IDs are new and there is no anonymous profile to use';
    case 'K4':
      return 'the login IDs pointed at two customers, and the higher-priority one decides';
    case 'K5':
      return 'one login ID matched a customer and another is new';
    case 'G1':
      return 'the device has an anonymous profile';
    case 'G2':
      return 'the device has no anonymous profile';
  }
}

function strategyStep(say: Words, outcome: string): string {
  const situation = say.trace.situation;
  return `${say.strategy}: ${situation === null ? 'the request was resolved' : situationClause(situation)}, ${outcome}.`;
}

/** K2 under link or isolation: the anonymous profile the new customer profile leaves alone. */
function leftAlone(say: Words): string {
  const { trace } = say;
  if (trace.situation !== 'K2') return '';
  const previous = trace.previousMpid?.status === 'anonymous' ? trace.previousMpid.mpid : null;
  const anonymous = previous ?? trace.lookups.find((l) => l.purpose === 'anonymous')?.result ?? null;
  if (anonymous === null) return '';
  const p = say.profile(anonymous);
  return trace.strategy === 'profile_isolation'
    ? ` and ${p} stays separate: nothing anonymous carries over`
    : ` and ${p} was left as it was`;
}

function branchStep(say: Words): string | null {
  const { trace } = say;
  const p = say.profile(trace.result.mpid);
  switch (trace.branch) {
    case 'known_user':
      return strategyStep(say, `so the answer is ${p}`);
    case 'anonymous_match':
      return say.bestMatch
        ? `${say.strategy}: every matching profile counts, so the answer is ${p}.`
        : strategyStep(say, `so the answer is ${p}`);
    case 'new_anonymous':
      if (say.bestMatch) return `${say.strategy}: nothing matched, so a new profile was created.`;
      return trace.situation === 'G1'
        ? strategyStep(say, 'but logout always starts a new anonymous profile')
        : strategyStep(say, 'so a new anonymous profile was started');
    case 'convert_anonymous':
      return strategyStep(say, `so ${p} became a customer, keeping its MPID and history`);
    case 'new_known':
      return strategyStep(say, `so a new customer profile was created${leftAlone(say)}`);
    case 'return_to_anonymous':
      return strategyStep(say, `so logout returned to ${p}`);
    case 'search_found':
    case 'search_not_found':
      return 'search only reads: nothing was written.';
    case 'modify':
    case 'alias_accepted':
      return null;
  }
}

/** A write and the identities added right after it to the same profile, told as one sentence. */
interface WriteGroup {
  readonly write: WriteTrace;
  readonly added: WriteTrace[];
}

function groupWrites(writes: readonly WriteTrace[]): WriteGroup[] {
  const groups: WriteGroup[] = [];
  for (const write of writes) {
    const last = groups.at(-1);
    const joins =
      write.action === 'add_identity' &&
      last !== undefined &&
      last.write.mpid === write.mpid &&
      (last.write.action === 'create_profile' || last.write.action === 'add_identity');
    if (joins) last.added.push(write);
    else groups.push({ write, added: [] });
  }
  return groups;
}

const writtenIdentity = (w: WriteTrace) =>
  w.identityType === null || w.value === null ? 'an identifier' : describeIdentity(w.identityType, w.value);

function writeStep({ write, added }: WriteGroup, say: Words): string {
  const p = say.profile(write.mpid);
  const other = write.otherMpid === null ? 'another profile' : say.profile(write.otherMpid);
  const identities = (writes: readonly WriteTrace[]) => listOf(writes.map(writtenIdentity), (s) => s);
  switch (write.action) {
    case 'create_profile':
      return added.length === 0 ? `created ${p}.` : `created ${p} with ${identities(added)}.`;
    case 'add_identity':
      return `added ${identities([write, ...added])} to ${p}.`;
    case 'remove_identity':
      return `removed ${writtenIdentity(write)} from ${p}.`;
    case 'move_identity':
      return `${writtenIdentity(write)} moved from ${p} to ${other}: it can belong to only one profile.`;
    case 'orphan_profile':
      return `${p} lost its last identifier and is now orphaned.`;
    case 'accept_alias':
      return `the activity of ${other} will count for ${p} once the alias is processed.`;
    case 'apply_alias':
      return `the activity of ${other} now counts for ${p}: the alias was applied.`;
    case 'reject_alias':
      return `the alias of ${other} into ${p} was dropped.`;
    case 'undo_alias':
      return `the alias of ${other} into ${p} was undone.`;
    case 'set_first_seen':
      return write.otherMpid === null
        ? `the first-seen time of ${p} was updated.`
        : `${p} took its first-seen time from ${other}.`;
  }
}

const IDENTITY_KINDS: ReadonlySet<ExplainTrace['kind']> = new Set(['identify', 'login', 'logout']);

function writeSteps(say: Words): string[] {
  const { trace } = say;
  if (trace.writes.length === 0 && IDENTITY_KINDS.has(trace.kind))
    return [`nothing new was written to ${say.profile(trace.result.mpid)}.`];
  return groupWrites(trace.writes).map((group) => writeStep(group, say));
}

function skipStep({ identityType, value, reason, holder }: SkipTrace, say: Words): string {
  const identity = describeIdentity(identityType, value);
  switch (reason) {
    case 'unique_held_by_other':
      return `${identity} already belongs to someone else${holder === null ? '' : ` (${say.profile(holder)})`}, so it was not added.`;
    case 'unique_type_already_set':
      return `${identity} was not added: ${say.profile(say.trace.result.mpid)} already has one, and only one is allowed.`;
  }
}

/** The resolver's notes are fixed developer strings; the known ones are reworded. */
const NOTE_WORDING: readonly (readonly [RegExp, (match: RegExpExecArray, say: Words) => string])[] = [
  [/^read_only:/, () => 'dry run: nothing was saved.'],
  [/^no change:/, () => 'the profile already matched the request.'],
  [
    /^searchRequiresImmutableMatch: (\S+)/,
    (m, say) =>
      `${say.profile(m[1] ?? null)} was not returned: search finds a profile only through an immutable ID it holds.`,
  ],
  [
    /^start clamped to the (\d+)-day/,
    (m) => `the alias start was moved to fit the ${m[1]}-day alias window.`,
  ],
];

function noteStep(note: string, say: Words): string {
  for (const [pattern, word] of NOTE_WORDING) {
    const match = pattern.exec(note);
    if (match !== null) return word(match, say);
  }
  return note;
}

/** Which identifier found the answer: the first level of its lookup that hit it. */
function foundBy(trace: ExplainTrace): string {
  const mpid = trace.result.mpid;
  const lookup = trace.lookups.filter((l) => l.result === mpid).at(-1);
  const level = mpid === null ? undefined : lookup?.levels.find((l) => l.hits.includes(mpid));
  return level === undefined ? '' : ` (${describeIdentity(level.identityType, level.value)})`;
}

function newAnonymousHeadline(trace: ExplainTrace): string {
  if (trace.strategy === 'best_match') return 'created a new profile: no existing profile matched.';
  if (trace.kind === 'logout') return 'logged out to a new anonymous profile.';
  return trace.situation === 'N2'
    ? 'treated as a new anonymous visitor: only logged-in customers matched.'
    : 'treated as a new anonymous visitor: no existing profile matched.';
}

function headline(say: Words): string {
  const { trace } = say;
  const as = trace.kind === 'login' ? 'logged in' : 'identified';
  const p = say.profile(trace.result.mpid);
  switch (trace.branch) {
    case 'known_user':
      return `${as} as an existing customer${foundBy(trace)}.`;
    case 'anonymous_match':
      return say.bestMatch
        ? `matched an existing profile${foundBy(trace)}.`
        : `recognised an existing anonymous visitor${foundBy(trace)}.`;
    case 'new_anonymous':
      return newAnonymousHeadline(trace);
    case 'convert_anonymous':
      return `${as} as a new customer: the anonymous profile became known.`;
    case 'new_known':
      return `${as} as a new customer on a new profile.`;
    case 'return_to_anonymous':
      return `logged out back to the device's anonymous profile${foundBy(trace)}.`;
    case 'modify':
      return trace.writes.length > 0 ? `changed the identities of ${p}.` : `nothing changed on ${p}.`;
    case 'search_found':
      return `found ${p}${foundBy(trace)}.`;
    case 'search_not_found':
      return 'no profile found.';
    case 'alias_accepted': {
      const source = trace.writes.find((w) => w.action === 'accept_alias')?.otherMpid ?? null;
      return `accepted an alias of ${say.profile(source)} into ${p}.`;
    }
  }
}

/** The trace as a headline and ordered steps, in plain English (SPEC TR-5). */
export function explainInWords(trace: ExplainTrace, options: ExplainOptions = {}): Explanation {
  const say = wordsFor(trace, options);
  const steps = [
    ...trace.identities.map(identityStep),
    previousStep(say),
    unmatchedStep(trace),
    ...trace.lookups.flatMap((lookup) => lookupSteps(lookup, say)),
    branchStep(say),
    ...writeSteps(say),
    ...trace.skipped.map((skip) => skipStep(skip, say)),
    ...trace.notes.map((note) => noteStep(note, say)),
  ].filter((step) => step !== null);
  return { headline: capitalise(headline(say)), steps: [...new Set(steps)].map(capitalise) };
}

function fallback(headline: string, step: string): Explanation {
  return { headline: capitalise(headline), steps: [capitalise(step)] };
}

/**
 * Reads the untyped trace of a sync result. A missing, newer, older or damaged trace gives an
 * explanation saying so, for the caller to show instead.
 */
export function parseExplainTrace(input: unknown): Result<ExplainTrace, Explanation> {
  if (input === null || input === undefined) {
    return err(
      fallback(
        'no explanation was recorded for this request.',
        'the server sent no trace with this answer, or it has not been synced yet.',
      ),
    );
  }
  const version = typeof input === 'object' && 'version' in input ? input.version : undefined;
  if (typeof version === 'number' && version !== TRACE_VERSION) {
    return err(
      fallback(
        `this explanation comes from ${version > TRACE_VERSION ? 'a newer' : 'an older'} version of Identity Sync.`,
        `it was recorded in trace format ${version}, and this app reads format ${TRACE_VERSION}.`,
      ),
    );
  }
  const parsed = ExplainTraceSchema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  const where =
    issue === undefined ? '' : ` (${issue.path.map(String).join('.') || 'top level'}: ${issue.message})`;
  return err(
    fallback('this explanation could not be read.', `the recorded trace is damaged or incomplete${where}.`),
  );
}
