// @vitest-environment happy-dom
/**
 * The admin pages' shared loading, error and done states (SPEC AC-39): one component, so every
 * page says the same things the same way.
 */
import { MantineProvider } from '@mantine/core';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Loaded } from '../../../renderer/src/features/admin/Loaded.tsx';
import type { CallState } from '../../../renderer/src/features/admin/useAdminCall.ts';

afterEach(cleanup);

function show(state: CallState<{ devices: string[] }>, retry = vi.fn()) {
  render(
    <MantineProvider>
      <Loaded state={state} what="devices" retry={retry} failedHeading={<h2>Devices</h2>}>
        {({ devices }) => <p>{devices.join(', ')}</p>}
      </Loaded>
    </MantineProvider>,
  );
  return retry;
}

describe('[AC-39] an admin read in each of its states', () => {
  it('says what it is loading, and nothing else', () => {
    show({ status: 'loading' });
    expect(screen.getByRole('status').textContent).toBe('Loading devices…');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByRole('heading')).toBeNull();
  });

  it('says what went wrong in words under its heading, and "Try again" reads again', async () => {
    const retry = show({ status: 'failed', failure: { kind: 'unauthorized' } });
    expect(screen.getByRole('heading', { name: 'Devices' })).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toBe(
      'The server refused this admin token: it is wrong or has been revoked.',
    );
    expect(retry).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('shows the answer once it came, without the heading meant for failures', () => {
    show({ status: 'done', value: { devices: ['kiosk-1', 'kiosk-2'] } });
    expect(screen.getByText('kiosk-1, kiosk-2')).toBeTruthy();
    expect(screen.queryByRole('status')).toBeNull();
    expect(screen.queryByRole('heading')).toBeNull();
  });
});
