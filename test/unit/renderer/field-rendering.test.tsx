// @vitest-environment happy-dom
/**
 * How the Field screen renders (SPEC UP): the people list reads its layout only when the keyboard
 * moves it, never because the list changed; one identity call at a time from the form, although
 * the buttons show no spinner for a quick call.
 */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { firstValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { giveElementsASize, harnessPerTest } from './harness.tsx';

const { openApp: open } = harnessPerTest();

beforeAll(giveElementsASize);

describe('Field rendering', () => {
  it('[UP-3] a change of the people list does not read its layout; the keyboard still moves and scrolls', async () => {
    const { engine } = await open();
    await engine.login({ customerid: 'c-1' });
    const list = await screen.findByRole('listbox', { name: 'People on this device' });
    await waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(1));
    let layoutReads = 0;
    Object.defineProperty(list, 'scrollHeight', {
      configurable: true,
      get: () => {
        layoutReads += 1;
        return 56 * within(list).getAllByRole('option').length;
      },
    });

    for (const customer of ['c-2', 'c-3', 'c-4']) {
      await engine.nextPerson();
      await engine.login({ customerid: customer });
    }
    await waitFor(() => expect(within(list).getAllByRole('option')).toHaveLength(4));
    expect(layoutReads).toBe(0);

    list.focus();
    const user = userEvent.setup({ delay: null });
    await user.keyboard('{End}');
    await waitFor(() =>
      expect(list.getAttribute('aria-activedescendant')).toBe(within(list).getAllByRole('option').at(-1)?.id),
    );
  });

  it('[UP-2] two quick submits record one login: the second is refused while the first runs', async () => {
    const { engine } = await open();
    const user = userEvent.setup({ delay: null });
    await user.type(screen.getByLabelText('Customer ID'), 'c-77');
    const form = screen.getByRole('form', { name: 'Identify or log in' });
    fireEvent.submit(form);
    fireEvent.submit(form);
    expect(await screen.findByText('Logged in.')).toBeTruthy();
    await waitFor(async () => expect((await firstValueFrom(engine.status$)).pendingRequests).toBe(1));
    expect(screen.queryByRole('button', { name: 'Log in', busy: true })).toBeNull();
  });
});
