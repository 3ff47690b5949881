/**
 * The workspace settings editor's logic, free of React: the strategies in words, the config's
 * problems by field (found by the server's own `ScopeConfigSchema`, reworded), the flag and list
 * edits, and what changed between two versions in words (SPEC AC-20..AC-26).
 */
import {
  IdentityTypeSchema,
  IDENTITY_TYPES,
  type IdentityType,
} from '../../../../../shared/identity/identity-types.ts';
import {
  ScopeConfigSchema,
  type ScopeConfig,
  type Strategy,
} from '../../../../../shared/identity/scope-config.ts';
import type { NormalisationStep } from '../../../../../shared/identity/normalise.ts';
import { identityLabel } from '../../../identity/identity-labels.ts';

export const STRATEGY_WORDS: Readonly<Record<Strategy, { label: string; explained: string }>> = {
  profile_conversion: {
    label: 'Profile conversion',
    explained:
      'A login turns the anonymous profile the device was using into the known person, unless that person already has a profile.',
  },
  default: {
    label: 'Default',
    explained:
      'Only the customer ID logs people in and is unique; anything else found on a profile joins requests to it.',
  },
  profile_link: {
    label: 'Profile link',
    explained:
      'A login answers the known person’s own profile and links the anonymous one to it, so both histories stay apart but connected.',
  },
  profile_isolation: {
    label: 'Profile isolation',
    explained:
      'A login never takes over an anonymous profile: the known person gets their own profile and the anonymous one is left alone.',
  },
  best_match: {
    label: 'Best match',
    explained:
      'No login or unique identities: every request is answered with the profile that best matches the identities it carries.',
  },
};

export const NORMALISATION_WORDS: Readonly<Record<NormalisationStep, string>> = {
  trim: 'Trim spaces',
  lowercase: 'Lower-case',
  strip_phone_punctuation: 'Strip phone punctuation',
};

/** The parts of the settings form a problem is shown next to. */
export const CONFIG_FIELDS = [
  'strategy',
  'identityPriority',
  'loginIdentities',
  'uniqueIdentities',
  'immutableIdentities',
  'normalisation',
  'blockedValues',
  'aliasing',
  'deviceSync',
  'other',
] as const;
export type ConfigField = (typeof CONFIG_FIELDS)[number];
export type ConfigProblems = Readonly<Partial<Record<ConfigField, readonly string[]>>>;

const FIELD_WORDS: Readonly<Record<string, string>> = {
  identityPriority: 'the identity priority',
  loginIdentities: 'the login identities',
  uniqueIdentities: 'the unique identities',
  immutableIdentities: 'the immutable identities',
  '["customerid"]': 'the customer ID alone',
};

/** `"email"` → `Email`, `identityPriority` → `the identity priority`: the schema's rule, worded for admins. */
function reword(message: string): string {
  return message
    .replace(
      /\["customerid"\]|identityPriority|loginIdentities|uniqueIdentities|immutableIdentities/g,
      (f) => FIELD_WORDS[f] ?? f,
    )
    .replace(/"([a-z0-9_]+)"/g, (whole, type: string) =>
      IdentityTypeSchema.safeParse(type).success ? identityLabel(type as IdentityType) : whole,
    )
    .replace(/^./, (c) => c.toUpperCase());
}

function fieldOf(path: readonly PropertyKey[]): ConfigField {
  const head = path[0];
  return (CONFIG_FIELDS as readonly PropertyKey[]).includes(head ?? '') ? (head as ConfigField) : 'other';
}

const NESTED_WORDS: Readonly<Record<string, string>> = {
  maxWindowDays: 'The alias window',
  processingDelayMs: 'The alias processing delay',
  patterns: 'A blocked pattern',
  exact: 'A blocked value',
};

/**
 * Every rule the draft breaks, by the field it belongs to, in words; empty when the server would
 * take it. The check is the server's own schema, so the two can never disagree.
 */
export function configProblems(draft: unknown): ConfigProblems {
  const parsed = ScopeConfigSchema.safeParse(draft);
  if (parsed.success) return {};
  const problems: Partial<Record<ConfigField, string[]>> = {};
  for (const issue of parsed.error.issues) {
    const field = fieldOf(issue.path);
    const nested = issue.path.find((p): p is string => typeof p === 'string' && p in NESTED_WORDS);
    // The cross-field rules (CF-2..CF-6) are whole sentences; a field's own check needs its name.
    const crossField = issue.code === 'custom' && issue.path.length === 1;
    const text = crossField
      ? reword(issue.message)
      : `${nested === undefined ? fieldLabel(field) : NESTED_WORDS[nested]}: ${issue.message}`;
    const list = (problems[field] ??= []);
    if (!list.includes(text)) list.push(text);
  }
  return problems;
}

export function hasProblems(problems: ConfigProblems): boolean {
  return Object.values(problems).some((list) => list.length > 0);
}

function fieldLabel(field: ConfigField): string {
  const labels: Record<ConfigField, string> = {
    strategy: 'Strategy',
    identityPriority: 'Identity priority',
    loginIdentities: 'Login identities',
    uniqueIdentities: 'Unique identities',
    immutableIdentities: 'Immutable identities',
    normalisation: 'Normalisation',
    blockedValues: 'Blocked values',
    aliasing: 'Aliasing',
    deviceSync: 'Device sync',
    other: 'Config',
  };
  return labels[field];
}

/** The list with the item at `from` moved to `to` (both clamped); the same list when nothing moves. */
export function moveItem<T>(list: readonly T[], from: number, to: number): readonly T[] {
  const target = Math.max(0, Math.min(list.length - 1, to));
  if (from < 0 || from >= list.length || from === target) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(target, 0, item as T);
  return next;
}

