/**
 * The resolver as callers use it: each request kind runs its program in one store transaction.
 * Input bodies are `unknown`; every one is parsed at this boundary and bad input comes back as a
 * `ResolutionFailure` that changed nothing.
 */
import type { ScopeConfig } from '../identity/scope-config.ts';
import type { RandomSource } from '../util/random.ts';
import {
  processNextAliasProgram,
  undoAliasProgram,
  type AliasOutcome,
  type AliasProcessed,
  type AliasUndoOutcome,
} from './alias.ts';
import { resolveOptions, type Clock, type ResolveOptions } from './context.ts';
import type { IdentityKind, IdentityOutcome } from './identify.ts';
import type { ModifyOutcome } from './modify.ts';
import { programFor, type OutcomeOf, type ProgramKind, type ProgramRequest } from './program-for.ts';
import type { Actor } from './records.ts';
import type { SearchOutcome } from './search.ts';
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
    return resolveOptions({
      config,
      random: this.random,
      now: this.clock.now(),
      ...call,
      actor: call.actor ?? SYSTEM,
      lastSeenResolutionMs: this.settings.lastSeenResolutionMs,
    });
  }

  /** Runs the program of one request kind (SPEC SS-1) in one store transaction. */
  private run<K extends ProgramKind>(
    kind: K,
    config: ScopeConfig,
    request: ProgramRequest,
    call: CallOptions,
  ): Promise<OutcomeOf[K]> {
    const options = this.options(config, call);
    return runInTransaction(this.target, () => programFor(kind, request, options));
  }

  identity(
    kind: IdentityKind,
    config: ScopeConfig,
    body: unknown,
    call: CallOptions = {},
  ): Promise<IdentityOutcome> {
    return this.run(kind, config, { body }, call);
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
    return this.run('search', config, { body }, {});
  }

  modify(config: ScopeConfig, mpid: unknown, body: unknown, call: CallOptions = {}): Promise<ModifyOutcome> {
    return this.run('modify', config, { body, target: mpid }, call);
  }

  alias(config: ScopeConfig, body: unknown, call: CallOptions = {}): Promise<AliasOutcome> {
    return this.run('alias', config, { body }, call);
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
