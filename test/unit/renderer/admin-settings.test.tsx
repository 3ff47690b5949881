// @vitest-environment happy-dom
/**
 * The workspace settings editor's logic and its priority list: config rules found by the server's
 * own schema and said in words by field, a readable diff, and reordering by keyboard alone
 * (SPEC AC-21, AC-22, AC-25).
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ScopeConfigSchema, type ScopeConfig } from '../../../shared/identity/scope-config.ts';
import {
  configChanges,
  configProblems,
  hasProblems,
  moveItem,
  withFlag,
} from '../../../renderer/src/features/admin/settings/config-editor.ts';
import { PriorityList } from '../../../renderer/src/features/admin/settings/PriorityList.tsx';

const CONVERSION: ScopeConfig = ScopeConfigSchema.parse({
  scopeId: 'default',
  strategy: 'profile_conversion',
  identityPriority: ['customerid', 'email', 'ios_idfv'],
  loginIdentities: ['customerid', 'email'],
  uniqueIdentities: ['customerid', 'email'],
});

afterEach(cleanup);

describe('config problems, by field and in words', () => {
  it('[AC-21] a config the server takes has no problem', () => {
    expect(configProblems(CONVERSION)).toEqual({});
    expect(hasProblems(configProblems({ ...CONVERSION, strategy: 'profile_isolation' }))).toBe(false);
  });

  it('[AC-21] an immutable type that is not a login identity is explained next to the flags', () => {
    const draft = withFlag(CONVERSION, 'ios_idfv', 'immutableIdentities', true);
    expect(configProblems(draft)).toEqual({
      immutableIdentities: [
        'Ios idfv is immutable, so it must also be a login identity and a unique identity',
      ],
    });
  });

  it('[AC-21] the strategy presets, a device type made login, and a flag outside the priority are worded', () => {
    expect(configProblems({ ...CONVERSION, strategy: 'default' }).strategy).toEqual([
      'The default strategy fixes the login identities and the unique identities to the customer ID alone',
    ]);
    expect(configProblems({ ...CONVERSION, strategy: 'best_match' }).strategy).toEqual([
      'Best match has no login, unique or immutable identities; leave those lists empty',
    ]);
    expect(configProblems(withFlag(CONVERSION, 'ios_idfv', 'loginIdentities', true)).loginIdentities).toEqual(
      ['Ios idfv is a device identity; only user identities can be login or unique identities'],
    );
    expect(
      configProblems({ ...CONVERSION, identityPriority: ['customerid', 'ios_idfv'] }).loginIdentities,
    ).toEqual([
      'Email must also be in the identity priority: only priority types are stored on identity records',
    ]);
  });

  it('[AC-21] out-of-range numbers, bad patterns and an empty priority are refused where they are', () => {
    const problems = configProblems({
      ...CONVERSION,
      identityPriority: [],
      loginIdentities: [],
      uniqueIdentities: [],
      aliasing: { ...CONVERSION.aliasing, maxWindowDays: 0 },
      blockedValues: { ...CONVERSION.blockedValues, patterns: ['(unclosed'] },
    });
    expect(Object.keys(problems).sort()).toEqual(['aliasing', 'blockedValues', 'identityPriority']);
    expect(problems.aliasing?.[0]).toMatch(/^The alias window: /);
    expect(problems.blockedValues).toEqual(['A blocked pattern: not a valid regular expression']);
  });
});

describe('what changed, in words', () => {
  it('[AC-25] names each changed part: strategy, reorder, flags, aliasing, device sync, blocked values', () => {
    const after: ScopeConfig = {
      ...withFlag(CONVERSION, 'email', 'loginIdentities', false),
      strategy: 'profile_isolation',
      identityPriority: ['email', 'customerid', 'ios_idfv'],
      deviceSync: 'after_login',
      blockedValues: { ...CONVERSION.blockedValues, exact: [...CONVERSION.blockedValues.exact, 'test'] },
    };
    expect(configChanges(CONVERSION, after)).toEqual([
      'Strategy: Profile conversion → Profile isolation.',
      'Identity priority reordered: Email, Customer ID, ios idfv.',
      'Login identities: removed Email.',
      'Blocked values: added “test”.',
      'Device sync: whenever online → only after a login.',
    ]);
    expect(configChanges(CONVERSION, CONVERSION)).toEqual([]);
  });
});

describe('reordering the priority', () => {
  it('[AC-22] moveItem clamps and leaves the list alone when nothing moves', () => {
    expect(moveItem(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moveItem(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
    expect(moveItem(['a', 'b', 'c'], 1, 9)).toEqual(['a', 'c', 'b']);
  });

  function Harness() {
    const [config, setConfig] = useState(CONVERSION);
    return (
      <MantineProvider>
        <PriorityList config={config} onChange={setConfig} />
        <div data-testid="order">{config.identityPriority.join(',')}</div>
      </MantineProvider>
    );
  }

  it('[AC-22] by keyboard alone: arrow keys on a handle move it and keep the focus; the buttons move too', async () => {
    const user = userEvent.setup({ delay: null });
    render(<Harness />);
    const order = () => screen.getByTestId('order').textContent;
    const handle = () => screen.getByRole('button', { name: /^ios idfv, position/ });
    handle().focus();
    await user.keyboard('{ArrowUp}');
    expect(order()).toBe('customerid,ios_idfv,email');
    expect(document.activeElement).toBe(handle());
    expect(handle().getAttribute('aria-label')).toBe('ios idfv, position 2 of 3. Arrow keys move it.');
    expect(screen.getByRole('status').textContent).toBe('ios idfv moved to position 2 of 3.');
    await user.keyboard('{Home}');
    expect(order()).toBe('ios_idfv,customerid,email');
    await user.keyboard('{ArrowUp}'); // already first: nothing moves
    expect(order()).toBe('ios_idfv,customerid,email');
    await user.keyboard('{End}');
    expect(order()).toBe('customerid,email,ios_idfv');
    const list = screen.getByRole('list', { name: 'Identity priority, highest first' });
    await user.click(within(list).getByRole('button', { name: 'Move Email up' }));
    expect(order()).toBe('email,customerid,ios_idfv');
    expect(within(list).getByRole('button', { name: 'Move Email up' }).hasAttribute('disabled')).toBe(true);
  });
});