export const IDENTITY_FLAGS = ['loginIdentities', 'uniqueIdentities', 'immutableIdentities'] as const;
export type IdentityFlag = (typeof IDENTITY_FLAGS)[number];
export const FLAG_WORDS: Readonly<Record<IdentityFlag, string>> = {
  loginIdentities: 'Login',
  uniqueIdentities: 'Unique',
  immutableIdentities: 'Immutable',
};

/** Sets or clears one flag of one type; the other flags stay as they are (their rules are shown, not forced). */
export function withFlag(
  config: ScopeConfig,
  type: IdentityType,
  flag: IdentityFlag,
  on: boolean,
): ScopeConfig {
  const list = config[flag].filter((t) => t !== type);
  return { ...config, [flag]: on ? [...list, type] : list };
}

/**
 * Takes a type out of the priority, and so out of every flag list (CF-3 allows flags on priority
 * types only). Its normalisation stays: it is harmless off the priority and back if the type is.
 */
export function withoutType(config: ScopeConfig, type: IdentityType): ScopeConfig {
  const drop = (list: readonly IdentityType[]) => list.filter((t) => t !== type);
  return {
    ...config,
    identityPriority: drop(config.identityPriority),
    loginIdentities: drop(config.loginIdentities),
    uniqueIdentities: drop(config.uniqueIdentities),
    immutableIdentities: drop(config.immutableIdentities),
  };
}

/** Identity types not in the priority yet, in the protocol's order. */
export function typesNotInPriority(config: ScopeConfig): IdentityType[] {
  return IDENTITY_TYPES.filter((t) => !config.identityPriority.includes(t));
}

/** One line per value, blank lines dropped; the editor's text for a list of values. */
export function linesToList(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

function typeList(list: readonly IdentityType[]): string {
  return list.length === 0 ? 'none' : list.map(identityLabel).join(', ');
}

function listChange(
  label: string,
  before: readonly IdentityType[],
  after: readonly IdentityType[],
): string | null {
  const added = after.filter((t) => !before.includes(t));
  const removed = before.filter((t) => !after.includes(t));
  if (added.length + removed.length === 0) {
    return before.join() === after.join() ? null : `${label} reordered: ${typeList(after)}.`;
  }
  const parts = [
    added.length > 0 ? `added ${typeList(added)}` : null,
    removed.length > 0 ? `removed ${typeList(removed)}` : null,
  ].filter((p) => p !== null);
  return `${label}: ${parts.join('; ')}.`;
}

function valuesChange(label: string, before: readonly string[], after: readonly string[]): string | null {
  const quoted = (list: string[]) => list.map((v) => `“${v}”`).join(', ');
  const added = after.filter((v) => !before.includes(v));
  const removed = before.filter((v) => !after.includes(v));
  if (added.length + removed.length === 0) return null;
  const parts = [
    added.length > 0 ? `added ${quoted(added)}` : null,
    removed.length > 0 ? `removed ${quoted(removed)}` : null,
  ].filter((p) => p !== null);
  return `${label}: ${parts.join('; ')}.`;
}

function scalarChange(label: string, before: unknown, after: unknown): string | null {
  return before === after ? null : `${label}: ${String(before)} → ${String(after)}.`;
}

const SCALARS: readonly [string, (c: ScopeConfig) => unknown][] = [
  ['Aliasing on', (c) => (c.aliasing.enabled ? 'yes' : 'no')],
  ['Alias window (days)', (c) => c.aliasing.maxWindowDays],
  ['Alias processing delay (ms)', (c) => c.aliasing.processingDelayMs],
  ['Alias automatically on a profile-link login', (c) => (c.aliasing.autoAliasOnLinkLogin ? 'yes' : 'no')],
  ['Device sync', (c) => (c.deviceSync === 'always' ? 'whenever online' : 'only after a login')],
  ['Identity cache age (s)', (c) => c.identityCacheMaxAgeSec],
  ['Logout under conversion', (c) => c.conversionLogout],
  ['Login and logout under best match', (c) => c.bestMatchLoginLogout],
  ['Search needs an immutable match', (c) => (c.searchRequiresImmutableMatch ? 'yes' : 'no')],
];

/** What changed from `before` to `after`, one sentence each, in the form's order. */
export function configChanges(before: ScopeConfig, after: ScopeConfig): string[] {
  const changes: (string | null)[] = [
    before.strategy === after.strategy
      ? null
      : `Strategy: ${STRATEGY_WORDS[before.strategy].label} → ${STRATEGY_WORDS[after.strategy].label}.`,
    listChange('Identity priority', before.identityPriority, after.identityPriority),
    ...IDENTITY_FLAGS.map((flag) => listChange(`${FLAG_WORDS[flag]} identities`, before[flag], after[flag])),
  ];
  const normalised = new Set([...Object.keys(before.normalisation), ...Object.keys(after.normalisation)]);
  for (const type of IDENTITY_TYPES.filter((t) => normalised.has(t))) {
    const steps = (c: ScopeConfig) =>
      (c.normalisation[type] ?? []).map((s) => NORMALISATION_WORDS[s]).join(', ') || 'none';
    changes.push(scalarChange(`Normalisation of ${identityLabel(type)}`, steps(before), steps(after)));
  }
  changes.push(valuesChange('Blocked values', before.blockedValues.exact, after.blockedValues.exact));
  changes.push(valuesChange('Blocked patterns', before.blockedValues.patterns, after.blockedValues.patterns));
  for (const [label, read] of SCALARS) changes.push(scalarChange(label, read(before), read(after)));
  return changes.filter((c) => c !== null);
}
