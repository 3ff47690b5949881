// @vitest-environment happy-dom
/**
 * The sync bar and the server's notices, with a real engine and a fake sync client whose rounds
 * the test ends: offline, syncing with progress, an error with retry, an unreachable server kept
 * quiet, "Work offline" kept across restarts, and a merge explained on the person it concerns.
 */
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../../shared/device/sync.ts';
import { giveElementsASize, harnessPerTest, openHarness } from './harness.tsx';

const SERVER = {
  kind: 'server',
  serverUrl: 'https://ids.example.com',
  apiKey: 'key-1',
  workspaceName: 'Shop',
} as const;
const { openApp } = harnessPerTest();

beforeAll(giveElementsASize);

function syncBar() {
  return within(screen.getByRole('region', { name: 'Sync' }));
}

describe('sync bar', () => {
  it('offline: says so and counts what waits to be synced', async () => {
    const harness = await openApp({ connection: SERVER, online: false });
    await harness.engine.login({ customerid: 'c-1' });
    await harness.engine.track('store_visit');
    const bar = syncBar();
    expect(bar.getByRole('status').textContent).toBe('Offline');
    expect(await bar.findByText('1 request and 1 event waiting to sync')).toBeTruthy();
    expect(bar.getByText('Never synced')).toBeTruthy();
    expect(harness.client.rounds).toHaveLength(0);
  });

  it('shows progress while a round runs, then when it last synced', async () => {
    const harness = await openApp({ connection: SERVER });
    const bar = syncBar();
    await waitFor(() => expect(harness.client.rounds).toHaveLength(1));
    // The bar renders the round's state after the round has started: wait for it, do not race it.
    await waitFor(() => expect(bar.getByRole('status').textContent).toBe('Syncing…'));
    harness.client.phase.next('pushing');
    await waitFor(() =>
      expect(bar.getByRole('status').textContent).toBe('Syncing: sending what was recorded here…'),
    );
    expect(
      bar.getByRole('progressbar', { name: 'Sync progress: Syncing: sending what was recorded here…' }),
    ).toBeTruthy();
    expect(bar.getByRole('button', { name: 'Sync now' })).toHaveProperty('disabled', true);
    harness.client.rounds[0]!.resolve();
    await waitFor(() => expect(bar.getByRole('status').textContent).toBe('Online'));
    expect(bar.getByText('Last synced just now')).toBeTruthy();
    expect(bar.queryByRole('progressbar')).toBeNull();
  });

  it('says what went wrong in words and retries', async () => {
    const harness = await openApp({ connection: SERVER });
    const user = userEvent.setup({ delay: null });
    await waitFor(() => expect(harness.client.rounds).toHaveLength(1));
    harness.client.rounds[0]!.reject(new SyncError('POST /sync/v1/requests/push answered 503: busy', 503));
    const alert = await syncBar().findByRole('alert');
    expect(within(alert).getByText('Sync did not finish')).toBeTruthy();
    expect(
      within(alert).getByText('The server had a problem (503). Nothing is lost; try again in a moment.'),
    ).toBeTruthy();
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    await waitFor(() => expect(harness.client.rounds).toHaveLength(2));
    harness.client.rounds[1]!.resolve();
    // The alert goes as soon as the retry starts; the round's end arrives after: wait for that.
    await waitFor(() => expect(syncBar().getByRole('status').textContent).toBe('Online'));
    expect(syncBar().queryByRole('alert')).toBeNull();
  });

  it('an unreachable server is the offline state, not an error', async () => {
    const harness = await openApp({ connection: SERVER });
    await waitFor(() => expect(harness.client.rounds).toHaveLength(1));
    harness.client.rounds[0]!.reject(new SyncError('the server is unreachable: fetch failed', null));
    await waitFor(() =>
      expect(syncBar().getByRole('status').textContent).toBe('Offline: the server cannot be reached'),
    );
    expect(syncBar().queryByRole('alert')).toBeNull();
  });

  it('syncs by itself when the browser comes online and a moment after local changes', async () => {
    const harness = await openApp({ connection: SERVER, online: false, debounceMs: 20 });
    const { client, network, engine } = harness;
    expect(syncBar().getByRole('status').textContent).toBe('Offline');
    network.set(true);
    await waitFor(() => expect(client.rounds).toHaveLength(1));
    client.rounds[0]!.resolve();
    await waitFor(() => expect(syncBar().getByRole('status').textContent).toBe('Online'));
    await engine.track('store_visit');
    await waitFor(() => expect(client.rounds).toHaveLength(2));
  });

  it('syncs at once after a login', async () => {
    const harness = await openApp({ connection: SERVER });
    const { client } = harness;
    await waitFor(() => expect(client.rounds).toHaveLength(1));
    client.rounds[0]!.resolve();
    await waitFor(() => expect(syncBar().getByRole('status').textContent).toBe('Online'));
    const user = userEvent.setup({ delay: null });
    await user.type(screen.getByLabelText('Customer ID'), 'c-5');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    await waitFor(() => expect(client.rounds).toHaveLength(2));
  });

  it('"Work offline" stops syncing and is remembered after a restart', async () => {
    const before = await openHarness({ connection: SERVER, online: false });
    const { unmount } = before.renderApp('#/');
    const user = userEvent.setup({ delay: null });
    await user.click(syncBar().getByRole('switch', { name: 'Work offline' }));
    expect(syncBar().getByRole('status').textContent).toBe('Working offline');
    expect(syncBar().getByRole('button', { name: 'Sync now' })).toHaveProperty('disabled', true);
    expect(localStorage.getItem('identity-sync:work-offline')).toBe('true');
    before.network.set(true);
    expect(before.client.rounds).toHaveLength(0);

    unmount();
    await before.close();
    const harness = await openApp({ connection: SERVER });
    expect(syncBar().getByRole('switch', { name: 'Work offline' })).toHaveProperty('checked', true);
    expect(syncBar().getByRole('status').textContent).toBe('Working offline');
    expect(harness.client.rounds).toHaveLength(0);
  });
});

