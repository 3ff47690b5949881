/**
 * Identity scope configuration (SPEC CF-1..CF-9): the strategy, the ordered identity priority,
 * which types are login / unique / immutable, normalisation (D1), blocked values (D2) and the
 * knobs for the ambiguities the spec decides (A1, A2, A6, A7). One scope may serve several
 * workspaces; every lookup, uniqueness check and search is confined to one scope and one
 * environment.
 */
import { z } from 'zod';
import { IdentityTypeSchema, isUserIdentityType, type IdentityType } from './identity-types.ts';
import { defaultNormalisation, NormalisationStepSchema } from './normalise.ts';
import { BlockedValuesSchema } from './blocked-values.ts';

export const STRATEGIES = [
  'profile_conversion',
  'default',
  'profile_link',
  'profile_isolation',
  'best_match',
] as const;
export const StrategySchema = z.enum(STRATEGIES);
export type Strategy = (typeof STRATEGIES)[number];

export const ENVIRONMENTS = ['production', 'development'] as const;
export const EnvironmentSchema = z.enum(ENVIRONMENTS);
export type Environment = (typeof ENVIRONMENTS)[number];

export const ScopeIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a scope id is 1-64 lowercase letters, digits, "_" or "-"');

/** The 2023 "Default IDSync Configuration" hierarchy. */
export const DEFAULT_IDENTITY_PRIORITY: readonly IdentityType[] = [
  'customerid',
  'mobile_number',
  'email',
  'other',
  'facebook',
  'google',
  'twitter',
  'microsoft',
  'yahoo',
  'ios_idfa',
  'ios_idfv',
  'android_aaid',
  'android_uuid',
  'roku_aid',
  'roku_publisher_id',
  'microsoft_publisher_id',
  'microsoft_aid',
  'device_application_stamp',
];

const MAX_ALIAS_WINDOW_DAYS = 3650;
const MAX_CACHE_AGE_SEC = 31 * 24 * 3600;

const IdentityListSchema = z.array(IdentityTypeSchema).max(64);

export const AliasingConfigSchema = z.object({
  enabled: z.boolean().default(true),
  maxWindowDays: z.number().int().min(1).max(MAX_ALIAS_WINDOW_DAYS).default(90),
  processingDelayMs: z
    .number()
    .int()
    .min(0)
    .max(MAX_ALIAS_WINDOW_DAYS * 86_400_000)
    .default(0),
  autoAliasOnLinkLogin: z.boolean().default(false),
});

const ScopeConfigObject = z.object({
  scopeId: ScopeIdSchema,
  strategy: StrategySchema,
  identityPriority: z.array(IdentityTypeSchema).min(1).max(64),
  loginIdentities: IdentityListSchema,
  uniqueIdentities: IdentityListSchema,
  immutableIdentities: IdentityListSchema.default([]),
  normalisation: z
    .partialRecord(IdentityTypeSchema, z.array(NormalisationStepSchema).max(8))
    .default(defaultNormalisation),
  blockedValues: BlockedValuesSchema.default(BlockedValuesSchema.parse({})),
  aliasing: AliasingConfigSchema.default(AliasingConfigSchema.parse({})),
  identityCacheMaxAgeSec: z.number().int().min(0).max(MAX_CACHE_AGE_SEC).default(86_400),
  conversionLogout: z.enum(['always_new', 'reuse_anonymous_match']).default('always_new'),
  bestMatchLoginLogout: z.enum(['treat_as_identify', 'reject']).default('treat_as_identify'),
  searchRequiresImmutableMatch: z.boolean().default(false),
  /** When devices replicate: whenever online, or only once someone has logged in on the device. */
  deviceSync: z.enum(['always', 'after_login']).default('always'),
});

type Issue = { path: (string | number)[]; message: string };

function duplicates(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const item of list) (seen.has(item) ? dup : seen).add(item);
  return [...dup];
}

/** The cross-field rules of spec §1.4 and the strategy presets of §1.7 (CF-2..CF-6). */
function scopeConfigIssues(config: z.infer<typeof ScopeConfigObject>): Issue[] {
  const issues: Issue[] = [];
  const lists = {
    identityPriority: config.identityPriority,
    loginIdentities: config.loginIdentities,
    uniqueIdentities: config.uniqueIdentities,
    immutableIdentities: config.immutableIdentities,
  } as const;
  for (const [name, list] of Object.entries(lists)) {
    for (const dup of duplicates(list)) issues.push({ path: [name], message: `"${dup}" is listed twice` });
  }
  const priority = new Set(config.identityPriority);
  const login = new Set(config.loginIdentities);
  const unique = new Set(config.uniqueIdentities);
  for (const [name, list] of Object.entries(lists)) {
    if (name === 'identityPriority') continue;
    for (const type of list) {
      if (!priority.has(type)) {
        issues.push({
          path: [name],
          message: `"${type}" must also be in identityPriority: only priority types are stored on identity records`,
        });
      }
    }
  }
  for (const type of [...config.loginIdentities, ...config.uniqueIdentities]) {
    if (!isUserIdentityType(type)) {
      issues.push({
        path: [login.has(type) ? 'loginIdentities' : 'uniqueIdentities'],
        message: `"${type}" is a device identity; only user identities can be login or unique identities`,
      });
    }
  }
  for (const type of config.immutableIdentities) {
    if (!login.has(type) || !unique.has(type)) {
      issues.push({
        path: ['immutableIdentities'],
        message: `"${type}" is immutable, so it must also be a login identity and a unique identity`,
      });
    }
  }
  if (config.strategy === 'default') {
    const fixed = (list: readonly string[]) => list.length === 1 && list[0] === 'customerid';
    if (!fixed(config.loginIdentities) || !fixed(config.uniqueIdentities)) {
      issues.push({
        path: ['strategy'],
        message: 'the default strategy fixes loginIdentities and uniqueIdentities to ["customerid"]',
      });
    }
  }
  if (config.strategy === 'best_match') {
    if (
      config.loginIdentities.length + config.uniqueIdentities.length + config.immutableIdentities.length >
      0
    ) {
      issues.push({
        path: ['strategy'],
        message: 'best match has no login, unique or immutable identities; leave those lists empty',
      });
    }
  }
  return issues;
}

export const ScopeConfigSchema = ScopeConfigObject.superRefine((config, ctx) => {
  for (const issue of scopeConfigIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
});

export type ScopeConfig = z.output<typeof ScopeConfigSchema>;
export type ScopeConfigInput = z.input<typeof ScopeConfigSchema>;

/** A config with the documented defaults of a strategy (§1.5, §1.7 presets). */
export function defaultScopeConfig(scopeId: string, strategy: Strategy = 'profile_conversion'): ScopeConfig {
  const loginUnique: Record<Strategy, IdentityType[]> = {
    profile_conversion: ['customerid'],
    default: ['customerid'],
    profile_link: ['customerid', 'email'],
    profile_isolation: ['customerid', 'email'],
    best_match: [],
  };
  return ScopeConfigSchema.parse({
    scopeId,
    strategy,
    identityPriority: [...DEFAULT_IDENTITY_PRIORITY],
    loginIdentities: loginUnique[strategy],
    uniqueIdentities: loginUnique[strategy],
    immutableIdentities: strategy === 'default' ? ['customerid'] : [],
  });
}
