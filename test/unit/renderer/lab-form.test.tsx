// @vitest-environment happy-dom
/**
 * The Lab's form editor (SPEC LB-10): it edits the same scenario text as the JSON editor, shows each
 * schema problem beside its field, keeps Run disabled while the file is invalid, and reorders steps
 * with buttons reached by keyboard.
 */
import { readFileSync } from 'node:fs';
import { MantineProvider } from '@mantine/core';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminApi } from '../../../renderer/src/features/admin/admin-api.ts';
import { AdminProvider } from '../../../renderer/src/features/admin/AdminContext.tsx';
import { AdminSessions } from '../../../renderer/src/features/admin/admin-session.ts';
import { LabPage } from '../../../renderer/src/features/admin/lab/LabPage.tsx';
import {
  moveStep,
  readDraft,
  scenarioProblems,
} from '../../../renderer/src/features/admin/lab/scenario-form.ts';
import { FULL_STEPS } from './lab-full-steps.ts';

const BASE = 'https://ids.example.com/admin/v1/';
/** The Lab opens on this example (the first of scenarios/; tests run from the repository root). */
const FIRST = JSON.parse(readFileSync('scenarios/01-offline-anonymous-then-login.json', 'utf8')) as {
  readonly steps: readonly unknown[];
} & Record<string, unknown>;

afterEach(cleanup);
// Mantine's autosizing textarea listens for font loads; happy-dom has no `document.fonts`.
if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { value: new EventTarget() });

function renderLab() {
  const api = new AdminApi(BASE, 't', () => Promise.reject(new Error('the form test runs nothing')));
  render(
    <MantineProvider>
      <AdminProvider
        value={{ sessions: new AdminSessions(BASE), session: { api, workspaces: [], workspace: 'default' } }}
      >
        <LabPage />
      </AdminProvider>
    </MantineProvider>,
  );
}

/** The scenario as the JSON editor holds it (switching to it and back loses nothing). */
async function jsonText(user: ReturnType<typeof userEvent.setup>): Promise<Record<string, unknown>> {
  await user.click(screen.getByRole('radio', { name: 'JSON' }));
  const text = screen.getByLabelText<HTMLTextAreaElement>('Scenario JSON').value;
  await user.click(screen.getByRole('radio', { name: 'Form' }));
  return JSON.parse(text) as Record<string, unknown>;
}

/** The text of the error Mantine links to a field (aria-describedby), empty when there is none. */
function errorBeside(field: HTMLElement): string {
  return (field.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' ');
}

function runButton(): HTMLButtonElement {
  return screen.getByRole('button', { name: 'Run under all five strategies' });
}

