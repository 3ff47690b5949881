// @vitest-environment happy-dom
/**
 * The field screen against a real device engine: empty state, identify and log in checked as
 * typed, the current person, Next person on a shared device, the people list and its search.
 */
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeAll, describe, expect, it } from 'vitest';
import { giveElementsASize, harnessPerTest } from './harness.tsx';

const { openApp: open } = harnessPerTest();

beforeAll(giveElementsASize);

function currentPerson() {
  return within(screen.getByRole('region', { name: 'Current person' }));
}

describe('field screen', () => {
  it('starts empty: no current person, no people, local only', async () => {
    await open();
    expect(
      await screen.findByText('No one yet. Identify someone below, or record activity to start anonymously.'),
    ).toBeTruthy();
    expect(await screen.findByText('No people yet')).toBeTruthy();
    expect(screen.getByText('Local only: not connected to a server')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Next person' })).toHaveProperty('disabled', true);
  });

  it('identify shows the current person with the value as it will be saved', async () => {
    await open();
    const user = userEvent.setup({ delay: null });
    await user.type(screen.getByLabelText('Email'), '  Ann@Example.COM ');
    expect(screen.getByText('Will be saved as ann@example.com')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Identify' }));
    const card = currentPerson();
    expect(await card.findByText('ann@example.com')).toBeTruthy();
    expect(card.getByText('Anonymous')).toBeTruthy();
    expect(card.getByText('Recorded offline')).toBeTruthy();
    expect(screen.getByLabelText('Email')).toHaveProperty('value', '');
  });

  it('log in says what is wrong in words: a bad email, a blocked value, no login identity', async () => {
    const harness = await open();
    const user = userEvent.setup({ delay: null });
    await user.type(screen.getByLabelText('Customer ID'), 'guest');
    expect(
      screen.getByText('"guest" is a placeholder, not a customer ID: this workspace ignores it'),
    ).toBeTruthy();
    await user.clear(screen.getByLabelText('Customer ID'));
    await user.type(screen.getByLabelText('Email'), 'ann@');
    expect(screen.queryByText('Enter an email address like name@example.com')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(screen.getByText('Enter an email address like name@example.com')).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toBe('Correct the highlighted fields first.');
    await user.clear(screen.getByLabelText('Email'));
    await user.type(screen.getByLabelText('Email'), 'ann@example.com');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(screen.getByRole('alert').textContent).toBe('Log in needs a customer ID.');
    expect(await harness.engine.requests()).toEqual([]);
  });

  it('log in makes a known person current', async () => {
    await open();
    const user = userEvent.setup({ delay: null });
    await user.type(screen.getByLabelText('Customer ID'), 'c-1042');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    const card = currentPerson();
    expect(await card.findByText('c-1042')).toBeTruthy();
    expect(card.getByText('Known')).toBeTruthy();
    expect(screen.getByText('Logged in.')).toBeTruthy();
  });

  it('Next person clears every field and panel: nothing of the previous person stays on screen', async () => {
    const { engine } = await open();
    const user = userEvent.setup({ delay: null });
    await engine.login({ customerid: 'c-1', email: 'first@example.com' });
    const option = await screen.findByRole('option', { name: /c-1/ });
    await user.click(option);
    expect(await screen.findByRole('heading', { name: 'Decisions' })).toBeTruthy();
    await user.type(screen.getByRole('combobox', { name: 'Event name' }), 'half-typed');
    await user.type(screen.getByLabelText('Search people'), 'c-');
    await user.type(screen.getByLabelText('Customer ID'), 'c-2');

    await user.click(currentPerson().getByRole('button', { name: 'Next person' }));

    await waitFor(() => expect(screen.queryByRole('heading', { name: 'Decisions' })).toBeNull());
    const card = currentPerson();
    await waitFor(() => expect(card.queryByText('c-1')).toBeNull());
    expect(card.getByText(/^No one yet\./)).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText('Customer ID'));
    expect(screen.getByRole('combobox', { name: 'Event name' })).toHaveProperty('value', '');
    expect(screen.getByLabelText('Search people')).toHaveProperty('value', '');
    expect(screen.getByLabelText('Customer ID')).toHaveProperty('value', '');
    expect(window.location.hash).toBe('#/');
  });

  it('the people list searches by identity value or MPID and opens a person with the keyboard', async () => {
    const { engine } = await open();
    const user = userEvent.setup({ delay: null });
    await engine.login({ customerid: 'c-1' });
    await engine.nextPerson();
    await engine.login({ customerid: 'c-2', email: 'two@example.com' });
    await engine.nextPerson();
    const third = await engine.login({ customerid: 'c-3' });
    if (!third.ok) throw new Error(third.error.message);
    const list = await screen.findByRole('listbox', { name: 'People on this device' });
    await waitFor(() => expect(within(list).getAllByRole('option').length).toBeGreaterThanOrEqual(3));

    await user.type(screen.getByLabelText('Search people'), 'TWO@');
    await waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(1));
    expect(within(list).getByRole('option').textContent).toContain('c-2');

    await user.clear(screen.getByLabelText('Search people'));
    await user.type(screen.getByLabelText('Search people'), third.value.mpid.slice(-6));
    await waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(1));
    expect(within(list).getByRole('option').textContent).toContain('c-3');

    await user.clear(screen.getByLabelText('Search people'));
    await user.type(screen.getByLabelText('Search people'), 'nobody-here');
    expect(await screen.findByText('No one matches “nobody-here”.')).toBeTruthy();

    await user.clear(screen.getByLabelText('Search people'));
    const again = await screen.findByRole('listbox', { name: 'People on this device' });
    again.focus();
    await user.keyboard('{End}{Enter}');
    expect(await screen.findByRole('heading', { name: 'Decisions' })).toBeTruthy();
    expect(window.location.hash).toMatch(/^#\/person\/-?\d+$/);
  });
});
