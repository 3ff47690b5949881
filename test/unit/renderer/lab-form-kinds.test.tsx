// @vitest-environment happy-dom
/**
 * The Lab form editor for every step kind the scenario schema allows beyond identify / login /
 * logout / track / sync / offline / online (SPEC LB-16): attribute, alias, restart, server, advance,
 * modify and expect. Each is added from the form, edited in its fields, and the JSON text then holds
 * exactly the expected step; a value the schema refuses shows its problem beside that field.
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { ScenarioSchema } from '../../../shared/protocol/scenario.ts';
import { ScenarioForm } from '../../../renderer/src/features/admin/lab/ScenarioForm.tsx';
import { ADDABLE_KINDS, newStep, readDraft } from '../../../renderer/src/features/admin/lab/scenario-form.ts';
import { FULL_STEPS } from './lab-full-steps.ts';

afterEach(cleanup);
// Mantine's autosizing textarea listens for font loads; happy-dom has no `document.fonts`.
if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { value: new EventTarget() });

const BASE_FILE = {
  name: 'kinds',
  config: {
    scopeId: 'default',
    strategy: 'profile_conversion',
    identityPriority: ['customerid'],
    loginIdentities: ['customerid'],
    uniqueIdentities: ['customerid'],
  },
  devices: { tablet: {} },
  steps: [],
};

let latest = '';

function Harness({ steps }: { steps: readonly unknown[] }) {
  const [text, setText] = useState(JSON.stringify({ ...BASE_FILE, steps }, null, 2));
  const draft = readDraft(text);
  if (draft === null) throw new Error('not a draft');
  return (
    <MantineProvider>
      <ScenarioForm
        draft={draft}
        onChange={(next) => {
          latest = next;
          setText(next);
        }}
      />
    </MantineProvider>
  );
}

const file = () => JSON.parse(latest) as { steps: unknown[] };
const lastStep = () => (JSON.parse(latest) as { steps: unknown[] }).steps.at(-1);
const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

/** The text of the error Mantine links to a field (aria-describedby), empty when there is none. */
function errorBeside(label: string): string {
  return (screen.getByLabelText(label).getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' ');
}

