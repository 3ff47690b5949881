/**
 * What the resolver stores (SPEC ST-1..ST-4): identity records (profiles), requests with their
 * results and explain traces, the append-only history, and alias records. These schemas are the
 * contract with every store adapter and with the admin API, so they are zod schemas too.
 */
import { z } from 'zod';
import { IdentityTypeSchema, type IdentityType } from '../identity/identity-types.ts';
import { EnvironmentSchema, type Environment } from '../identity/scope-config.ts';
import { MpidSchema } from '../identity/mpid.ts';
import { ExplainTraceSchema } from './trace.ts';

/** The namespace every lookup is confined to (SPEC ID-5, A11). */
export interface Namespace {
  readonly scopeId: string;
  readonly environment: Environment;
}

/** Identity type → the values a record holds (several for non-unique types). */
export type IdentitySet = Partial<Record<IdentityType, readonly string[]>>;

export const ProfileRecordSchema = z.object({
  mpid: MpidSchema,
  scopeId: z.string(),
  environment: EnvironmentSchema,
  identities: z.partialRecord(IdentityTypeSchema, z.array(z.string())),
  createdAt: z.number(),
  firstSeenAt: z.number(),
  lastSeenAt: z.number(),
  /** Set when a modify removed the record's last identifier; an orphan is never returned again. */
  orphanedAt: z.number().nullable(),
});
export interface ProfileRecord {
  readonly mpid: string;
  readonly scopeId: string;
  readonly environment: Environment;
  readonly identities: IdentitySet;
  readonly createdAt: number;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  readonly orphanedAt: number | null;
}

export const ActorSchema = z.object({
  kind: z.enum(['app', 'device', 'admin', 'system']),
  id: z.string(),
});
export type Actor = z.infer<typeof ActorSchema>;

export const REQUEST_KINDS = ['identify', 'login', 'logout', 'modify', 'alias'] as const;
export const RequestKindSchema = z.enum(REQUEST_KINDS);
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * A stored request (SPEC LS-1, LS-2): kept when it changed the graph (with its explain trace, for
 * the admin's "why") or when the client sent a `request_id` (its fingerprint and response, for
 * idempotency: a replay returns `response` and writes nothing). `trace` is null for a request that
 * changed nothing; its trace is recomputed on demand.
 */
export const StoredRequestSchema = z.object({
  scopeId: z.string(),
  requestId: z.string(),
  kind: RequestKindSchema,
  environment: EnvironmentSchema,
  fingerprint: z.string(),
  at: z.number(),
  actor: ActorSchema,
  /** The profiles the request returned or touched, for the admin profile view. */
  mpids: z.array(MpidSchema),
  status: z.number().int(),
  response: z.unknown(),
  trace: ExplainTraceSchema.nullable(),
});
export type StoredRequest = z.infer<typeof StoredRequestSchema>;

/**
 * The profile a stored request answered and whether it created it: from the trace when one was
 * kept, else from the response (a request that kept no trace changed nothing, so created nothing).
 */
export function storedResult(stored: StoredRequest): {
  readonly mpid: string | null;
  readonly created: boolean;
} {
  if (stored.trace !== null) return stored.trace.result;
  const response = stored.response as { mpid?: unknown } | null;
  return { mpid: typeof response?.mpid === 'string' ? response.mpid : null, created: false };
}

export const HISTORY_KINDS = [
  'profile_created',
  'identity_added',
  'identity_removed',
  'identity_moved',
  'profile_orphaned',
  'profile_deleted',
  'alias_accepted',
  'alias_applied',
  'alias_rejected',
  'alias_undone',
] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];

/** One append-only history entry (D5). `seq` is assigned by the store, strictly increasing. */
export const HistoryEntrySchema = z.object({
  seq: z.number().int(),
  at: z.number(),
  scopeId: z.string(),
  environment: EnvironmentSchema,
  kind: z.enum(HISTORY_KINDS),
  mpid: MpidSchema,
  identityType: IdentityTypeSchema.nullable(),
  value: z.string().nullable(),
  /** The other profile involved: where a value moved to, the alias partner. */
  otherMpid: MpidSchema.nullable(),
  aliasId: z.string().nullable(),
  requestId: z.string().nullable(),
  actor: ActorSchema,
  reason: z.string(),
});
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
export type NewHistoryEntry = Omit<HistoryEntry, 'seq'>;

export const ALIAS_STATUSES = ['pending', 'applied', 'rejected', 'undone'] as const;
export type AliasStatus = (typeof ALIAS_STATUSES)[number];

export const AliasRecordSchema = z.object({
  id: z.string(),
  scopeId: z.string(),
  environment: EnvironmentSchema,
  sourceMpid: MpidSchema,
  destinationMpid: MpidSchema,
  startMs: z.number(),
  endMs: z.number(),
  scope: z.enum(['device', 'mpid']),
  deviceApplicationStamp: z.string().nullable(),
  requestedAt: z.number(),
  dueAt: z.number(),
  status: z.enum(ALIAS_STATUSES),
  statusReason: z.string().nullable(),
  processedAt: z.number().nullable(),
  /** The destination's first-seen time before the alias overwrote it, restored by an undo. */
  previousDestinationFirstSeenAt: z.number().nullable(),
});
export type AliasRecord = z.infer<typeof AliasRecordSchema>;

/** The identities with `value` added to `type`, or `null` when the value is already held. */
export function withIdentity(identities: IdentitySet, type: IdentityType, value: string): IdentitySet | null {
  const values = identities[type] ?? [];
  if (values.includes(value)) return null;
  return { ...identities, [type]: [...values, value] };
}

/** The identities without `value` of `type` (the type dropped when empty), or `null` when not held. */
export function withoutIdentity(
  identities: IdentitySet,
  type: IdentityType,
  value: string,
): IdentitySet | null {
  const values = identities[type] ?? [];
  if (!values.includes(value)) return null;
  const rest = values.filter((v) => v !== value);
  const out: IdentitySet = { ...identities };
  if (rest.length === 0) delete out[type];
  else out[type] = rest;
  return out;
}
