/**
 * The request-kind dispatcher and the options builder (SPEC SS-1..SS-3): every kind runs exactly
 * the program of its own, an unknown kind is a failure value, and options leave out what is unset.
 */
import { describe, expect, it } from 'vitest';
import { MemoryIdentityStore } from '../../../shared/memory-store/memory-store.ts';
import { aliasProgram } from '../../../shared/resolver/alias.ts';
import { resolveOptions, type ResolveOptions } from '../../../shared/resolver/context.ts';
import { identityProgram } from '../../../shared/resolver/identify.ts';
import { modifyProgram } from '../../../shared/resolver/modify.ts';
import {
  PROGRAM_KINDS,
  programFor,
  responseOf,
  type ProgramKind,
  type ProgramRequest,
} from '../../../shared/resolver/program-for.ts';
import { searchProgram } from '../../../shared/resolver/search.ts';
import { runInTransactionSync, type Program } from '../../../shared/resolver/store-port.ts';
import { seededRandom } from '../../../shared/util/random.ts';
import { scenarioConfig } from '../../helpers/harness.ts';

const config = scenarioConfig('profile_link');
const NOW = 1_800_000_000_000;

function options(seed = 7): ResolveOptions {
  return resolveOptions({
    config,
    random: seededRandom(seed),
    now: NOW,
    actor: { kind: 'system', id: 'test' },
  });
}

/** A store holding an anonymous profile (device d1) and a known one (customer c1). */
function seeded(): { store: MemoryIdentityStore; anonymous: string; known: string } {
  const store = new MemoryIdentityStore();
  const identify = (known_identities: Record<string, string>, seed: number) => {
    const body = { environment: 'production', known_identities };
    const outcome = runInTransactionSync(store, () => identityProgram('identify', body, options(seed)));
    if (!outcome.ok) throw new Error(outcome.error.error.message);
    return outcome.value.response.mpid;
  };
  return { store, anonymous: identify({ ios_idfv: 'd1' }, 1), known: identify({ customerid: 'c1' }, 2) };
}

/** Each kind's request, and the program written for that kind, to compare the dispatch with. */
const CASES: {
  readonly [K in ProgramKind]: (mpids: { anonymous: string; known: string }) => {
    readonly request: ProgramRequest;
    readonly direct: (options: ResolveOptions) => Program<unknown>;
    readonly answered: (response: unknown) => void;
  };
} = {
  identify: () => {
    const body = { environment: 'production', known_identities: { ios_idfv: 'd2' } };
    return {
      request: { body },
      direct: (o) => identityProgram('identify', body, o),
      answered: (response) => expect(response).toMatchObject({ is_ephemeral: true }),
    };
  },
  login: ({ anonymous }) => {
    const body = {
      environment: 'production',
      previous_mpid: anonymous,
      known_identities: { customerid: 'c2', ios_idfv: 'd1' },
    };
    return {
      request: { body },
      direct: (o) => identityProgram('login', body, o),
      answered: (response) => expect(response).toMatchObject({ is_logged_in: true }),
    };
  },
  logout: ({ known }) => {
    const body = { environment: 'production', previous_mpid: known, known_identities: { ios_idfv: 'd1' } };
    return {
      request: { body },
      direct: (o) => identityProgram('logout', body, o),
      answered: (response) => expect(response).toMatchObject({ is_logged_in: false }),
    };
  },
  modify: ({ known }) => {
    const body = {
      environment: 'production',
      identity_changes: [{ identity_type: 'email', old_value: null, new_value: 'c1@example.com' }],
    };
    return {
      request: { body, target: known },
      direct: (o) => modifyProgram(known, body, o),
      answered: (response) => expect(response).toMatchObject({ mpid: known }),
    };
  },
  alias: ({ anonymous, known }) => {
    const body = { environment: 'production', data: { source_mpid: anonymous, destination_mpid: known } };
    return {
      request: { body },
      direct: (o) => aliasProgram(body, o),
      answered: (response) => expect(response).toBeNull(),
    };
  },
  search: ({ known }) => {
    const body = { environment: 'production', known_identities: { customerid: 'c1' } };
    return {
      request: { body },
      direct: (o) => searchProgram(body, o),
      answered: (response) => expect(response).toMatchObject({ mpid: known }),
    };
  },
};

describe('programFor', () => {
  for (const kind of PROGRAM_KINDS) {
    it(`[SS-1] ${kind} runs the ${kind} program: same outcome, same store`, () => {
      const dispatched = seeded();
      const direct = seeded();
      const { request, direct: program, answered } = CASES[kind](dispatched);
      const viaDispatch = runInTransactionSync(dispatched.store, () => programFor(kind, request, options()));
      const viaProgram = runInTransactionSync(direct.store, () => program(options()));
      expect(viaDispatch.ok).toBe(true);
      expect(viaDispatch).toEqual(viaProgram);
      expect(dispatched.store.dumpSync()).toEqual(direct.store.dumpSync());
      if (viaDispatch.ok) answered(responseOf(viaDispatch.value));
    });
  }

  it('[SS-1] a kind known when compiling gives its own outcome type', () => {
    const { store } = seeded();
    const body = { environment: 'production', known_identities: { ios_idfv: 'd1' } };
    const outcome = runInTransactionSync(store, () => programFor('identify', { body }, options()));
    // `created` exists only on identity outcomes: this line compiles only if the type is kept.
    expect(outcome.ok && outcome.value.created).toBe(false);
  });

  for (const kind of ['merge', 'IDENTIFY', '', 42, null, undefined, { kind: 'identify' }]) {
    it(`[SS-2] the unknown kind ${JSON.stringify(kind) ?? 'undefined'} is a VALIDATION_ERROR value and writes nothing`, () => {
      const { store } = seeded();
      const before = store.dumpSync();
      const body = { environment: 'production', known_identities: { ios_idfv: 'd1' } };
      let outcome: unknown;
      expect(() => {
        outcome = runInTransactionSync(store, () => programFor(kind, { body }, options()));
      }).not.toThrow();
      expect(outcome).toMatchObject({
        ok: false,
        error: { error: { code: 'VALIDATION_ERROR' }, trace: null },
      });
      expect(store.dumpSync()).toEqual(before);
    });
  }
});

describe('resolveOptions', () => {
  const base = { config, random: seededRandom(1), now: NOW, actor: { kind: 'app', id: 'k' } } as const;

  it('[SS-3] unset, false and null extras are left out', () => {
    for (const extras of [{}, { readOnly: false }, { preferredMpid: null }, { readOnly: undefined }]) {
      const built = resolveOptions({ ...base, ...extras });
      expect(Object.keys(built).sort()).toEqual(['actor', 'config', 'now', 'random']);
    }
  });

  it('[SS-3] a dry run and a preferred MPID are kept', () => {
    expect(resolveOptions({ ...base, readOnly: true, preferredMpid: '123' })).toMatchObject({
      readOnly: true,
      preferredMpid: '123',
    });
  });
});
