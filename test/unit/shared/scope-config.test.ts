import { describe, expect, it } from 'vitest';
import { defaultScopeConfig, ScopeConfigSchema, STRATEGIES } from '../../../shared/identity/scope-config.ts';
import { parseWith } from '../../../shared/protocol/parse.ts';

const base = {
  scopeId: 'ws1',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'ios_idfv'],
  loginIdentities: ['customerid'],
  uniqueIdentities: ['customerid'],
};

function issue(input: unknown): string {
  const result = parseWith(ScopeConfigSchema, input, 'INVALID_CONFIG');
  if (result.ok) throw new Error('expected the config to be refused');
  expect(result.error.code).toBe('INVALID_CONFIG');
  return result.error.message;
}

describe('scope configuration', () => {
  it('[CF-1] fills the documented defaults', () => {
    const config = ScopeConfigSchema.parse(base);
    expect(config).toMatchObject({
      immutableIdentities: [],
      aliasing: { enabled: true, maxWindowDays: 90, processingDelayMs: 0, autoAliasOnLinkLogin: false },
      identityCacheMaxAgeSec: 86400,
      conversionLogout: 'always_new',
      bestMatchLoginLogout: 'treat_as_identify',
      searchRequiresImmutableMatch: false,
      normalisation: { email: ['trim', 'lowercase'] },
    });
    expect(config.blockedValues.exact).toContain('null');
  });

  it('[CF-1] every strategy has a valid preset', () => {
    for (const strategy of STRATEGIES) expect(defaultScopeConfig('ws1', strategy).strategy).toBe(strategy);
  });

  it('[CF-1] refuses unknown types, strategies and out-of-range knobs with the field path', () => {
    expect(issue({ ...base, identityPriority: ['customerid', 'fax'] })).toMatch(/^identityPriority\[1\]/);
    expect(issue({ ...base, strategy: 'merge_everything' })).toMatch(/^strategy/);
    expect(issue({ ...base, aliasing: { maxWindowDays: 0 } })).toMatch(/^aliasing\.maxWindowDays/);
    expect(issue({ ...base, identityPriority: [] })).toMatch(/^identityPriority/);
    expect(issue({ ...base, scopeId: 'Bad Scope' })).toMatch(/^scopeId/);
    expect(issue('not an object')).toMatch(/expected object/);
  });

  it('[CF-2] login, unique and immutable types must be in the priority', () => {
    expect(issue({ ...base, loginIdentities: ['customerid', 'email', 'other'] })).toContain(
      'must also be in identityPriority',
    );
  });

  it('[CF-3] device identities cannot be login or unique identities', () => {
    expect(issue({ ...base, uniqueIdentities: ['customerid', 'ios_idfv'] })).toContain('device identity');
  });

  it('[CF-4] immutable identities must be login and unique identities', () => {
    expect(issue({ ...base, immutableIdentities: ['email'] })).toContain(
      'must also be a login identity and a unique identity',
    );
  });

  it('[CF-5] the default strategy fixes login and unique to customerid', () => {
    expect(issue({ ...base, strategy: 'default', loginIdentities: ['customerid', 'email'] })).toContain(
      'default strategy',
    );
  });

  it('[CF-6] best match has no login, unique or immutable identities', () => {
    expect(issue({ ...base, strategy: 'best_match' })).toContain('best match');
  });

  it('[CF-7] no list repeats a type', () => {
    expect(issue({ ...base, identityPriority: ['customerid', 'email', 'email'] })).toContain('listed twice');
  });
});
