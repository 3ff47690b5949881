/**
 * The explain trace (SPEC TR-1..TR-4, decision D4). Every resolution records which identifiers
 * were used or dropped and why, what each priority level of each lookup hit, which profiles
 * eligibility excluded and why, the tie-break, the strategy situation and branch, every write and
 * every write deliberately not made. It is stored with the request and shown to admins and
 * developers, so it is plain JSON with a schema.
 */
import { z } from 'zod';
import { IdentityTypeSchema } from '../identity/identity-types.ts';
import { StrategySchema } from '../identity/scope-config.ts';

export const TRACE_VERSION = 1;

export const EXCLUSION_REASONS = [
  'orphaned',
  'login_protected',
  'immutable_protected',
  'immutable_conflict',
  'not_known',
  'not_anonymous',
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

export const IDENTITY_USES = ['lookup', 'blocked', 'not_in_priority', 'ignored_in_logout'] as const;
export type IdentityUse = (typeof IDENTITY_USES)[number];

export const SITUATIONS = ['N0', 'N1', 'N2', 'K1', 'K2', 'K3', 'K4', 'K5', 'G1', 'G2'] as const;
export type Situation = (typeof SITUATIONS)[number];

export const WRITE_ACTIONS = [
  'create_profile',
  'add_identity',
  'remove_identity',
  'move_identity',
  'orphan_profile',
  'accept_alias',
  'apply_alias',
  'reject_alias',
  'undo_alias',
  'set_first_seen',
] as const;
export type WriteAction = (typeof WRITE_ACTIONS)[number];

/** The branch of the strategy (or request kind) that produced the answer; `strategy` says which strategy. */
export const BRANCHES = [
  'known_user',
  'anonymous_match',
  'new_anonymous',
  'convert_anonymous',
  'new_known',
  'return_to_anonymous',
  'modify',
  'search_found',
  'search_not_found',
  'alias_accepted',
] as const;
export type Branch = (typeof BRANCHES)[number];

export const SKIP_REASONS = ['unique_held_by_other', 'unique_type_already_set'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

const IdentityTraceSchema = z.object({
  identityType: IdentityTypeSchema,
  value: z.string(),
  /** The value as sent, when normalisation (D1) changed it. */
  raw: z.string().nullable(),
  use: z.enum(IDENTITY_USES),
});
export type IdentityTrace = z.infer<typeof IdentityTraceSchema>;

const LevelTraceSchema = z.object({
  identityType: IdentityTypeSchema,
  value: z.string(),
  hits: z.array(z.string()).readonly(),
  excluded: z.array(z.object({ mpid: z.string(), reason: z.enum(EXCLUSION_REASONS) })).readonly(),
  /** The candidate set after this level narrowed it (unchanged when the level did not discriminate). */
  candidates: z.array(z.string()).readonly(),
});
export type LevelTrace = z.infer<typeof LevelTraceSchema>;

/**
 * One lookup. `levels` lists the priority levels where some record held the value (a hit or an
 * exclusion); a usable identity with no level here matched nothing.
 */
export const LookupTraceSchema = z.object({
  purpose: z.enum(['known', 'anonymous', 'any', 'search']),
  levels: z.array(LevelTraceSchema).readonly(),
  tieBreak: z
    .object({ rule: z.enum(['previous_mpid', 'most_recently_seen']), among: z.array(z.string()).readonly() })
    .nullable(),
  result: z.string().nullable(),
});
export type LookupTrace = z.infer<typeof LookupTraceSchema>;

const WriteTraceSchema = z.object({
  action: z.enum(WRITE_ACTIONS),
  mpid: z.string(),
  identityType: IdentityTypeSchema.nullable(),
  value: z.string().nullable(),
  otherMpid: z.string().nullable(),
});
export type WriteTrace = z.infer<typeof WriteTraceSchema>;

const SkipTraceSchema = z.object({
  identityType: IdentityTypeSchema,
  value: z.string(),
  reason: z.enum(SKIP_REASONS),
  holder: z.string().nullable(),
});
export type SkipTrace = z.infer<typeof SkipTraceSchema>;

export const ExplainTraceSchema = z.object({
  version: z.literal(TRACE_VERSION),
  kind: z.enum([
    'identify',
    'login',
    'logout',
    'search',
    'modify',
    'alias',
    'alias_processing',
    'alias_undo',
  ]),
  requestId: z.string().nullable(),
  strategy: StrategySchema,
  identities: z.array(IdentityTraceSchema).readonly(),
  previousMpid: z
    .object({ mpid: z.string(), status: z.enum(['anonymous', 'known', 'orphaned', 'not_found']) })
    .nullable(),
  lookups: z.array(LookupTraceSchema).readonly(),
  situation: z.enum(SITUATIONS).nullable(),
  branch: z.enum(BRANCHES),
  writes: z.array(WriteTraceSchema).readonly(),
  skipped: z.array(SkipTraceSchema).readonly(),
  result: z.object({ mpid: z.string().nullable(), created: z.boolean() }),
  notes: z.array(z.string()).readonly(),
});
export type ExplainTrace = z.infer<typeof ExplainTraceSchema>;
export type TraceKind = ExplainTrace['kind'];

/** Traces share one frozen empty list: most lists in most traces are empty. */
export const NONE: readonly never[] = Object.freeze([]);

export function writeTrace(
  action: WriteAction,
  mpid: string,
  identityType: WriteTrace['identityType'] = null,
  value: string | null = null,
  otherMpid: string | null = null,
): WriteTrace {
  return { action, mpid, identityType, value, otherMpid };
}
