/**
 * The identify-family body parse (SPEC HM-5): `parseIdentityRequestBody` takes a direct check for
 * well-formed bodies and the zod schema for the rest; for every input its answer, success or
 * error, must deep-equal the schema's. Bodies are drawn near the edges of every rule (limits,
 * alternate key spellings, absent/null/"0" values, control characters, extra keys, odd types), so
 * both the fast path and the schema are taken often.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IDENTITY_TYPES, MAX_IDENTITY_VALUE_LENGTH } from '../../shared/identity/identity-types.ts';
import {
  IdentityRequestBodySchema,
  MAX_CONTEXT_LENGTH,
  parseIdentityRequestBody,
} from '../../shared/protocol/idsync.ts';
import { parseWith } from '../../shared/protocol/parse.ts';

const ODD = fc.constantFrom<unknown>(undefined, null, 0, -1, 1.5, true, [], {}, '', ' ', NaN, Infinity);

const text = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ minLength: max - 1, maxLength: max + 1 }),
    fc.constantFrom('a\u0000b', 'tab\there', '\ud800', 'é', 'x y'),
  );

const identityKey = fc.oneof(
  fc.constantFrom(...IDENTITY_TYPES),
  fc.constantFrom('customer_id', 'email_sha256', 'other_id_2', 'mobile_sha256', 'nope', '__proto__'),
);

const identityValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('c1', 'c2', 'a@b.example', '') },
  { weight: 1, arbitrary: text(MAX_IDENTITY_VALUE_LENGTH) },
  { weight: 1, arbitrary: ODD },
);

const knownIdentities = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(identityKey, identityValue, { maxKeys: 4 }) },
  { weight: 1, arbitrary: ODD },
  {
    weight: 1,
    arbitrary: fc.array(fc.tuple(identityKey, identityValue), { maxLength: 3 }).map((pairs) => {
      const out: Record<string, unknown> = {};
      // defineProperty: a "__proto__" key becomes an own field, as JSON.parse makes it.
      for (const [key, value] of pairs)
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      return out;
    }),
  },
);

/** Mostly absent or drawn from `arbitrary`, sometimes an odd value: one bad field at a time is common. */
const field = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 6, arbitrary }, { weight: 1, arbitrary: ODD }), { nil: undefined });

const body = fc
  .record(
    {
      environment: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('production', 'development') },
        { weight: 1, arbitrary: fc.oneof(fc.constant('staging'), ODD) },
      ),
      request_id: field(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.constantFrom('r-1', 'a'.repeat(128), 'a'.repeat(129), 'has space', 'tab\t', 'é'),
        ),
      ),
      request_timestamp_ms: field(
        fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, Number.MAX_SAFE_INTEGER + 1, 2 ** 60)),
      ),
      context: field(text(MAX_CONTEXT_LENGTH)),
      client_sdk: field(
        fc.record(
          { platform: field(text(32)), sdk_vendor: field(text(64)), sdk_version: field(text(64)) },
          { requiredKeys: [] },
        ),
      ),
      previous_mpid: field(
        fc.oneof(
          fc.constantFrom('0', 0, '', '123', '-9223372036854775808', '9223372036854775808', '01', 'x'),
          fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
          fc.integer(),
        ),
      ),
      known_identities: knownIdentities,
      extra: field(fc.anything()),
    },
    { requiredKeys: [] },
  )
  .map((b) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(b))
      if (value !== undefined || key === 'context') out[key] = value;
    return out;
  });

describe('identify-family body parse (HM-5)', () => {
  it('HM-5: gives exactly the schema result and error for any body', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 9, arbitrary: body }, { weight: 1, arbitrary: fc.anything() }), (b) => {
        expect(parseIdentityRequestBody(b)).toEqual(parseWith(IdentityRequestBodySchema, b));
      }),
      { numRuns: 5000 },
    );
  });

  it('HM-5: a well-formed body parses to the schema output', () => {
    const b = {
      environment: 'production',
      request_id: 'r-1',
      client_sdk: { platform: 'web' },
      previous_mpid: '0',
      known_identities: { customer_id: 'c1', device_application_stamp: 'das1', email: null },
    };
    const parsed = parseIdentityRequestBody(b);
    expect(parsed).toEqual(parseWith(IdentityRequestBodySchema, b));
    expect(parsed).toEqual({
      ok: true,
      value: {
        environment: 'production',
        requestId: 'r-1',
        previousMpid: null,
        knownIdentities: { customerid: 'c1', device_application_stamp: 'das1' },
      },
    });
  });
});
