/**
 * What a resolution needs besides the store: the scope config, the time, randomness and who is
 * asking. Nothing in the resolver reads a clock or a random generator of its own (SPEC RS-2).
 */
import type { Environment, ScopeConfig } from '../identity/scope-config.ts';
import type { RandomSource } from '../util/random.ts';
import { compileConfig, type CompiledConfig } from './compiled-config.ts';
import type { Actor, HistoryKind, Namespace, NewHistoryEntry } from './records.ts';
import type { IdentityType } from '../identity/identity-types.ts';

export interface Clock {
  now(): number;
}

export interface ResolveOptions {
  readonly config: ScopeConfig;
  readonly random: RandomSource;
  readonly now: number;
  readonly actor: Actor;
  /** Dry run (`read_only`): resolve and answer, persist nothing. */
  readonly readOnly?: boolean;
  /** An MPID to issue if this request creates a profile and the MPID is free (device adoption). */
  readonly preferredMpid?: string;
  /**
   * Coarse last-seen (SPEC LS-3): a returned profile's `lastSeenAt` is advanced only when it is at
   * least this old, so a returning user seen again within it writes nothing. 0 (the default)
   * advances it on every request.
   */
  readonly lastSeenResolutionMs?: number;
}

/** What every caller has at hand; absent, `false` and `null` extras are left out (SPEC SS-3). */
export interface ResolveOptionsInput {
  readonly config: ScopeConfig;
  readonly random: RandomSource;
  readonly now: number;
  readonly actor: Actor;
  readonly readOnly?: boolean | undefined;
  readonly preferredMpid?: string | null | undefined;
  readonly lastSeenResolutionMs?: number | undefined;
}

/** The one way to build `ResolveOptions` (SPEC SS-3). */
export function resolveOptions(input: ResolveOptionsInput): ResolveOptions {
  const { config, random, now, actor, readOnly, preferredMpid, lastSeenResolutionMs } = input;
  return {
    config,
    random,
    now,
    actor,
    ...(readOnly === true ? { readOnly } : {}),
    ...(preferredMpid === undefined || preferredMpid === null ? {} : { preferredMpid }),
    ...(lastSeenResolutionMs === undefined ? {} : { lastSeenResolutionMs }),
  };
}

export interface ResolveContext {
  readonly cc: CompiledConfig;
  readonly ns: Namespace;
  readonly options: ResolveOptions;
  readonly requestId: string | null;
}

export function resolveContext(
  options: ResolveOptions,
  environment: Environment,
  requestId: string | null,
): ResolveContext {
  return {
    cc: compileConfig(options.config),
    ns: { scopeId: options.config.scopeId, environment },
    options,
    requestId,
  };
}

export interface HistoryDetail {
  readonly identityType?: IdentityType;
  readonly value?: string;
  readonly otherMpid?: string;
  readonly aliasId?: string;
}

export function historyEntry(
  ctx: ResolveContext,
  kind: HistoryKind,
  mpid: string,
  reason: string,
  detail: HistoryDetail = {},
): NewHistoryEntry {
  return {
    at: ctx.options.now,
    scopeId: ctx.ns.scopeId,
    environment: ctx.ns.environment,
    kind,
    mpid,
    identityType: detail.identityType ?? null,
    value: detail.value ?? null,
    otherMpid: detail.otherMpid ?? null,
    aliasId: detail.aliasId ?? null,
    requestId: ctx.requestId,
    actor: ctx.options.actor,
    reason,
  };
}
