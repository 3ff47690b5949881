/**
 * The resolver as callers use it: each request kind runs its program in one store transaction.
 * Input bodies are `unknown`; every one is parsed at this boundary and bad input comes back as a
 * `ResolutionFailure` that changed nothing.
 */
import type { ScopeConfig } from '../identity/scope-config.ts';
import type { RandomSource } from '../util/random.ts';
import {
  aliasProgram,
  processNextAliasProgram,
  undoAliasProgram,
  type AliasOutcome,
  type AliasProcessed,
  type AliasUndoOutcome,
} from './alias.ts';
import type { Clock, ResolveOptions } from './context.ts';
import { identityProgram, type IdentityKind, type IdentityOutcome } from './identify.ts';
import { modifyProgram, type ModifyOutcome } from './modify.ts';
import type { Actor } from './records.ts';
import { searchProgram, type SearchOutcome } from './search.ts';
import { runInTransaction, type IdentityStore } from './store-port.ts';

export interface CallOptions {
  readonly actor?: Actor;
  readonly readOnly?: boolean;
  readonly preferredMpid?: string;
}

const SYSTEM: Actor = { kind: 'system', id: 'resolver' };

/** Settings of the store the resolver writes to, the same for every call. */
export interface ResolverSettings {
  /** Coarse last-seen (LS-3); 0 or absent: advanced on every request. */
  readonly lastSeenResolutionMs?: number;
}

export class Resolver {
  constructor(
    private readonly target: IdentityStore,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly settings: ResolverSettings = {},
  ) {}

  private options(config: ScopeConfig, call: CallOptions): ResolveOptions {
    return {
      config,
      random: this.random,
      now: this.clock.now(),
      actor: call.actor ?? SYSTEM,
      ...(this.settings.lastSeenResolutionMs === undefined
        ? {}
        : { lastSeenResolutionMs: this.settings.lastSeenResolutionMs }),
      ...(call.readOnly === undefined ? {} : { readOnly: call.readOnly }),
      ...(call.preferredMpid === undefined ? {} : { preferredMpid: call.preferredMpid }),
    };
  }

  identity(
    kind: IdentityKind,
    config: ScopeConfig,
    body: unknown,
    call: CallOptions = {},
  ): Promise<IdentityOutcome> {
    const options = this.options(config, call);
    return runInTransaction(this.target, () => identityProgram(kind, body, options));
  }

  identify(config: ScopeConfig, body: unknown, call: CallOptions = {}): Promise<IdentityOutcome> {
    return this.identity('identify', config, body, call);
  }

  login(config: ScopeConfig, body: unknown, call: CallOptions = {}): Promise<IdentityOutcome> {
    return this.identity('login', config, body, call);
  }

  logout(config: ScopeConfig, body: unknown, call: CallOptions = {}): Promise<IdentityOutcome> {
    return this.identity('logout', config, body, call);
  }

  search(config: ScopeConfig, body: unknown): Promise<SearchOutcome> {
    const options = this.options(config, {});
    return runInTransaction(this.target, () => searchProgram(body, options));
  }

  modify(config: ScopeConfig, mpid: unknown, body: unknown, call: CallOptions = {}): Promise<ModifyOutcome> {
    const options = this.options(config, call);
    return runInTransaction(this.target, () => modifyProgram(mpid, body, options));
  }

  alias(config: ScopeConfig, body: unknown, call: CallOptions = {}): Promise<AliasOutcome> {
    const options = this.options(config, call);
    return runInTransaction(this.target, () => aliasProgram(body, options));
  }

  /** Applies or drops every alias of the scope that is due now; returns what it processed. */
  async processDueAliases(config: ScopeConfig): Promise<AliasProcessed[]> {
    const processed: AliasProcessed[] = [];
    for (;;) {
      const options = this.options(config, {});
      const next = await runInTransaction(this.target, () => processNextAliasProgram(options));
      if (next === null) return processed;
      processed.push(next);
    }
  }

  undoAlias(config: ScopeConfig, aliasId: string, call: CallOptions = {}): Promise<AliasUndoOutcome> {
    const options = this.options(config, call);
    return runInTransaction(this.target, () => undoAliasProgram(aliasId, options));
  }
}