describe('the Lab form, every step kind', () => {
  it('[LB-16] the form adds every step kind of the schema, each a step the schema knows', () => {
    expect([...ADDABLE_KINDS].sort()).toEqual(
      [
        'advance',
        'alias',
        'attribute',
        'expect',
        'modify',
        'identify',
        'login',
        'logout',
        'offline',
        'online',
        'restart',
        'server',
        'sync',
        'track',
      ].sort(),
    );
    for (const kind of ADDABLE_KINDS) {
      const parsed = ScenarioSchema.safeParse({ ...BASE_FILE, steps: [newStep(kind, 'tablet')] });
      const paths = parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
      // New steps start with their fields empty; only those fields may be reported, never the kind.
      for (const path of paths)
        expect(path, kind).toMatch(/^steps\.0\.(identities|event|key|source|destination)/);
    }
  });

  it('[LB-16] attribute: key and value edited in the form are the JSON step', () => {
    render(<Harness steps={[newStep('attribute', 'tablet')]} />);
    expect(errorBeside('Step 1 attribute')).toContain('>=1 characters');
    type('Step 1 attribute', 'tier');
    type('Step 1 value', 'gold');
    expect(lastStep()).toEqual({ device: 'tablet', do: 'attribute', key: 'tier', value: 'gold' });
    expect(errorBeside('Step 1 attribute')).toBe('');
  });

  it('[LB-16] alias: a label that is not one shows the rule beside it; valid labels are the JSON step', () => {
    render(<Harness steps={[newStep('alias', 'tablet')]} />);
    type('Step 1 source label', 'visitor');
    expect(errorBeside('Step 1 source label')).toContain('a label is $name');
    type('Step 1 source label', '@visitor');
    type('Step 1 destination label', '@customer');
    expect(lastStep()).toEqual({
      device: 'tablet',
      do: 'alias',
      source: '@visitor',
      destination: '@customer',
    });
    expect(errorBeside('Step 1 source label')).toBe('');
  });

  it('[LB-16] advance: a whole number of ms is written as a number; other text stays and is refused beside the field', () => {
    render(<Harness steps={[newStep('advance', 'tablet')]} />);
    type('Step 1 milliseconds', '5000');
    expect(lastStep()).toEqual({ do: 'advance', ms: 5000 });
    type('Step 1 milliseconds', '5 s');
    expect(lastStep()).toEqual({ do: 'advance', ms: '5 s' });
    expect(errorBeside('Step 1 milliseconds')).toContain('expected number');
  });

  it('[LB-16] server: the action is chosen from stop, start and restart', async () => {
    const user = userEvent.setup({ delay: null });
    render(<Harness steps={[newStep('server', 'tablet')]} />);
    await user.click(screen.getByRole('combobox', { name: 'Step 1 action' }));
    await user.click(await screen.findByRole('option', { name: 'stop', hidden: true }));
    expect(lastStep()).toEqual({ do: 'server', action: 'stop' });
  });

  it('[LB-16] restart: added from the form on the chosen device', async () => {
    const user = userEvent.setup({ delay: null });
    render(<Harness steps={[]} />);
    const form = screen.getByRole('group', { name: 'Scenario form' });
    await user.click(within(form).getByRole('combobox', { name: 'New step kind' }));
    await user.click(await screen.findByRole('option', { name: 'restart', hidden: true }));
    await user.click(within(form).getByRole('button', { name: 'Add step' }));
    expect(lastStep()).toEqual({ device: 'tablet', do: 'restart' });
    expect(screen.getByText('1. restart on tablet')).toBeTruthy();
  });

  it('[LB-16] modify: change rows of type, old and new value are the JSON step; an emptied value is null', async () => {
    const user = userEvent.setup({ delay: null });
    render(<Harness steps={[newStep('modify', 'tablet')]} />);
    type('Step 1 change 1 new value', 'a@example.com');
    type('Step 1 change 1 old value', 'b@example.com');
    await user.click(screen.getByRole('button', { name: 'Add change to step 1' }));
    type('Step 1 change 2 type', 'customerid');
    type('Step 1 change 2 new value', 'c1');
    expect(lastStep()).toEqual({
      device: 'tablet',
      do: 'modify',
      changes: [
        { type: 'email', old: 'b@example.com', new: 'a@example.com' },
        { type: 'customerid', old: null, new: 'c1' },
      ],
    });
    expect(
      screen.getByText('1. modify on tablet: email b@example.com → a@example.com, customerid (none) → c1'),
    ).toBeTruthy();
    type('Step 1 change 1 old value', '');
    await user.click(screen.getByRole('button', { name: 'Remove change 2 of step 1' }));
    expect(lastStep()).toEqual({
      device: 'tablet',
      do: 'modify',
      changes: [{ type: 'email', old: null, new: 'a@example.com' }],
    });
    await user.click(screen.getByRole('button', { name: 'Remove change 1 of step 1' }));
    expect(lastStep()).toEqual({ device: 'tablet', do: 'modify', changes: [] });
    expect(screen.getByRole('group', { name: 'Step 1 changes' }).textContent).toContain('>=1 items');
  });

  it('[LB-16] expect: scalar, profile and device checks edited in the form are the JSON step; emptied checks are removed', async () => {
    const user = userEvent.setup({ delay: null });
    render(<Harness steps={[{ do: 'expect' }]} />);
    type('Step 1 profile count', 'two');
    expect(errorBeside('Step 1 profile count')).toContain('expected number');
    type('Step 1 profile count', '2');
    fireEvent.change(screen.getByLabelText('Step 1 converged'), { target: { value: 'true' } });
    fireEvent.change(screen.getByLabelText('Step 1 invariants'), { target: { value: 'false' } });
    await user.type(screen.getByLabelText('Step 1 absent labels'), '@gone, @never');
    await user.click(screen.getByRole('button', { name: 'Add profile check to step 1' }));
    type('Step 1 profile 1 MPID label', 'customer');
    expect(errorBeside('Step 1 profile 1 MPID label')).toContain('a label is $name');
    type('Step 1 profile 1 MPID label', '@customer');
    await user.click(screen.getByRole('button', { name: 'Add identity to profile 1 of step 1' }));
    await user.type(screen.getByLabelText('Step 1 profile 1 identity 1 values'), 'c1, c2');
    await user.click(screen.getByRole('button', { name: 'Add identity to profile 1 of step 1' }));
    type('Step 1 profile 1 identity 2 type', 'mobile_number');
    type('Step 1 profile 1 identity 2 values', '+100');
    type('Step 1 profile 1 events', 'login, purchase');
    fireEvent.change(screen.getByLabelText('Step 1 profile 1 orphaned'), { target: { value: 'false' } });
    await user.click(screen.getByRole('button', { name: 'Add device check to step 1' }));
    type('Step 1 tablet current user', 'visitor');
    expect(errorBeside('Step 1 tablet current user')).toContain('a label is $name');
    type('Step 1 tablet current user', '@customer');
    type('Step 1 tablet pending', '0');
    type('Step 1 tablet local events', '3');
    type('Step 1 tablet people', '@customer');
    expect(lastStep()).toEqual({
      do: 'expect',
      profileCount: 2,
      converged: true,
      invariants: false,
      absent: ['@gone', '@never'],
      profiles: [
        {
          mpid: '@customer',
          identities: { customerid: ['c1', 'c2'], mobile_number: ['+100'] },
          events: ['login', 'purchase'],
          orphaned: false,
        },
      ],
      devices: { tablet: { currentUser: '@customer', pending: 0, localEvents: 3, people: ['@customer'] } },
    });
    expect(ScenarioSchema.safeParse(file()).success).toBe(true);

    type('Step 1 profile count', '');
    fireEvent.change(screen.getByLabelText('Step 1 invariants'), { target: { value: '' } });
    type('Step 1 absent labels', '');
    await user.click(screen.getByRole('button', { name: 'Remove identity 1 of profile 1 of step 1' }));
    await user.click(screen.getByRole('button', { name: 'Remove tablet check of step 1' }));
    expect(lastStep()).toEqual({
      do: 'expect',
      converged: true,
      profiles: [
        {
          mpid: '@customer',
          identities: { mobile_number: ['+100'] },
          events: ['login', 'purchase'],
          orphaned: false,
        },
      ],
      devices: {},
    });
    await user.click(screen.getByRole('button', { name: 'Remove profile 1 of step 1' }));
    expect(lastStep()).toEqual({ do: 'expect', converged: true, profiles: [], devices: {} });
  });

  it('[LB-16] modify and expect: one field edited in the form changes that field only; notices and attributes stay as written', () => {
    render(<Harness steps={FULL_STEPS} />);
    expect(screen.getByText('Notice checks are kept as written; edit them in the JSON editor.')).toBeTruthy();
    expect(
      screen.getByText('Attribute checks are kept as written; edit them in the JSON editor.'),
    ).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>('Step 2 profile 1 identity 1 values').value).toBe(
      'c1, c2',
    );
    type('Step 2 tablet pending', '1');
    const expected = structuredClone(FULL_STEPS) as [unknown, { devices: { tablet: { pending: number } } }];
    expected[1].devices.tablet.pending = 1;
    expect(file().steps).toEqual(expected);
  });
});
