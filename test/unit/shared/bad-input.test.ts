/**
 * Bad input at the resolver boundary (SPEC ER-1, ER-3): every malformed request gets a typed
 * catalogue error with a readable message and leaves the store exactly as it was.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ERROR_CATALOGUE, errorBody, ErrorBodySchema } from '../../../shared/protocol/errors.ts';
import { MemoryIdentityStore } from '../../../shared/memory-store/memory-store.ts';
import type { ResolutionFailure } from '../../../shared/resolver/outcome.ts';
import type { Result } from '../../../shared/util/result.ts';
import { Harness, scenarioConfig } from '../../helpers/harness.ts';

let h: Harness;

beforeEach(async () => {
  h = new Harness(
    new MemoryIdentityStore(),
    scenarioConfig('profile_link', {
      loginIdentities: ['customerid', 'email'],
      uniqueIdentities: ['customerid', 'email'],
      immutableIdentities: ['customerid'],
    }),
  );
  await h.seed([
    { mpid: '11', identities: { customerid: ['c1'], email: ['a@x.com'] } },
    { mpid: '22', identities: { ios_idfv: ['d1'] } },
  ]);
});

const valid = { environment: 'production', known_identities: { ios_idfv: 'd1' } };

const identityCases: [string, unknown, string][] = [
  ['body is not an object', 'identify me', 'VALIDATION_ERROR'],
  ['body is null', null, 'VALIDATION_ERROR'],
  ['body is an array', [valid], 'VALIDATION_ERROR'],
  ['environment missing', { known_identities: { ios_idfv: 'd1' } }, 'VALIDATION_ERROR'],
  ['environment unknown', { ...valid, environment: 'staging' }, 'VALIDATION_ERROR'],
  ['known_identities missing', { environment: 'production' }, 'VALIDATION_ERROR'],
  ['known_identities an array', { ...valid, known_identities: ['d1'] }, 'VALIDATION_ERROR'],
  ['known_identities empty', { ...valid, known_identities: {} }, 'VALIDATION_ERROR'],
  ['unknown identity type', { ...valid, known_identities: { fax: '1' } }, 'UNKNOWN_IDENTITY_TYPE'],
  [
    '__proto__ identity key',
    { ...valid, known_identities: JSON.parse('{"__proto__": {"x": 1}}') },
    'UNKNOWN_IDENTITY_TYPE',
  ],
  ['constructor identity key', { ...valid, known_identities: { constructor: 'x' } }, 'UNKNOWN_IDENTITY_TYPE'],
  ['number identity value', { ...valid, known_identities: { customerid: 12 } }, 'INVALID_IDENTITY_VALUE'],
  [
    'object identity value',
    { ...valid, known_identities: { customerid: { $ne: 1 } } },
    'INVALID_IDENTITY_VALUE',
  ],
  ['boolean identity value', { ...valid, known_identities: { customerid: true } }, 'INVALID_IDENTITY_VALUE'],
  [
    'oversize identity value',
    { ...valid, known_identities: { email: 'x'.repeat(5000) } },
    'INVALID_IDENTITY_VALUE',
  ],
  [
    'two spellings, two values',
    { ...valid, known_identities: { das: 'a', device_application_stamp: 'b' } },
    'DUPLICATE_IDENTITY_TYPE',
  ],
  [
    'all values blocked',
    { ...valid, known_identities: { email: 'NULL', customerid: 'anonymous' } },
    'NO_USABLE_IDENTITIES',
  ],
  ['invalid previous_mpid', { ...valid, previous_mpid: '12abc' }, 'INVALID_MPID'],
  ['previous_mpid out of range', { ...valid, previous_mpid: '9223372036854775808' }, 'INVALID_MPID'],
  ['previous_mpid unsafe number', { ...valid, previous_mpid: 2 ** 63 }, 'INVALID_MPID'],
  ['request_id with spaces', { ...valid, request_id: 'a b' }, 'VALIDATION_ERROR'],
  ['oversize request_id', { ...valid, request_id: 'r'.repeat(129) }, 'VALIDATION_ERROR'],
  ['request_id a number', { ...valid, request_id: 5 }, 'VALIDATION_ERROR'],
  ['oversize context', { ...valid, context: 'c'.repeat(5000) }, 'VALIDATION_ERROR'],
  ['negative timestamp', { ...valid, request_timestamp_ms: -1 }, 'VALIDATION_ERROR'],
  [
    'SQL in an identity key',
    { ...valid, known_identities: { "email'; DROP TABLE profiles;--": 'x' } },
    'UNKNOWN_IDENTITY_TYPE',
  ],
];

async function expectRefused(outcome: Result<unknown, ResolutionFailure>, code: string, before: unknown) {
  if (outcome.ok) expect.fail(`expected ${code}, got a success`);
  const { error } = outcome.error;
  expect(error.code).toBe(code);
  expect(error.message.length).toBeGreaterThan(5);
  expect(ErrorBodySchema.parse(errorBody(error, null)).status_code).toBe(ERROR_CATALOGUE[error.code].status);
  expect(await h.dump()).toEqual(before);
}

describe('bad identity requests', () => {
  for (const kind of ['identify', 'login', 'logout', 'search'] as const) {
    for (const [name, body, code] of identityCases) {
      it(`[ER-3][ID-1][ID-3][MP-1] ${kind}: ${name} → ${code}, store unchanged`, async () => {
        const before = await h.dump();
        const outcome =
          kind === 'search'
            ? await h.resolver.search(h.config, body)
            : await h.resolver[kind](h.config, body);
        await expectRefused(outcome, code, before);
      });
    }
  }
});

describe('bad modify requests', () => {
  const change = (c: Record<string, unknown>) => ({ environment: 'production', identity_changes: [c] });
  const cases: [string, unknown, unknown, string][] = [
    [
      'invalid MPID',
      'abc',
      change({ identity_type: 'email', old_value: null, new_value: 'b@x.com' }),
      'INVALID_MPID',
    ],
    [
      'MPID zero',
      '0',
      change({ identity_type: 'email', old_value: null, new_value: 'b@x.com' }),
      'INVALID_MPID',
    ],
    [
      'MPID not a string',
      11,
      change({ identity_type: 'email', old_value: null, new_value: 'b@x.com' }),
      'INVALID_MPID',
    ],
    [
      'unknown MPID',
      '33',
      change({ identity_type: 'email', old_value: null, new_value: 'b@x.com' }),
      'LOOKUP_ERROR',
    ],
    ['identity_changes missing', '11', { environment: 'production' }, 'VALIDATION_ERROR'],
    [
      'identity_changes not an array',
      '11',
      { environment: 'production', identity_changes: {} },
      'VALIDATION_ERROR',
    ],
    [
      'change without old_value key',
      '11',
      change({ identity_type: 'email', new_value: 'b@x.com' }),
      'VALIDATION_ERROR',
    ],
    [
      'unknown identity type',
      '11',
      change({ identity_type: 'fax', old_value: null, new_value: '1' }),
      'UNKNOWN_IDENTITY_TYPE',
    ],
    [
      'number value',
      '11',
      change({ identity_type: 'email', old_value: null, new_value: 5 }),
      'VALIDATION_ERROR',
    ],
    [
      'oversize value',
      '11',
      change({ identity_type: 'email', old_value: null, new_value: 'x'.repeat(2000) }),
      'INVALID_IDENTITY_VALUE',
    ],
    [
      'immutable change',
      '11',
      change({ identity_type: 'customerid', old_value: 'c1', new_value: 'c9' }),
      'IMMUTABLE_IDENTITY',
    ],
    [
      'immutable removal',
      '11',
      change({ identity_type: 'customerid', old_value: 'c1', new_value: null }),
      'IMMUTABLE_IDENTITY',
    ],
    [
      'stamp change',
      '22',
      change({ identity_type: 'das', old_value: null, new_value: 'x' }),
      'IDENTITY_NOT_MODIFIABLE',
    ],
    [
      'blocked value',
      '22',
      change({ identity_type: 'email', old_value: null, new_value: 'undefined' }),
      'BLOCKED_IDENTITY_VALUE',
    ],
    [
      'too many changes',
      '22',
      {
        environment: 'production',
        identity_changes: Array(65).fill({ identity_type: 'roku_aid', old_value: null, new_value: 'r' }),
      },
      'VALIDATION_ERROR',
    ],
  ];
  for (const [name, mpid, body, code] of cases) {
    it(`[ER-3][MD-1][MD-3][MD-7] modify: ${name} → ${code}, store unchanged`, async () => {
      const before = await h.dump();
      await expectRefused(await h.resolver.modify(h.config, mpid, body), code, before);
    });
  }
});

describe('bad alias requests', () => {
  const body = (data: Record<string, unknown>) => ({ environment: 'production', data });
  const cases: [string, unknown, string][] = [
    ['data missing', { environment: 'production' }, 'VALIDATION_ERROR'],
    ['source equals destination', body({ source_mpid: '22', destination_mpid: '22' }), 'ALIAS_ERROR'],
    [
      'time range reversed',
      body({ source_mpid: '22', destination_mpid: '11', start_unixtime_ms: 5000, end_unixtime_ms: 10 }),
      'ALIAS_ERROR',
    ],
    ['invalid source', body({ source_mpid: '-0', destination_mpid: '11' }), 'INVALID_MPID'],
    ['unknown destination', body({ source_mpid: '22', destination_mpid: '77' }), 'ALIAS_ERROR'],
    [
      'wrong request_type',
      { ...body({ source_mpid: '22', destination_mpid: '11' }), request_type: 'merge' },
      'VALIDATION_ERROR',
    ],
    [
      'bad scope',
      body({ source_mpid: '22', destination_mpid: '11', scope: 'everything' }),
      'VALIDATION_ERROR',
    ],
  ];
  for (const [name, input, code] of cases) {
    it(`[ER-3][AL-2] alias: ${name} → ${code}, store unchanged`, async () => {
      const before = await h.dump();
      await expectRefused(await h.resolver.alias(h.config, input), code, before);
    });
  }
});

describe('arbitrary junk', () => {
  it('[ER-1][ER-3] any value as a body gets an answer or a catalogue error, and errors change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withNullPrototype: true, withObjectString: true }), async (junk) => {
        for (const call of [
          () => h.resolver.identify(h.config, junk),
          () => h.resolver.login(h.config, { environment: 'production', known_identities: junk }),
          () => h.resolver.modify(h.config, '22', { environment: 'production', identity_changes: junk }),
          () => h.resolver.alias(h.config, { environment: 'production', data: junk }),
        ]) {
          const before = await h.dump();
          const outcome = await call();
          if (!outcome.ok) {
            expect(Object.keys(ERROR_CATALOGUE)).toContain(outcome.error.error.code);
            expect(await h.dump()).toEqual(before);
          }
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
  });
});
