import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalIdentityType,
  DEVICE_IDENTITY_TYPES,
  IDENTITY_TYPES,
  USER_IDENTITY_TYPES,
} from '../../../shared/identity/identity-types.ts';
import { isMpid, parseMpid, randomMpid } from '../../../shared/identity/mpid.ts';
import { defaultNormalisation, normaliseIdentityValue } from '../../../shared/identity/normalise.ts';
import { BlockedValuesSchema, compileBlockedValues } from '../../../shared/identity/blocked-values.ts';
import { seededRandom } from '../../../shared/util/random.ts';

describe('identity catalogue', () => {
  it('[ID-1] has the 22 user and 12 device identity types of spec §1.6', () => {
    expect(USER_IDENTITY_TYPES).toHaveLength(22);
    expect(DEVICE_IDENTITY_TYPES).toHaveLength(12);
    expect(new Set(IDENTITY_TYPES).size).toBe(34);
  });

  it('[ID-2] maps alternate spellings to canonical keys and rejects everything else', () => {
    const cases: [string, string | null][] = [
      ['customer_id', 'customerid'],
      ['other_id_2', 'other2'],
      ['other_id_10', 'other10'],
      ['email_sha256', 'other'],
      ['mobile_sha256', 'other2'],
      ['facebook_custom_audience_id', 'facebookcustomaudienceid'],
      ['ios_advertising_id', 'ios_idfa'],
      ['android_id', 'android_uuid'],
      ['das', 'device_application_stamp'],
      ['email', 'email'],
      ['Email', null],
      ['__proto__', null],
      ['constructor', null],
      ['toString', null],
      ['', null],
    ];
    for (const [key, expected] of cases) expect(canonicalIdentityType(key), key).toBe(expected);
  });
});

describe('MPIDs', () => {
  it('[MP-1] accepts canonical non-zero signed 64-bit decimals only', () => {
    for (const good of ['1', '-1', '9223372036854775807', '-9223372036854775808', '-4997115836606348647']) {
      expect(isMpid(good), good).toBe(true);
    }
    for (const bad of [
      '0',
      '-0',
      '01',
      '+1',
      '9223372036854775808',
      '-9223372036854775809',
      '1.5',
      '1e3',
      ' 1',
      '',
      'abc',
      '99999999999999999999',
    ]) {
      expect(isMpid(bad), bad).toBe(false);
    }
    expect(parseMpid(1234)).toBe('1234');
    expect(parseMpid(9080350317581165000)).toBeNull();
    expect(parseMpid(0)).toBeNull();
    expect(parseMpid(true)).toBeNull();
  });

  it('[MP-2] random MPIDs are valid, non-zero, signed, and spread over the whole range', () => {
    const random = seededRandom(7);
    const drawn = Array.from({ length: 2000 }, () => randomMpid(random));
    for (const mpid of drawn) expect(isMpid(mpid)).toBe(true);
    expect(new Set(drawn).size).toBe(drawn.length);
    const negatives = drawn.filter((m) => m.startsWith('-')).length;
    expect(negatives).toBeGreaterThan(800);
    expect(negatives).toBeLessThan(1200);
    expect(drawn.filter((m) => m.replace('-', '').length >= 18).length).toBeGreaterThan(1800);
  });

  it('[MP-1] property: every int64 except 0 round-trips through its decimal form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        expect(isMpid(value.toString())).toBe(value !== 0n);
      }),
      { seed: 20261128, numRuns: 2000 },
    );
  });
});

describe('normalisation and blocked values', () => {
  const rules = defaultNormalisation();

  it('[NV-1] emails are trimmed and lower-cased; phones lose punctuation but keep a leading +', () => {
    expect(normaliseIdentityValue(rules, 'email', '  Ed.Hyde@Example.COM ')).toBe('ed.hyde@example.com');
    expect(normaliseIdentityValue(rules, 'mobile_number', ' +1 (555) 010-99.88 ')).toBe('+15550109988');
    expect(normaliseIdentityValue(rules, 'phone_number_3', '555 0100')).toBe('5550100');
    expect(normaliseIdentityValue(rules, 'customerid', ' ABC ')).toBe(' ABC ');
  });

  it('[NV-2] blocked values match exactly after trimming, case-insensitively, and by pattern', () => {
    const matcher = compileBlockedValues(BlockedValuesSchema.parse({ patterns: ['^test-\\d+$'] }));
    for (const blocked of ['null', ' NULL ', 'Guest', '0', '-1', '[object Object]', 'NaN', 'test-42']) {
      expect(matcher.isBlocked(blocked), blocked).toBe(true);
    }
    for (const fine of ['nullable', '00', 'guest1', 'test-x', 'a@x.com'])
      expect(matcher.isBlocked(fine), fine).toBe(false);
  });

  it('[NV-2] invalid blocked patterns are refused by the schema', () => {
    const parsed = BlockedValuesSchema.safeParse({ patterns: ['(unclosed'] });
    expect(parsed.success).toBe(false);
  });
});
