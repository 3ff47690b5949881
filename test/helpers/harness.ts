/**
 * A resolver bound to one store, one config and a deterministic clock and random source, with
 * small helpers that turn outcomes into values or fail the test with the error.
 */
import { expect } from 'vitest';
import type { IdentityType } from '../../shared/identity/identity-types.ts';
import {
  ScopeConfigSchema,
  type ScopeConfig,
  type ScopeConfigInput,
  type Strategy,
} from '../../shared/identity/scope-config.ts';
import type { IdentityMap } from '../../shared/protocol/idsync.ts';
import type { IdentitySuccess } from '../../shared/resolver/identify.ts';
import type { ResolutionFailure } from '../../shared/resolver/outcome.ts';
import type { IdentitySet, ProfileRecord } from '../../shared/resolver/records.ts';
import { Resolver } from '../../shared/resolver/resolver.ts';
import {
  canonicalDump,
  type IdentityStore,
  type InspectableStore,
  type StoreDump,
} from '../../shared/resolver/store-port.ts';
import type { Result } from '../../shared/util/result.ts';
import { seededRandom } from '../../shared/util/random.ts';
import { ManualClock } from './clock.ts';

export type TestStore = IdentityStore & InspectableStore;

/** The §7 default: priority Customer ID > Email > IDFV > Roku ID; login = unique = {customerid, email}. */
export function scenarioConfig(strategy: Strategy, overrides: Partial<ScopeConfigInput> = {}): ScopeConfig {
  const fixed = strategy === 'default';
  const bestMatch = strategy === 'best_match';
  const ids: IdentityType[] = bestMatch ? [] : fixed ? ['customerid'] : ['customerid', 'email'];
  return ScopeConfigSchema.parse({
    scopeId: 'ws1',
    strategy,
    identityPriority: ['customerid', 'email', 'ios_idfv', 'roku_aid', 'device_application_stamp'],
    loginIdentities: ids,
    uniqueIdentities: ids,
    ...overrides,
  });
}

export interface IdentityCallOptions {
  readonly previous?: string;
  readonly requestId?: string;
  readonly environment?: 'production' | 'development';
  readonly readOnly?: boolean;
}

export function identityBody(
  identities: IdentityMap | Record<string, unknown>,
  options: IdentityCallOptions = {},
) {
  return {
    environment: options.environment ?? 'production',
    known_identities: identities,
    ...(options.previous === undefined ? {} : { previous_mpid: options.previous }),
    ...(options.requestId === undefined ? {} : { request_id: options.requestId }),
  };
}

export function expectOk<T>(result: Result<T, ResolutionFailure>): T {
  if (!result.ok)
    expect.fail(`expected success, got ${result.error.error.code}: ${result.error.error.message}`);
  return result.value;
}

export function expectFailure<T>(result: Result<T, ResolutionFailure>): ResolutionFailure {
  if (result.ok) expect.fail(`expected a failure, got success ${JSON.stringify(result.value).slice(0, 300)}`);
  return result.error;
}

export class Harness {
  readonly clock = new ManualClock();
  readonly resolver: Resolver;

  constructor(
    readonly store: TestStore,
    public config: ScopeConfig,
    seed = 1,
  ) {
    this.resolver = new Resolver(store, this.clock, seededRandom(seed));
  }

  /** Creates records directly in the store, with the MPIDs the docs use. */
  async seed(
    records: {
      mpid: string;
      identities: IdentitySet;
      environment?: 'production' | 'development';
      at?: number;
    }[],
  ) {
    const uniqueTypes = this.config.uniqueIdentities;
    await this.store.transaction(async (tx) => {
      for (const r of records) {
        const at = r.at ?? this.clock.now();
        const profile: ProfileRecord = {
          mpid: r.mpid,
          scopeId: this.config.scopeId,
          environment: r.environment ?? 'production',
          identities: r.identities,
          createdAt: at,
          firstSeenAt: at,
          lastSeenAt: at,
          orphanedAt: null,
        };
        await tx.commit({
          changes: [{ op: 'createProfile', profile, uniqueTypes }],
          history: [],
          request: null,
        });
      }
    });
  }

  async identify(identities: IdentityMap, options: IdentityCallOptions = {}): Promise<IdentitySuccess> {
    return expectOk(
      await this.resolver.identify(this.config, identityBody(identities, options), this.call(options)),
    );
  }

  async login(identities: IdentityMap, options: IdentityCallOptions = {}): Promise<IdentitySuccess> {
    return expectOk(
      await this.resolver.login(this.config, identityBody(identities, options), this.call(options)),
    );
  }

  async logout(identities: IdentityMap, options: IdentityCallOptions = {}): Promise<IdentitySuccess> {
    return expectOk(
      await this.resolver.logout(this.config, identityBody(identities, options), this.call(options)),
    );
  }

  async modify(
    mpid: string,
    changes: { type: string; old: string | null; new: string | null }[],
    requestId?: string,
  ) {
    return this.resolver.modify(this.config, mpid, {
      environment: 'production',
      ...(requestId === undefined ? {} : { request_id: requestId }),
      identity_changes: changes.map((c) => ({ identity_type: c.type, old_value: c.old, new_value: c.new })),
    });
  }

  async search(identities: IdentityMap) {
    return this.resolver.search(this.config, identityBody(identities));
  }

  private call(options: IdentityCallOptions) {
    return options.readOnly === undefined ? {} : { readOnly: options.readOnly };
  }

  async dump(): Promise<StoreDump> {
    return canonicalDump(await this.store.dump());
  }

  async profile(mpid: string): Promise<ProfileRecord> {
    const found = (await this.store.dump()).profiles.find((p) => p.mpid === mpid);
    if (found === undefined) expect.fail(`no profile ${mpid}`);
    return found;
  }

  /** The profile's identities with sorted values, for readable equality checks. */
  async identitiesOf(mpid: string): Promise<Record<string, string[]>> {
    const profile = await this.profile(mpid);
    const out: Record<string, string[]> = {};
    for (const [type, values] of Object.entries(profile.identities)) {
      if (values !== undefined && values.length > 0) out[type] = [...values].sort();
    }
    return out;
  }

  async profileCount(): Promise<number> {
    return (await this.store.dump()).profiles.length;
  }
}
