/**
 * From the identities a request carries to the identities resolution may use (SPEC NV-1..NV-5):
 * normalise each value (D1), drop blocked values (D2), set aside types outside the identity
 * priority, and for logout set aside login-type values (A3). The result is in priority order, the
 * order lookup walks.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import { normaliseIdentityValue } from '../identity/normalise.ts';
import type { IdentityMap } from '../protocol/idsync.ts';
import { apiError, type ApiError } from '../protocol/errors.ts';
import { err, ok, type Result } from '../util/result.ts';
import type { CompiledConfig } from './compiled-config.ts';
import type { IdentityKey } from './store-port.ts';
import type { IdentityTrace, IdentityUse } from './trace.ts';

export interface PreparedIdentities {
  /** Usable identities in priority order. */
  readonly entries: readonly IdentityKey[];
  readonly traces: readonly IdentityTrace[];
}

export type PrepareMode = 'identify' | 'logout' | 'search';

/** The usable value of `type` in the request, if any (entries are a handful: a scan beats a map). */
export function requestValue(prepared: PreparedIdentities, type: IdentityType): string | undefined {
  for (const entry of prepared.entries) if (entry.identityType === type) return entry.value;
  return undefined;
}

function trace(
  traces: IdentityTrace[],
  type: IdentityType,
  value: string,
  raw: string,
  use: IdentityUse,
): void {
  traces.push({ identityType: type, value, raw: value === raw ? null : raw, use });
}

/** The number of keys of a request's identity map, without building the list of them. */
function countKeys(identities: IdentityMap): number {
  let count = 0;
  for (const key in identities) if (Object.prototype.hasOwnProperty.call(identities, key)) count++;
  return count;
}

export function prepareIdentities(
  cc: CompiledConfig,
  identities: IdentityMap,
  mode: PrepareMode,
): Result<PreparedIdentities, ApiError> {
  const normalisation = cc.config.normalisation;
  const traces: IdentityTrace[] = [];
  const entries: IdentityKey[] = [];
  let usable = 0;
  let seen = 0;
  for (const type of cc.priority) {
    const raw = identities[type];
    if (raw === undefined) continue;
    seen++;
    const value = normaliseIdentityValue(normalisation, type, raw);
    if (value === '' || cc.blocked.isBlocked(value)) {
      trace(traces, type, value, raw, 'blocked');
      continue;
    }
    usable++;
    if (mode === 'logout' && cc.login.has(type)) {
      trace(traces, type, value, raw, 'ignored_in_logout');
      continue;
    }
    entries.push({ identityType: type, value });
    trace(traces, type, value, raw, 'lookup');
  }
  if (seen < countKeys(identities)) {
    for (const key in identities) {
      const type = key as IdentityType;
      if (cc.inPriority.has(type)) continue;
      const raw = identities[type] as string;
      const value = normaliseIdentityValue(normalisation, type, raw);
      const blocked = value === '' || cc.blocked.isBlocked(value);
      if (!blocked) usable++;
      trace(traces, type, value, raw, blocked ? 'blocked' : 'not_in_priority');
    }
  }
  if (usable === 0) {
    return err(
      apiError(
        'NO_USABLE_IDENTITIES',
        'every identity in the request is empty or a blocked placeholder value',
      ),
    );
  }
  return ok({ entries, traces });
}
