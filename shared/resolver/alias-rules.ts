/**
 * Alias rules (SPEC AL-1..AL-9, spec §5, D6). An alias copies a source profile's activity into a
 * destination profile. Acceptance is synchronous: the strategy must offer aliasing (403
 * otherwise), source and destination must differ and exist, and the time range must be valid and
 * is clamped to the workspace's window. Application happens later (after the configured delay)
 * and silently drops aliases that would form a chain: a source already aliased over an
 * overlapping window, a source that was a destination, a destination that was a source.
 *
 * Events are not copied row by row: an applied alias record *is* the copy. A profile's activity
 * is its own plus that of every applied alias into it within the alias window, which makes undo
 * (D5) exact and cheap.
 */
import { apiError, type ApiError } from '../protocol/errors.ts';
import { err, ok, type Result } from '../util/result.ts';
import { historyEntry, type ResolveContext } from './context.ts';
import type { AliasRecord, NewHistoryEntry } from './records.ts';

const DAY_MS = 86_400_000;

export interface AliasParams {
  readonly sourceMpid: string;
  readonly destinationMpid: string;
  readonly startMs: number | null;
  readonly endMs: number | null;
  readonly scope: 'device' | 'mpid';
  readonly deviceApplicationStamp: string | null;
}

/** 403 unless the strategy offers aliasing and the workspace has it switched on (AL-1). */
export function aliasAvailability(ctx: ResolveContext): ApiError | null {
  const { strategy, aliasing } = ctx.cc.config;
  if (strategy === 'profile_isolation' || strategy === 'best_match') {
    return apiError('ALIAS_NOT_AVAILABLE', `aliasing is not available under the ${strategy} strategy`);
  }
  if (!aliasing.enabled)
    return apiError('ALIAS_NOT_AVAILABLE', 'aliasing is switched off for this workspace');
  return null;
}

/** The alias window (AL-3): defaults to the last `maxWindowDays` up to now; starts are clamped to it. */
export function aliasWindow(
  ctx: ResolveContext,
  params: Pick<AliasParams, 'startMs' | 'endMs'>,
): Result<{ startMs: number; endMs: number; clamped: boolean }, ApiError> {
  const now = ctx.options.now;
  if (params.startMs !== null && params.endMs !== null && params.startMs > params.endMs) {
    return err(
      apiError('ALIAS_ERROR', 'start_unixtime_ms is after end_unixtime_ms', 'data.start_unixtime_ms'),
    );
  }
  const windowStart = now - ctx.cc.config.aliasing.maxWindowDays * DAY_MS;
  const endMs = params.endMs ?? now;
  const requestedStart = params.startMs ?? windowStart;
  const startMs = Math.max(requestedStart, windowStart);
  if (endMs < startMs) {
    return err(
      apiError(
        'ALIAS_ERROR',
        `the time range ends before the ${ctx.cc.config.aliasing.maxWindowDays}-day alias window begins`,
        'data.end_unixtime_ms',
      ),
    );
  }
  return ok({ startMs, endMs, clamped: startMs !== requestedStart });
}

/** A pending alias record and its acceptance history (both profiles get a note). */
export function newAlias(
  ctx: ResolveContext,
  id: string,
  params: AliasParams,
  window: { readonly startMs: number; readonly endMs: number },
): { alias: AliasRecord; history: NewHistoryEntry[] } {
  const now = ctx.options.now;
  const alias: AliasRecord = {
    id,
    scopeId: ctx.ns.scopeId,
    environment: ctx.ns.environment,
    sourceMpid: params.sourceMpid,
    destinationMpid: params.destinationMpid,
    startMs: window.startMs,
    endMs: window.endMs,
    scope: params.scope,
    deviceApplicationStamp: params.deviceApplicationStamp,
    requestedAt: now,
    dueAt: now + ctx.cc.config.aliasing.processingDelayMs,
    status: 'pending',
    statusReason: null,
    processedAt: null,
    previousDestinationFirstSeenAt: null,
  };
  const detail = { aliasId: id };
  const history = [
    historyEntry(ctx, 'alias_accepted', params.sourceMpid, `alias into ${params.destinationMpid} accepted`, {
      ...detail,
      otherMpid: params.destinationMpid,
    }),
    historyEntry(ctx, 'alias_accepted', params.destinationMpid, `alias from ${params.sourceMpid} accepted`, {
      ...detail,
      otherMpid: params.sourceMpid,
    }),
  ];
  return { alias, history };
}

/**
 * Why a pending alias must be dropped given the aliases already applied (AL-6), or `null` when it
 * may be applied.
 */
export function chainViolation(alias: AliasRecord, applied: readonly AliasRecord[]): string | null {
  for (const other of applied) {
    if (other.id === alias.id || other.status !== 'applied') continue;
    if (
      other.sourceMpid === alias.sourceMpid &&
      other.startMs <= alias.endMs &&
      alias.startMs <= other.endMs
    ) {
      return `source ${alias.sourceMpid} was already aliased (alias ${other.id}) over an overlapping window`;
    }
    if (other.destinationMpid === alias.sourceMpid) {
      return `source ${alias.sourceMpid} was previously a destination (alias ${other.id})`;
    }
    if (other.sourceMpid === alias.destinationMpid) {
      return `destination ${alias.destinationMpid} was previously a source (alias ${other.id})`;
    }
  }
  return null;
}