// Every keystroke re-renders the form and re-checks the scenario, which happy-dom runs slowly (8 s for
// the longest test here on an idle machine): give these tests room on a loaded one.
describe('the Lab form editor', { timeout: 90_000 }, () => {
  it('[LB-10] a step failing the step union is reported at the field of its own kind', () => {
    const steps = [...FIRST.steps, { device: 'tablet', do: 'track', event: '' }];
    expect(scenarioProblems({ ...FIRST, steps })).toEqual([
      {
        path: `steps[${steps.length - 1}].event`,
        message: 'Too small: expected string to have >=1 characters',
      },
    ]);
    expect(scenarioProblems({ ...FIRST, steps: [{ device: 'tablet', do: 'dance' }] })).toEqual([
      { path: 'steps[0]', message: 'not a known step kind, or fields of another kind' },
    ]);
    const draft = readDraft(JSON.stringify(FIRST));
    expect(draft === null ? null : moveStep(draft, 0, -1)).toBe(draft);
  });

  it('[LB-10] builds a scenario in the form and the JSON follows; a strategy the identities cannot use shows its problem beside it', async () => {
    const user = userEvent.setup({ delay: null });
    renderLab();
    await user.click(screen.getByRole('radio', { name: 'Form' }));
    const form = screen.getByRole('group', { name: 'Scenario form' });

    await user.clear(within(form).getByLabelText('Name'));
    await user.type(within(form).getByLabelText('Name'), 'two logins');
    await user.click(within(form).getByRole('combobox', { name: 'Strategy' }));
    await user.click(await screen.findByRole('option', { name: 'best_match', hidden: true }));
    expect(errorBeside(within(form).getByRole('combobox', { name: 'Strategy' }))).toContain(
      'best match has no login, unique or immutable identities',
    );
    expect(runButton().disabled).toBe(true);
    await user.click(within(form).getByRole('combobox', { name: 'Strategy' }));
    await user.click(await screen.findByRole('option', { name: 'profile_link', hidden: true }));
    const before = FIRST.steps.length;
    await user.click(within(form).getByRole('combobox', { name: 'New step kind' }));
    await user.click(await screen.findByRole('option', { name: 'login', hidden: true }));
    await user.click(within(form).getByRole('button', { name: 'Add step' }));
    const added = before + 1;
    await user.type(within(form).getByLabelText(`Step ${added} identity 1 value`), 'c-42');
    await user.click(within(form).getByRole('button', { name: `Add identity to step ${added}` }));
    await user.type(within(form).getByLabelText(`Step ${added} identity 2 value`), 'a@example.com');

    const json = await jsonText(user);
    expect(json['name']).toBe('two logins');
    expect((json['config'] as Record<string, unknown>)['strategy']).toBe('profile_link');
    expect((json['steps'] as unknown[]).at(-1)).toEqual({
      device: 'tablet',
      do: 'login',
      identities: { customerid: 'c-42', email: 'a@example.com' },
    });
    expect(runButton().disabled).toBe(false);
    await user.click(screen.getByRole('button', { name: `Remove step ${added}` }));
    expect((await jsonText(user))['steps']).toHaveLength(before);
  });

  it('[LB-10] an emptied field shows its error beside it and disables Run; steps reorder by keyboard', async () => {
    const user = userEvent.setup({ delay: null });
    renderLab();
    await user.click(screen.getByRole('radio', { name: 'Form' }));
    await user.clear(screen.getByLabelText('Name'));
    const name = screen.getByLabelText('Name');
    expect(name.getAttribute('aria-invalid')).toBe('true');
    expect(errorBeside(name)).toContain('expected string to have >=1 characters');
    expect(runButton().disabled).toBe(true);
    await user.type(screen.getByLabelText('Name'), 'two logins');
    expect(runButton().disabled).toBe(false);

    const firstKind = (await jsonText(user))['steps'] as { do: string }[];
    expect(firstKind.length).toBeGreaterThan(2);
    screen.getByRole('button', { name: 'Move step 1 down' }).focus();
    await user.keyboard('{Enter}');
    expect(document.activeElement?.getAttribute('aria-label')).toBe('Move step 2 down');
    const moved = (await jsonText(user))['steps'] as { do: string }[];
    expect(moved.map((s) => s.do)).toEqual([
      firstKind[1]?.do,
      firstKind[0]?.do,
      ...firstKind.slice(2).map((s) => s.do),
    ]);
    expect(screen.getByRole('button', { name: 'Move step 1 up' }).hasAttribute('disabled')).toBe(true);
  });

  it('[LB-16] a scenario with modify and expect steps, every field set, is unchanged after switching to the form and back', async () => {
    const user = userEvent.setup({ delay: null });
    renderLab();
    const text = `${JSON.stringify({ ...FIRST, steps: [...FIRST.steps, ...FULL_STEPS] }, null, 2)}\n`;
    fireEvent.change(screen.getByLabelText('Scenario JSON'), { target: { value: text } });
    await user.click(screen.getByRole('radio', { name: 'Form' }));
    const modify = FIRST.steps.length + 1;
    expect(screen.getByLabelText<HTMLInputElement>(`Step ${modify} change 2 old value`).value).toBe('+100');
    expect(screen.getByLabelText<HTMLInputElement>(`Step ${modify + 1} tablet people`).value).toBe(
      '@customer, @visitor',
    );
    expect(runButton().disabled).toBe(false);
    await user.click(screen.getByRole('radio', { name: 'JSON' }));
    expect(screen.getByLabelText<HTMLTextAreaElement>('Scenario JSON').value).toBe(text);
  });
});
