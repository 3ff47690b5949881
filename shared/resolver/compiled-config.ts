/**
 * A scope config turned into the sets and matchers the hot path needs, computed once per config
 * object and cached.
 */
import type { IdentityType } from '../identity/identity-types.ts';
import { compileBlockedValues, type BlockedValueMatcher } from '../identity/blocked-values.ts';
import type { ScopeConfig } from '../identity/scope-config.ts';

export interface CompiledConfig {
  readonly config: ScopeConfig;
  readonly priority: readonly IdentityType[];
  readonly inPriority: ReadonlySet<IdentityType>;
  readonly login: ReadonlySet<IdentityType>;
  readonly unique: ReadonlySet<IdentityType>;
  readonly immutable: ReadonlySet<IdentityType>;
  readonly loginList: readonly IdentityType[];
  readonly immutableList: readonly IdentityType[];
  readonly blocked: BlockedValueMatcher;
}

const cache = new WeakMap<ScopeConfig, CompiledConfig>();

export function compileConfig(config: ScopeConfig): CompiledConfig {
  const cached = cache.get(config);
  if (cached !== undefined) return cached;
  const compiled: CompiledConfig = {
    config,
    priority: config.identityPriority,
    inPriority: new Set(config.identityPriority),
    login: new Set(config.loginIdentities),
    unique: new Set(config.uniqueIdentities),
    immutable: new Set(config.immutableIdentities),
    loginList: config.loginIdentities,
    immutableList: config.immutableIdentities,
    blocked: compileBlockedValues(config.blockedValues),
  };
  cache.set(config, compiled);
  return compiled;
}