describe('notices', () => {
  it('a merge is announced, and shown with the decisions explained on the person it concerns', async () => {
    const harness = await openApp({ connection: SERVER, online: false });
    const user = userEvent.setup({ delay: null });
    const login = await harness.engine.login({ customerid: 'c-7' });
    if (!login.ok) throw new Error(login.error.message);
    harness.client.notices.next({
      kind: 'merged',
      requestId: login.value.requestId,
      from: login.value.mpid,
      to: '4242424242',
      message: 'merged into an existing customer',
    });
    const toast = await screen.findByRole('alert');
    expect(within(toast).getByText('Merged into an existing customer')).toBeTruthy();
    await user.click(await screen.findByRole('option', { name: /c-7/ }));
    const detail = within(await screen.findByRole('region', { name: 'c-7' }));
    // The person's detail renders first; its notice and decisions arrive from live queries after.
    expect((await detail.findAllByText('Merged into an existing customer')).length).toBeGreaterThan(0);
    expect(
      await detail.findByText(
        `The server already knew this person, so what was recorded as ${login.value.mpid} now belongs to 4242424242.`,
      ),
    ).toBeTruthy();
    const decision = within(await detail.findByRole('article'));
    expect(await decision.findByText('Log in')).toBeTruthy();
    expect(decision.getByText('Waiting for the server')).toBeTruthy();
    expect(decision.getByText('Logged in as a new customer on a new profile.')).toBeTruthy();
    expect(
      decision.getByText(
        'Profile conversion: the login IDs are new and there is no anonymous profile to use, so a new customer profile was created.',
      ),
    ).toBeTruthy();
    expect(detail.getByRole('article').textContent).not.toMatch(/[{}]/);
  });
});
